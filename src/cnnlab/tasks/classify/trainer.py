"""Train a classifier through the engine; the public result of a classification run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from cnnlab.data import ImageData
from cnnlab.engine import runs
from cnnlab.engine.loop import LoopConfig, fit
from cnnlab.models import Classifier
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.evaluate import EvalResult
from cnnlab.tasks.classify.task import ClassifyTask


@dataclass
class TrainResult:
    """What a finished (or paused) run returns. `test` is None when the run was paused."""

    run_dir: Path
    model: Classifier
    meta: runs.ModelMeta
    history: list[dict[str, float]]
    test: EvalResult | None = None
    train_time_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Trainer:
    """Runs one classification training: the engine's loop over a ClassifyTask."""

    def __init__(self, cfg: TrainConfig, console: Console | None = None) -> None:
        self.cfg = cfg
        self.console = console or Console(soft_wrap=True)

    def fit(
        self,
        data: ImageData | None = None,
        resume: str | Path | None = None,
        stop_after: int | None = None,
    ) -> TrainResult:
        task = ClassifyTask(self.cfg, data)
        r = fit(task, LoopConfig.from_config(self.cfg), runs_dir=self.cfg.runs_dir,
                resume=resume, console=self.console, stop_after=stop_after)  # fmt: skip
        return TrainResult(r.folder, r.model, r.meta, r.history, r.test, r.train_time_s)
