"""`locate()`: train a network that finds an object on a table in a camera image, into a run
folder through the engine; the test split's errors in cm, figures and the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from torch import nn

from cnnlab.data.tabletop import LocateData
from cnnlab.engine.loop import train_task
from cnnlab.tasks.locate.config import LocateConfig
from cnnlab.tasks.locate.task import LocateTask


@dataclass
class LocateResult:
    """A finished locate run: its folder, the best model, per-epoch history and the test
    metrics (mean_cm, median_cm, p95_cm, within_1cm, yaw_median_deg, floor_..., n)."""

    run_dir: Path
    model: nn.Module
    history: list[dict[str, float]]
    test: dict[str, Any]
    train_time_s: float


def locate(
    config: LocateConfig | dict[str, Any] | None = None,
    *,
    data: LocateData | str | Path | None = None,
    console: Console | None = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    **overrides: Any,
) -> LocateResult:
    """Train a locator and write a run folder; returns the best model, history and test
    errors. `data` is a name, a .npz or a folder, or an already loaded LocateData.

    Example: ``cnnlab.locate(data="tabletop", model="locate-coordconv", epochs=20)``
    Shapes: images (N, 3, H, W) uint8; targets (N, 3): x cm, y cm, yaw rad.
    """
    r = train_task(LocateTask, config, data=data, resume=resume, stop_after=stop_after,
                   console=console, **overrides)  # fmt: skip
    return LocateResult(r.folder, r.model, r.history, r.test or {}, r.train_time_s)


__all__ = ["LocateConfig", "LocateResult", "locate"]
