"""train() and load_run(): the Python face of classification."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from cnnlab.core.config import make_config as _make
from cnnlab.core.errors import RunError
from cnnlab.core.io import find_run
from cnnlab.data import ImageData
from cnnlab.engine import runs
from cnnlab.engine.loop import train_task
from cnnlab.models import Classifier
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.evaluation import EvalResult
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


def make_config(
    config: TrainConfig | dict[str, Any] | None = None, **overrides: Any
) -> TrainConfig:
    """A TrainConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    return _make(TrainConfig, config, "training", **overrides)


def train(
    config: TrainConfig | dict[str, Any] | None = None,
    *,
    data: ImageData | str | Path | None = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    console: Console | None = None,
    **overrides: Any,
) -> TrainResult:
    """Train a classifier and write a run folder; returns the model, history and test metrics.

    `resume` continues the run folder RUN (its saved config, with `overrides` such as a larger
    `epochs`); `stop_after` pauses after that many epochs of this call (resume later).
    `data` is a dataset name or folder (the config's `data`), or an already loaded ImageData.

    Example: ``cnnlab.train(data="fashion-mnist", model="cnn-bn", epochs=5)``
    """
    if resume is None:  # a recipe's settings, under the options given
        from cnnlab.tasks.classify.recipes import config_with_recipe

        config, overrides = config_with_recipe(config, overrides)
    r = train_task(ClassifyTask, config, data=data, resume=resume, stop_after=stop_after,
                   console=console, **overrides)  # fmt: skip
    return TrainResult(r.folder, r.model, r.meta, r.history, r.test, r.train_time_s)


def load_run(folder: str | Path) -> TrainResult:
    """The model and history of a run folder (weights of the best validation epoch); `last`
    or `last:PREFIX` names the newest run under runs/."""
    folder = find_run(folder)
    model, meta = runs.load_model(folder)
    history = runs.read_metrics(folder)
    if not (folder / "config.yaml").is_file():
        raise RunError(f"{folder} has no config.yaml; it is not a cnnlab training run")
    return TrainResult(folder, model, meta, history)
