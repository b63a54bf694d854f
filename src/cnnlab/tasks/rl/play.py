"""Playing an environment: with random actions (the floor every run measures) or with an
agent's network, epsilon-greedily (evaluation, `cnnlab play`)."""

from __future__ import annotations

from pathlib import Path
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


def load_agent(run: Path) -> tuple[nn.Module, Any, Any, Any]:
    """A finished or paused RL run's kept network, its model.json, config and a fresh copy
    of its environment; one RunError line for a run of another task."""
    from cnnlab.core.errors import RunError
    from cnnlab.core.io import read_config
    from cnnlab.engine.runs import load_model, read_meta
    from cnnlab.tasks.rl.envs import make_env

    meta = read_meta(run)
    if meta.task != "rl":
        raise RunError(f"{run} is a {meta.task} run; cnnlab play needs a run of cnnlab rl")
    model, _ = load_model(run)
    cfg = read_config(run)
    return model.eval(), meta, cfg, make_env(str(cfg["env"]))


def play_run(run: Path, episodes: int = 10, epsilon: float | None = None, seed: int = 1,
             gif: Path | None = None,
             gif_steps: int = 400) -> tuple[list[float], float, Any]:  # fmt: skip
    """Play `episodes` episodes with a run's agent (epsilon: the run's eval_epsilon); with
    `gif`, the first episode's first `gif_steps` steps drawn with their Q-values. Returns the
    returns, the random play level saved with the run, and the GIF's path."""
    from cnnlab.core.io import atomic_write
    from cnnlab.viz.game import agent_picture, write_gif

    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    model, meta, cfg, env = load_agent(run)
    spec = env.spec()
    eps = float(cfg.get("eval_epsilon", 0.05)) if epsilon is None else epsilon
    pictures: list[Any] = []
    total = 0.0

    def draw(frame: np.ndarray, q: np.ndarray, action: int, reward: float) -> None:
        nonlocal total
        if len(pictures) < gif_steps:
            total += reward
            caption = f"step {len(pictures) + 1}  return {total:g}"
            pictures.append(agent_picture(frame, spec.scale, q, action, spec.action_names, caption))

    returns = play_agent(model, env, spec, 1, eps, seed, on_step=draw if gif is not None else None)
    if episodes > 1:
        returns += play_agent(model, env, spec, episodes - 1, eps, seed + 1)
    written = None
    if gif is not None:
        atomic_write(Path(gif), write_gif(pictures))
        written = Path(gif)
    return returns, float(meta.extra.get("random_return", float("nan"))), written


@torch.no_grad()
def game_frame(run: Path, steps: int = 30, seed: int = 1) -> tuple[nn.Module, Any, Any, Any, Any]:
    """A frame of a run's game after `steps` steps of the agent's greedy play (an earlier one
    when the episode ends first): (model, spec, frame (C, H, W) uint8, the network's input
    (1, C, H, W), its Q-values (actions,))."""
    model, _, _, env = load_agent(run)
    spec = env.spec()
    frame = env.reset(seed)
    for _ in range(steps):
        q = model(scale_frames(frame[None], spec.scale)).float()[0]
        nxt, _, done = env.step(int(q.argmax()))
        if done:
            break
        frame = nxt
    x = scale_frames(frame[None], spec.scale)
    return model, spec, frame, x, model(x).float()[0].numpy()
