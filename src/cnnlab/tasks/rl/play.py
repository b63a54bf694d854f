"""Playing an environment: with random actions (the floor every run measures) or with an
agent's network, epsilon-greedily (evaluation, `cnnlab play`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

MAX_EPISODE = 27_000  # steps an evaluation episode may last (about 30 minutes of Atari)


def play_random(env: Any, actions: int, episodes: int, seed: int) -> list[float]:
    """Returns of `episodes` episodes of uniformly random actions."""
    rng, out = np.random.default_rng(seed), []
    for i in range(episodes):
        env.reset(seed + 10_000 + i)
        total, done, t = 0.0, False, 0
        while not done and t < MAX_EPISODE:
            _, r, done = env.step(int(rng.integers(actions)))
            total, t = total + r, t + 1
        out.append(total)
    return out


def scale_frames(
    frames: np.ndarray | torch.Tensor, scale: float, device: Any = None
) -> torch.Tensor:
    """uint8 frames as the network's floats in [0, 1]. Shapes: (B, C, H, W) -> same."""
    x = torch.as_tensor(frames, device=device).float()
    return x / scale if scale != 1.0 else x


@torch.no_grad()
def play_agent(model: nn.Module, env: Any, spec: Any, episodes: int, epsilon: float, seed: int,
               on_step: Any = None) -> list[float]:  # fmt: skip
    """Returns of `episodes` episodes played epsilon-greedily by `model`; `on_step(frame, q,
    action, reward)` sees every step (for a GIF)."""
    rng, out = np.random.default_rng(seed), []
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    for i in range(episodes):
        frame, total, done, t = env.reset(seed + i), 0.0, False, 0
        while not done and t < MAX_EPISODE:
            q = model(scale_frames(frame[None], spec.scale, device)).float()[0]
            a = int(rng.integers(spec.actions)) if rng.random() < epsilon else int(q.argmax())
            nxt, r, done = env.step(a)
            if on_step is not None:
                on_step(frame, q.cpu().numpy(), a, r)
            frame, total, t = nxt, total + r, t + 1
        out.append(total)
    model.train(was)
    return out
