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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.core.io import atomic_write
from cnnlab.core.registry import Registry
from cnnlab.data import ImageData
from cnnlab.models import TASK_MODELS, Classifier
from cnnlab.tasks.transfer.backbones import Backbone, TorchvisionClassifier, adapt
from cnnlab.tasks.transfer.strategies import TransferModel, TransferResult, build_strategy


class InputAdapter(nn.Module):
    """Target-normalized images -> the backbone's input (channels, size, its mean/std).

    Shapes: (B, C_t, H_t, W_t) -> (B, C_b, H_b, W_b).
    """

    def __init__(
        self,
        target_mean: tuple[float, ...],
        target_std: tuple[float, ...],
        backbone_input: tuple[int, int, int],
        backbone_mean: tuple[float, ...],
        backbone_std: tuple[float, ...],
    ) -> None:
        super().__init__()
        self.register_buffer("t_mean", torch.tensor(target_mean).view(1, -1, 1, 1), False)
        self.register_buffer("t_std", torch.tensor(target_std).view(1, -1, 1, 1), False)
        self.shape = tuple(backbone_input)
        self.mean, self.std = tuple(backbone_mean), tuple(backbone_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = x * self.t_std + self.t_mean  # back to [0, 1]
        return adapt(pixels, self.shape, self.mean, self.std)


class TransferredClassifier(Classifier):
    """InputAdapter, then the TransferModel a strategy built and trained."""

    def __init__(self, adapter: InputAdapter, model: TransferModel) -> None:
        super().__init__()
        self.adapter, self.model = adapter, model

    @property
    def head(self) -> nn.Linear:  # type: ignore[override]
        return self.model.head  # a property, so the weights are stored once

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(self.adapter(x))  # (B, F)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.model.head(features)


@dataclass(frozen=True)
class TransferredConfig:
    """What model.json stores to rebuild a transferred model (weights come from the run)."""

    backbone: dict[str, Any]  # Backbone.spec: {"run": {...}} or {"torchvision": name}
    backbone_input: tuple[int, int, int]
    backbone_mean: tuple[float, ...]
    backbone_std: tuple[float, ...]
    target_mean: tuple[float, ...]
    target_std: tuple[float, ...]
    strategy: str
    cut: str = ""
    grid: int = 4


def config_for(backbone: Backbone, target_mean, target_std, strategy, cut="", grid=4) -> dict:
    """model.json's config of a model that `strategy` built on `backbone`."""
    if not backbone.spec:
        raise ModelError("this backbone cannot be described for saving (no spec)")
    cfg = TransferredConfig(
        backbone.spec, backbone.input_shape, backbone.mean, backbone.std,
        tuple(target_mean), tuple(target_std), strategy, cut, grid,
    )  # fmt: skip
    return asdict(cfg)


def _architecture(cfg: TransferredConfig) -> Backbone:
    """The backbone's architecture with fresh weights (the run's weights replace them)."""
    if "torchvision" in cfg.backbone:
        import torchvision.models as tvm

        net: Classifier = TorchvisionClassifier(tvm.get_model(cfg.backbone["torchvision"]))
    else:
        from cnnlab.engine.runs import ModelMeta

        net = ModelMeta(**cfg.backbone["run"]).build()  # type: ignore[assignment]
    shape = tuple(cfg.backbone_input)
    return Backbone(net.eval(), shape, cfg.backbone_mean, cfg.backbone_std, "rebuilt")  # type: ignore[arg-type]


def build_transferred(
    in_channels: int, num_classes: int, input_size: tuple[int, ...], cfg: TransferredConfig
) -> TransferredClassifier:
    """Rebuild a transferred model from its config. Shapes: (B, C, H, W) -> (B, classes)."""
    backbone = _architecture(cfg)
    kw = {"cut": cfg.cut, "grid": cfg.grid} if cfg.strategy == "early" else {}
    model = build_strategy(cfg.strategy, backbone, num_classes, **kw).model
    adapter = InputAdapter(
        cfg.target_mean, cfg.target_std, cfg.backbone_input, cfg.backbone_mean, cfg.backbone_std
    )
    return TransferredClassifier(adapter, model).eval()


TRANSFERRED = Registry("transferred model", ModelError)
TRANSFERRED.register("transferred", TransferredConfig, "a backbone with a strategy's new head")(
    build_transferred
)
TASK_MODELS["transfer"] = TRANSFERRED


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
