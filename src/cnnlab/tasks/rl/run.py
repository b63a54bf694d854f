"""`rl()`: train a DQN agent into a run folder through the engine (the Python face of
`cnnlab rl`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from cnnlab.engine.loop import FitResult, train_task
from cnnlab.tasks.rl.config import RLConfig, make_rl_config
from cnnlab.tasks.rl.task import RLTask


def rl(
    config: RLConfig | dict[str, Any] | None = None,
    *,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    console: Console | None = None,
    **overrides: Any,
) -> FitResult:
    """Train a DQN agent and write a run folder; `result.test` holds the kept agent's mean
    evaluation return beside random play's.

    `resume` continues the run folder RUN (a larger `steps` extends it); `stop_after` pauses
    after that many evaluations of this call.

    Example: ``cnnlab.rl(env="minatar-breakout", model="q-cnn", steps=200_000)``
    Shapes: frames (C, H, W) uint8 in, one Q-value per action out.
    """
    return train_task(RLTask, config, resume=resume, stop_after=stop_after, console=console,
                      **overrides)  # fmt: skip


__all__ = ["RLConfig", "make_rl_config", "rl"]
