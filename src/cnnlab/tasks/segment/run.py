"""`segment()`: train a segmentation model (2-D or 3-D) into a run folder through the engine,
then score the test split (per-class IoU and Dice beside the all-background baseline) and draw
overlays, slices and a 3-D rendering into the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from torch import nn

from cnnlab.data.scenes import SegData
from cnnlab.engine.loop import train_task
from cnnlab.tasks.segment.config import SegmentConfig
from cnnlab.tasks.segment.task import SegTask


@dataclass
class SegmentResult:
    """A finished segmentation run: its folder, the best model, per-epoch history, the test
    metrics (miou, mdice, pixel_acc, iou/<class>, dice/<class>, baseline_miou, ...)."""

    run_dir: Path
    model: nn.Module
    history: list[dict[str, float]]
    test: dict[str, float]
    train_time_s: float


def segment(
    config: SegmentConfig | dict[str, Any] | None = None,
    *,
    data: SegData | str | Path | None = None,
    console: Console | None = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    **overrides: Any,
) -> SegmentResult:
    """Train a segmentation model and write a run folder; returns the best model, history
    and test metrics. `resume` continues the run folder RUN (its saved config; overrides such
    as a larger `epochs` apply). `data` is a name or folder, or an already loaded SegData.

    Example: ``cnnlab.segment(data="volumes", model="unet", epochs=5)``
    Shapes: data images (N, C, H, W) or (N, 1, D, H, W) uint8, masks (N, *S) int64.
    """
    r = train_task(SegTask, config, data=data, resume=resume, stop_after=stop_after,
                   console=console, **overrides)  # fmt: skip
    return SegmentResult(r.folder, r.model, r.history, r.test or {}, r.train_time_s)


__all__ = ["SegmentConfig", "SegmentResult", "segment"]
