"""A transferred model as a run folder of its own.

The saved model takes the target's images exactly as every cnnlab classifier does (its
channels and size, normalized with the target's mean/std) and adapts them to the backbone
inside, so `cnnlab predict`, `evaluate` and the report work on it unchanged. Its architecture
is rebuilt from model.json alone (the backbone's own description is stored there), so the run
still loads when the backbone's folder is gone.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cnnlab.core.errors import ModelError
from cnnlab.core.io import atomic_write
from cnnlab.data import ImageData
from cnnlab.models.transferred import InputAdapter, TransferredClassifier, TransferredConfig
from cnnlab.tasks.transfer.backbones import Backbone
from cnnlab.tasks.transfer.strategies import TransferResult


def config_for(backbone: Backbone, target_mean, target_std, strategy, cut="", grid=4) -> dict:
    """model.json's config of a model that `strategy` built on `backbone`."""
    if not backbone.spec:
        raise ModelError("this backbone cannot be described for saving (no spec)")
    cfg = TransferredConfig(
        backbone.spec, backbone.input_shape, backbone.mean, backbone.std,
        tuple(target_mean), tuple(target_std), strategy, cut, grid,
    )  # fmt: skip
    return asdict(cfg)


def save_transfer_run(
    runs_dir: str | Path,
    name: str,
    backbone: Backbone,
    target: ImageData,
    result: TransferResult,
    options: dict[str, Any],
    diagnosis: dict[str, Any] | None = None,
    grid: int = 4,
) -> Path:
    """Write the trained transfer as a run folder (model, config, metrics, results, report),
    so `cnnlab predict RUN`, `cnnlab report RUN` and `--from RUN` work on it. A failure
    while writing removes the new folder: nothing half-written stays behind."""
    from cnnlab.engine import runs
    from cnnlab.tasks.classify.results import write_results

    c, h, w = target.input_shape
    cfg = config_for(backbone, target.mean, target.std, result.strategy, result.cut, grid)
    meta = runs.ModelMeta(
        model="transferred", config=cfg, in_channels=c, num_classes=target.num_classes,
        input_size=(h, w), classes=list(target.classes), mean=tuple(target.mean),
        std=tuple(target.std), data=target.source, task="transfer",
    )  # fmt: skip
    b = backbone
    adapter = InputAdapter(target.mean, target.std, b.input_shape, b.mean, b.std)
    model = TransferredClassifier(adapter, result.model).eval()
    history = [{"epoch": i + 1, "train/loss": v} for i, v in enumerate(result.history)]
    folder = runs.new_run_folder(runs_dir, name)
    try:
        runs.write_config(folder, options)
        runs.save_model(folder, model, meta)
        runs.write_metrics(folder, history)
        state = {"epoch": len(history), "best_epoch": len(history), "history": history}
        write_results(folder, model, target, meta, state, result.train_time_s, False, False)
        path = folder / "results.json"
        results = json.loads(path.read_text())
        results["transfer"] = {
            "backbone": backbone.source, "strategy": result.strategy, "cut": result.cut,
            "note": result.note, "diagnosis": diagnosis or {},
        }  # fmt: skip
        atomic_write(path, json.dumps(results, indent=2))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder
