"""train() and load_run(): the Python face of training."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from rich.console import Console

from cnnlab.core.errors import ConfigError, RunError
from cnnlab.data import ImageData
from cnnlab.engine import runs
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.trainer import Trainer, TrainResult


def make_config(
    config: TrainConfig | dict[str, Any] | None = None, **overrides: Any
) -> TrainConfig:
    """A TrainConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    base = config.to_dict() if isinstance(config, TrainConfig) else dict(config or {})
    base.update(overrides)
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(base) - known)
    if unknown:
        raise ConfigError(f"unknown training option(s) {', '.join(unknown)}; see TrainConfig")
    if isinstance(base.get("model_args"), dict):
        base["model_args"] = dict(base["model_args"])
    try:
        return TrainConfig(**base)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


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
    loaded = data if isinstance(data, ImageData) else None
    if data is not None and loaded is None:
        overrides["data"] = str(data)
    elif loaded is not None:
        overrides.setdefault("data", loaded.origin or loaded.name)
    if resume is not None:
        saved = runs.read_config(Path(resume))
        runs.read_meta(Path(resume))  # a folder that is not a finished-epoch run fails here
        cfg = make_config(saved, **overrides)
    else:
        cfg = make_config(config, **overrides)
    return Trainer(cfg, console).fit(data=loaded, resume=resume, stop_after=stop_after)


def load_run(folder: str | Path) -> TrainResult:
    """The model and history of a run folder (weights of the best validation epoch)."""
    folder = Path(folder)
    model, meta = runs.load_model(folder)
    history = runs.read_metrics(folder)
    if not (folder / "config.yaml").is_file():
        raise RunError(f"{folder} has no config.yaml; it is not a cnnlab training run")
    return TrainResult(folder, model, meta, history)
