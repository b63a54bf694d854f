"""Experience replay for DQN: a ring buffer of transitions (frame, action, return, next frame,
done, discount) with frames kept as uint8, or packed 8 pixels to a byte when they are 0/1 (the
MinAtar and catch grids: a 10x10x4 frame takes 50 bytes), and the n-step returns folded in as
transitions arrive.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from cnnlab.core.errors import ConfigError

MAX_BYTES = 8 * 1024**3  # a buffer larger than this is refused, with the size that would fit


class Replay:
    """`capacity` transitions of frames `shape` (C, H, W); `binary` frames (0/1) are packed."""

    def __init__(self, capacity: int, shape: tuple[int, ...], binary: bool) -> None:
        self.capacity, self.shape, self.binary = max(1, capacity), tuple(shape), binary
        pixels = int(np.prod(shape))
        self.width = (pixels + 7) // 8 if binary else pixels
        need = self.capacity * (2 * self.width + 10)
        if need > MAX_BYTES:
            fit = MAX_BYTES // (2 * self.width + 10)
            raise ConfigError(f"a replay buffer of {capacity:,} transitions of {shape} frames "
                              f"needs {need / 1024**3:.1f} GiB; give --buffer {fit:,} or "
                              "less")  # fmt: skip
        self.obs = np.zeros((self.capacity, self.width), np.uint8)
        self.next = np.zeros((self.capacity, self.width), np.uint8)
        self.action = np.zeros(self.capacity, np.int64)
        self.ret = np.zeros(self.capacity, np.float32)
        self.done = np.zeros(self.capacity, np.float32)
        self.discount = np.zeros(self.capacity, np.float32)
        self.size = self.at = 0

    @property
    def nbytes(self) -> int:
        arrays = (self.obs, self.next, self.action, self.ret, self.done, self.discount)
        return sum(a.nbytes for a in arrays)

    def _pack(self, frame: np.ndarray) -> np.ndarray:
        flat = frame.reshape(-1)
        return np.packbits(flat.astype(bool)) if self.binary else flat

    def _unpack(self, rows: np.ndarray) -> np.ndarray:
        pixels = int(np.prod(self.shape))
        if self.binary:
            rows = np.unpackbits(rows, axis=1, count=pixels)
        return rows.reshape(len(rows), *self.shape)

    def add(self, obs: np.ndarray, action: int, ret: float, nxt: np.ndarray, done: bool,
            discount: float) -> None:  # fmt: skip
        i = self.at
        self.obs[i], self.next[i] = self._pack(obs), self._pack(nxt)
        self.action[i], self.ret[i], self.done[i], self.discount[i] = action, ret, done, discount
        self.at = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        """n transitions drawn uniformly (with replacement); without replay (capacity below n)
        the latest ones. Shapes: frames (n, C, H, W) uint8, actions (n,) int64, returns,
        dones and discounts (n,) float32."""
        if self.capacity < n:
            idx = (self.at - 1 - np.arange(min(n, self.size))) % self.capacity
        else:
            idx = rng.integers(0, self.size, n)
        return (torch.from_numpy(self._unpack(self.obs[idx])), torch.from_numpy(self.action[idx]),
                torch.from_numpy(self.ret[idx]), torch.from_numpy(self._unpack(self.next[idx])),
                torch.from_numpy(self.done[idx]), torch.from_numpy(self.discount[idx]))  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        """The stored transitions as tensors (state.pt is read with weights_only)."""
        n = self.size
        keys = ("obs", "next", "action", "ret", "done", "discount")
        return {**{k: torch.from_numpy(getattr(self, k)[:n].copy()) for k in keys}, "at": self.at}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        n = len(d["action"])
        if n > self.capacity or tuple(d["obs"].shape[1:]) != (self.width,):
            raise ConfigError("the saved replay memory does not fit this run's buffer")
        for k in ("obs", "next", "action", "ret", "done", "discount"):
            getattr(self, k)[:n] = d[k].numpy()
        self.size, self.at = n, int(d["at"])


class NStep:
    """Folds the last n transitions of one environment into n-step ones: (frame_t, action_t,
    sum_k gamma^k r_{t+k}, frame_{t+n}, done, gamma^n), and flushes the rest when an episode
    ends."""

    def __init__(self, n: int, gamma: float) -> None:
        self.n, self.gamma = n, gamma
        self.pending: deque[tuple[np.ndarray, int, float]] = deque()

    def push(self, obs: np.ndarray, action: int, reward: float, nxt: np.ndarray,
             done: bool) -> list[tuple]:  # fmt: skip
        self.pending.append((obs, action, reward))
        out = []
        if len(self.pending) == self.n:
            out.append(self._emit(nxt, done))
        if done:
            while self.pending:
                out.append(self._emit(nxt, True))
        return out

    def _emit(self, nxt: np.ndarray, done: bool) -> tuple:
        obs, action, _ = self.pending[0]
        ret = sum(r * self.gamma**k for k, (_, _, r) in enumerate(self.pending))
        discount = self.gamma ** len(self.pending)
        self.pending.popleft()
        return obs, action, float(ret), nxt, done, discount
