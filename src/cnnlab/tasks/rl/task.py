"""DQN as an engine task: the loop is interaction, not passes over data.

An epoch of the engine is `eval_every` environment steps: `train_batches` plays them (epsilon-
greedy with the online network, all environments acting in one batched forward pass), stores
the transitions, and yields a replay sample every `train_every` steps; `step` is the Double-DQN
Huber loss against the target network. `val_batches` plays evaluation episodes (epsilon
`eval_epsilon`) and yields each episode's return; the kept model is the best evaluated one.
The replay memory, the environments (when they can be pickled), the counters and the random
generators go into state.pt, so `--resume` continues where the run stopped.
"""

from __future__ import annotations

import copy
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.engine import runs
from cnnlab.engine.task import Context, Task
from cnnlab.models.registry import create_task_model
from cnnlab.tasks.rl.config import TASK, RLConfig
from cnnlab.tasks.rl.envs import make_env
from cnnlab.tasks.rl.play import play_agent, play_random, scale_frames
from cnnlab.tasks.rl.replay import NStep, Replay

PARTS = ("act", "env", "store", "sample", "learn")  # where a training step's time goes


def epsilon_at(step: int, cfg: RLConfig) -> float:
    start, end = cfg.epsilon
    return end + (start - end) * max(0.0, 1.0 - step / cfg.epsilon_steps)


