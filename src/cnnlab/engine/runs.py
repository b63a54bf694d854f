"""Run folders: atomic file writes, model weights (safetensors + JSON), training state."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from cnnlab.core.errors import RunError, first_line
from cnnlab.core.io import (
    atomic_torch_save,
    atomic_write,
    check_run_folder,
    new_folder,
    safe_name,
)
from cnnlab.models import Classifier, create_task_model

FORMAT = "cnnlab-model"


@dataclass
class ModelMeta:
    """What it takes to rebuild a model and feed it: saved as model.json."""

    model: str
    config: dict[str, Any]
    in_channels: int
    num_classes: int
    input_size: tuple[int, int]
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    data: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    task: str = "classify"  # classify, autoencode or segment; num_classes = output channels

    def build(self) -> torch.nn.Module:
        size = tuple(self.input_size)
        args = (self.task, self.model, self.in_channels, self.num_classes, size)
        return create_task_model(*args, **self.config)


def save_model(folder: Path, model: torch.nn.Module, meta: ModelMeta) -> None:
    """model.safetensors (fp32 weights) and model.json (architecture and preprocessing)."""
    state = {
        k: v.detach().float().contiguous() if v.is_floating_point() else v.contiguous()
        for k, v in model.state_dict().items()
    }
    atomic_write(folder / "model.safetensors", save(state))
    atomic_write(
        folder / "model.json",
        json.dumps({"format": FORMAT, "version": 1, **asdict(meta)}, indent=2),
    )


def read_meta(folder: Path) -> ModelMeta:
    folder = check_run_folder(folder)
    path = folder / "model.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} is corrupt ({exc}); re-train or restore the run") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise RunError(f"{path} was not written by cnnlab; give a run folder of `cnnlab train`")
    raw.pop("format")
    raw.pop("version", None)
    try:
        meta = ModelMeta(**raw)
    except TypeError as exc:
        raise RunError(f"{path} does not describe a cnnlab model ({exc})") from None
    meta.input_size = tuple(meta.input_size)  # type: ignore[assignment]
    return meta


def load_model(folder: Path) -> tuple[Classifier, ModelMeta]:  # or the task's model
    """Rebuild the model of a run folder with its saved weights, in eval mode."""
    folder = Path(folder)
    meta = read_meta(folder)
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise RunError(f"{folder} has no model.safetensors; the run never finished an epoch")
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunError(f"{weights} is corrupt ({exc}); re-train or restore the run") from None
    model = meta.build()
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = first_line(exc, 300)
        raise RunError(
            f"{weights} does not fit model {meta.model!r} ({first}); the weights come from "
            "another model, re-train the run"
        ) from None
    return model.eval(), meta


def load_state(folder: Path) -> dict[str, Any]:
    path = Path(folder) / "state.pt"
    if not path.is_file():
        raise RunError(f"{folder} has no state.pt to resume from; start a new run instead")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises many kinds for a damaged file
        msg = first_line(exc)
        raise RunError(
            f"{path} is corrupt ({msg}); resume is impossible, start a new run"
        ) from None


def write_config(folder: Path, cfg: dict[str, Any]) -> None:
    atomic_write(folder / "config.yaml", yaml.safe_dump(cfg, sort_keys=False))


def write_metrics(folder: Path, rows: list[dict[str, Any]]) -> None:
    """metrics.csv, one row per epoch, rewritten whole (it is small)."""
    if not rows:
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
    atomic_write(folder / "metrics.csv", buf.getvalue())


def read_metrics(folder: Path) -> list[dict[str, float]]:
    path = Path(folder) / "metrics.csv"
    if not path.is_file():
        return []
    with path.open() as f:
        return [
            {k: float(v) for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(f)
        ]


def new_run_folder(runs_dir: str | Path, name: str) -> Path:
    """A fresh folder runs_dir/name (name-2, name-3, ... if taken); a name made from data or
    model names is made safe first (one folder, safe characters)."""
    return new_folder(runs_dir, safe_name(name))


def checkpoint(folder, model, opt, meta, state, improved, tb, row) -> None:
    """Save the best model (when improved), state.pt for resume, metrics.csv, TensorBoard."""
    if improved:
        save_model(folder, model, meta)
    model_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    atomic_torch_save({**state, "model": model_state, "optimizer": opt.state_dict(), "rng": rng},
                      folder / "state.pt")  # fmt: skip
    write_metrics(folder, state["history"])
    if tb is not None:
        for k, v in row.items():
            if k != "epoch":
                tb.add_scalar(k, v, row["epoch"])
        tb.flush()


def tensorboard_writer(folder: Path):
    """A TensorBoard SummaryWriter into the run folder (None if tensorboard is broken)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # a broken tensorboard install must not stop training
        return None
    return SummaryWriter(log_dir=str(folder))


def read_results(folder: Path) -> dict[str, Any]:
    """A finished run's results.json (what a task's report is drawn from)."""
    path = Path(folder) / "results.json"
    if not path.is_file():
        raise RunError(f"{folder} has no results.json yet: the run has not finished; resume it")
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RunError(f"{path} is damaged ({exc}); train the run again") from None


RUNNING = "running.json"  # in a run folder while a process trains it (the web app reads it)


def mark_running(folder: Path) -> None:
    """folder/running.json with this process's id, while it trains the run."""
    import json
    import os
    import socket
    import time

    atomic_write(Path(folder) / RUNNING, json.dumps({"pid": os.getpid(), "host":
                 socket.gethostname(), "started": time.time()}))  # fmt: skip


def clear_running(folder: Path) -> None:
    (Path(folder) / RUNNING).unlink(missing_ok=True)