class RLTask(Task):
    name = TASK
    command = "rl"
    help = ("train a DQN agent that plays from pixels (q-cnn, q-mlp, nature-cnn); writes "
            "runs/<name>/ (docs/rl.md)")  # fmt: skip
    config_cls = RLConfig
    keep = "best"

    def __init__(self, cfg: RLConfig, data: Any = None) -> None:
        self.cfg = cfg
        self.kwargs = dict(cfg.model_args)
        self.run_name = cfg.name or f"{cfg.model}-{cfg.env}"
        self.times = dict.fromkeys(PARTS, 0.0)  # this epoch's seconds per part of a step
        self.epoch_start = 0  # env steps played before this epoch
        self.device = torch.device("cpu")  # where the target network is

    # ---- setting up ------------------------------------------------------------------------
    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        cfg = self.cfg
        self.envs = [make_env(cfg.env) for _ in range(cfg.num_envs)]
        self.eval_env = make_env(cfg.env)
        self.spec = self.envs[0].spec()
        c, h, w = self.spec.shape
        binary = self.spec.scale == 1.0  # 0/1 grids: packed 8 pixels to a byte
        self.replay = Replay(cfg.buffer or cfg.num_envs, self.spec.shape, binary=binary)
        self.nsteps = [NStep(cfg.n_step, cfg.gamma) for _ in self.envs]
        self.rng = np.random.default_rng(cfg.seed)
        self.frames = [e.reset(cfg.seed * 1000 + i) for i, e in enumerate(self.envs)]
        self.running = [0.0] * len(self.envs)
        self.env_steps = self.updates = self.since = 0
        self.episodes: list[tuple[int, float, float]] = []  # (env step, seconds, return)
        self.clock = time.perf_counter()
        self.random = play_random(make_env(cfg.env), self.spec.actions, cfg.test_episodes, cfg.seed)
        ctx.log(f"env: {self.spec.name}, frames {c}x{h}x{w}, {self.spec.actions} actions "
                f"({', '.join(self.spec.action_names)}); random play returns "
                f"{np.mean(self.random):.2f} a episode; replay {self.replay.capacity:,} "
                f"transitions, {self.replay.nbytes / 1e6:.1f} MB")  # fmt: skip

    def build_model(self) -> nn.Module:
        torch.manual_seed(self.cfg.seed)
        c, h, w = self.spec.shape
        self.online = create_task_model(TASK, self.cfg.model, c, self.spec.actions, (h, w),
                                         **self.kwargs)  # fmt: skip
        self.target = copy.deepcopy(self.online).requires_grad_(False) if self.cfg.target else None
        return self.online

    def meta(self, model: nn.Module) -> runs.ModelMeta:
        c, h, w = self.spec.shape
        # normalize() computes (x / 255 - mean) / std: std scale / 255 gives x / scale
        return runs.ModelMeta(model=self.cfg.model, config=self.kwargs, in_channels=c,
                              num_classes=self.spec.actions, input_size=(h, w),
                              classes=list(self.spec.action_names), mean=(0.0,) * c,
                              std=(self.spec.scale / 255,) * c, data=self.spec.name, task=TASK,
                              extra={"random_return": float(np.mean(self.random))})  # fmt: skip

    def param_groups(self, model: nn.Module) -> list[dict[str, Any]]:
        """One group (the optimizer's one fused kernel per step; weight decay, when asked for,
        on every parameter)."""
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]

    def describe(self, model: nn.Module) -> str:
        return f"{self.cfg.steps:,} env steps, {len(self.envs)} env(s)"

    # ---- playing -----------------------------------------------------------------------------
    def _scaled(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        return scale_frames(frames, self.spec.scale, next(self.online.parameters()).device)

    @torch.no_grad()
    def _act(self, frames: list[np.ndarray], epsilon: float, rng: np.random.Generator) -> list[int]:
        greedy = self.online(self._scaled(np.stack(frames))).argmax(1).tolist()
        return [int(rng.integers(self.spec.actions)) if rng.random() < epsilon else g
                for g in greedy]  # fmt: skip

    def num_train_batches(self) -> int:
        return max(1, self.cfg.eval_every // (self.cfg.train_every * len(self.envs)))

    def train_batches(self, epoch: int) -> Iterator[Any]:
        """Play this epoch's environment steps; a replay sample every train_every steps. The
        time of each part is summed in self.times (acting, environment, storing, sampling,
        learning: the engine's step between two samples)."""
        cfg, now = self.cfg, time.perf_counter
        end = min(cfg.steps, (epoch + 1) * cfg.eval_every)
        times = self.times = dict.fromkeys(PARTS, 0.0)
        self.epoch_start = self.env_steps
        while self.env_steps < end:
            t0 = now()
            actions = self._act(self.frames, epsilon_at(self.env_steps, cfg), self.rng)
            t1 = now()
            times["act"] += t1 - t0
            for i, (env, a) in enumerate(zip(self.envs, actions, strict=True)):
                t1 = now()
                nxt, r, done = env.step(a)
                t2 = now()
                times["env"] += t2 - t1
                for t in self.nsteps[i].push(self.frames[i], a, r, nxt, done):
                    self.replay.add(*t)
                self.running[i] += r
                if done:
                    self.episodes.append((self.env_steps + 1, t2 - self.clock, self.running[i]))
                    self.running[i] = 0.0
                    nxt = env.reset()
                self.frames[i] = nxt
                times["store"] += now() - t2
            self.env_steps += len(self.envs)
            self.since += len(self.envs)
            ready = self.env_steps >= cfg.learning_starts and self.replay.size >= 1
            if ready and (self.env_steps // len(self.envs)) % cfg.train_every == 0:
                t3 = now()
                batch = self.replay.sample(cfg.batch_size, self.rng)
                t4 = now()
                times["sample"] += t4 - t3
                yield batch
                self.updates += 1
                if self.target is not None and self.updates % cfg.target_every == 0:
                    self.target.load_state_dict(self.online.state_dict())
                times["learn"] += now() - t4

    def step(self, model: nn.Module, batch: Any, stage: str):
        if stage == "val":
            (ret,) = batch
            return torch.zeros(()), {"n": 1, "return": ret.sum(), "loss": -ret.sum()}
        obs, action, ret, nxt, done, discount = batch
        q = model(self._scaled(obs)).float().gather(1, action[:, None])[:, 0]
        with torch.no_grad():
            judge = self.target if self.target is not None else self.online
            if obs.device != self.device:
                self.device = obs.device  # the engine's: the target net follows once
                judge.to(obs.device)
            nxt_x = self._scaled(nxt)
            if self.cfg.double:
                best = self.online(nxt_x).argmax(1, keepdim=True)
                q_next = judge(nxt_x).float().gather(1, best)[:, 0]
            else:
                q_next = judge(nxt_x).float().max(1).values
            y = ret + discount * (1.0 - done) * q_next
        loss = F.smooth_l1_loss(q, y)
        n, self.since = self.since, 0
        return loss, {"n": n, "loss": loss.detach(), "q": q.detach().mean(), "updates": 1}

    def summarize(self, stage: str, sums: dict[str, torch.Tensor]) -> dict[str, float]:
        if stage == "val":
            return super().summarize(stage, sums)
        k = max(1.0, float(sums.get("updates", 0)))
        row = {
            "train/loss": float(sums.get("loss", 0.0)) / k,
            "train/q": float(sums.get("q", 0.0)) / k,
        }
        done = [r for s, _, r in self.episodes if s > self.env_steps - self.cfg.eval_every]
        if done:
            row["train/return"] = float(np.mean(done))
        row["env_steps"] = float(self.env_steps)
        steps = max(1, self.env_steps - self.epoch_start)
        row.update({f"ms/{k}": 1000 * v / steps for k, v in self.times.items()})
        return row

    def val_batches(self) -> Iterator[Any]:
        cfg = self.cfg
        for i in range(cfg.eval_episodes):
            (ret,) = play_agent(self.online, self.eval_env, self.spec, 1, cfg.eval_epsilon,
                                cfg.seed + 20_000 + 97 * i)  # fmt: skip
            yield (torch.tensor([ret]),)

    def epoch_line(self, row: dict[str, float], epochs: int) -> str:
        parts = [f"epoch {int(row['epoch'])}/{epochs}", f"steps {int(row['env_steps']):,}"]
        for key, label in (("train/return", "train return"), ("val/return", "eval return"),
                           ("train/loss", "loss"), ("train/q", "Q")):  # fmt: skip
            if key in row:
                parts.append(f"{label} {row[key]:.3g}")
        parts.append(f"{row['img_per_s']:,.0f} steps/s  {row['time']:.1f} s")
        return "  ".join(parts)

    # ---- resume ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        envs = None
        try:  # as a byte tensor: state.pt is read with weights_only
            envs = torch.frombuffer(bytearray(pickle.dumps((self.envs, self.eval_env))),
                                    dtype=torch.uint8)  # fmt: skip
        except Exception:  # noqa: BLE001  # an environment that cannot be saved restarts
            pass
        frames = [torch.from_numpy(f.copy()) for f in self.frames]
        return {"replay": self.replay.state_dict(), "envs": envs, "frames": frames,
                "running": self.running, "env_steps": self.env_steps, "updates": self.updates,
                "episodes": self.episodes, "rng": self.rng.bit_generator.state,
                "target": None if self.target is None else self.target.state_dict(),
                "nsteps": [[(torch.from_numpy(o.copy()), a, r) for o, a, r in n.pending]
                           for n in self.nsteps]}  # fmt: skip

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.replay.load_state_dict(d["replay"])
        if d.get("envs") is not None:
            self.envs, self.eval_env = pickle.loads(d["envs"].numpy().tobytes())  # noqa: S301
            self.frames = [f.numpy() for f in d["frames"]]
            self.running = list(d["running"])
            for n, pending in zip(self.nsteps, d["nsteps"], strict=True):
                n.pending.extend((o.numpy(), a, r) for o, a, r in pending)
        self.env_steps, self.updates = int(d["env_steps"]), int(d["updates"])
        self.episodes = [tuple(e) for e in d["episodes"]]
        self.rng.bit_generator.state = d["rng"]
        if self.target is not None and d.get("target") is not None:
            self.target.load_state_dict(d["target"])
        self.clock = time.perf_counter() - (self.episodes[-1][1] if self.episodes else 0.0)

    # ---- the end -------------------------------------------------------------------------------
    def finish(self, folder: Path, model: nn.Module, result: Any) -> dict[str, float]:
        from cnnlab.tasks.rl.results import write_rl_results

        return write_rl_results(folder, self, model, result)

    @staticmethod
    def report(folder: Path) -> Path:
        from cnnlab.tasks.rl.results import rl_report

        return rl_report(folder)
