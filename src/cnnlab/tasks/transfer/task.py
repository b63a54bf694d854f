"""Transfer learning as an engine task: a strategy's model (a backbone's features, frozen or
not, and a new head) trained on the target's images, adapted to the backbone batch by batch.
`train_transfer` is its Python face; the run folder it trains in is scratch (a transfer worth
keeping is written by save_transfer_run, a run folder that predicts and reports)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console
from torch import nn

from cnnlab.data import ImageData
from cnnlab.engine import runs
from cnnlab.engine.loop import fit
from cnnlab.engine.task import Context, Task, num_batches, stride
from cnnlab.tasks.classify.task import ClassifyTask
from cnnlab.tasks.transfer.backbones import Backbone, adapt_input, sized_for
from cnnlab.tasks.transfer.config import TransferRunConfig
from cnnlab.tasks.transfer.features import frozen_features
from cnnlab.tasks.transfer.saved import config_for
from cnnlab.tasks.transfer.strategies import TransferResult, accuracy, build_strategy


class TransferTask(Task):
    """A strategy on a backbone, trained on the target's training split; the last epoch's
    model is kept (no validation split is held out of a small target) and tested."""

    name = "transfer"
    command = "transfer"
    help = "diagnose the transfer case and run its strategy (docs/transfer.md)"
    config_cls = TransferRunConfig
    data_type = ImageData
    own_command = True  # cli/transfer.py: a backbone, a diagnosis, then this task
    keep = "last"

    def __init__(
        self, cfg: TransferRunConfig, backbone: Backbone, data: ImageData, **strategy_args: Any
    ) -> None:
        self.cfg, self.backbone, self.data, self.strategy_args = cfg, backbone, data, strategy_args
        self.run_name = cfg.name or f"transfer-{cfg.transfer}"

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        if self.cfg.transfer == "early" and self.strategy_args.get("cut") is None:
            # the cut is chosen by linear probes on the training split (never the test split)
            self.strategy_args.setdefault("probe", (self.data.train_x, self.data.train_y))

    def build_model(self) -> nn.Module:
        torch.manual_seed(self.cfg.seed)  # the new head's initial weights
        self.built = build_strategy(self.cfg.transfer, self.backbone, self.data.num_classes,
                                       lr=self.cfg.lr, **self.strategy_args)  # fmt: skip
        model = self.built.model
        self.train_feats = None
        if model.frozen and self.cfg.cache_features:  # head, early: the frozen part runs once
            self.train_feats = self._features(model, self.data.train_x)
        return model

    def _features(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The frozen part's output for images x, from the cache when it was computed before.
        Shapes: (N, C, H, W) uint8 -> (N, F)."""
        b = self.backbone
        log = self.ctx.log if self.ctx.rank == 0 else None
        return frozen_features(model.features, b.input_shape, b.mean, b.std, x, log=log)

    def param_groups(self, model: nn.Module) -> list[dict[str, Any]]:
        # only what the strategy trains, each group at its own share of the schedule's lr
        return [{**{k: v for k, v in g.items() if k != "lr"}, "lr_scale": g["lr"] / self.cfg.lr}
                for g in self.built.param_groups]  # fmt: skip

    def meta(self, model: nn.Module) -> runs.ModelMeta:
        b, d = self.backbone, self.data
        t = self.built
        config = config_for(b, d.mean, d.std, t.strategy, t.cut) if b.spec else {}
        c, h, w = d.input_shape
        shape = (c, d.num_classes, (h, w), list(d.classes), tuple(d.mean), tuple(d.std))
        return runs.ModelMeta("transferred", config, *shape, data=d.source, task="transfer")

    def describe(self, model: nn.Module) -> str:
        return f"strategy {self.cfg.transfer}, {len(self.data.train_y)} target images"

    def num_train_batches(self) -> int:
        return num_batches(len(self.data.train_y), self.cfg.batch_size, self.ctx)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        gen = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.data.train_y), generator=gen)
        for idx in stride(order, self.cfg.batch_size, self.ctx):
            if self.train_feats is not None:  # (B, F): the model's head only is trained
                yield self.train_feats[idx], self.data.train_y[idx]
            else:
                yield adapt_input(self.data.train_x[idx], self.backbone), self.data.train_y[idx]

    def step(self, model: nn.Module, batch: Any, stage: str):
        x, y = batch
        logits = model(x).float()
        loss = F.cross_entropy(logits, y, label_smoothing=self.cfg.label_smoothing)
        return loss, {"n": len(y), "loss": loss.detach() * len(y)}

    @classmethod
    def predict(cls, run: Path, files: list[str], **options: Any) -> list[str]:
        return ClassifyTask.predict(run, files, **options)  # a transferred run is a classifier

    @staticmethod
    def report(folder: Path) -> Path:
        return ClassifyTask.report(folder)

    def finish(self, folder: Path, model: nn.Module, result: Any) -> float:
        if self.train_feats is not None:  # the test images' frozen features, also kept
            feats = self._features(model, self.data.test_x)
            with torch.no_grad():
                pred = model.eval().head(feats).argmax(1)
            return int((pred == self.data.test_y).sum()) / max(1, len(feats))  # as accuracy()
        return accuracy(model, self.backbone, self.data.test_x, self.data.test_y)


def train_transfer(
    backbone: Backbone,
    data: ImageData,
    strategy: str = "head",
    *,
    epochs: int = 3,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    optimizer: str = "adam",
    label_smoothing: float = 0.1,
    devices: int = 1,
    num_nodes: int = 1,
    accelerator: str = "auto",
    precision: str = "32",
    cache_features: bool = True,
    train_size: int | None = None,
    **strategy_args: Any,
) -> TransferResult:
    """Build `strategy` on `backbone` for `data`, train it through the engine and return its
    test accuracy. The course's settings: a constant lr (each parameter group at its own:
    finetune's backbone at a tenth), Adam (AdamW without decay) or SGD (Nesterov momentum
    0.9), fp32, no augmentation; the last epoch's model. With several devices or nodes it
    trains under DDP (Fabric's auto strategy); the test accuracy is measured by the first
    process (None in the others). head and early run their frozen part once per image set
    and keep the output (cache_features; see transfer/features.py). `train_size`: the image
    side for finetune and retrain (they run the backbone backward on every step), None: the
    backbone's own; head and early keep the backbone's side.
    Shapes: data images (N, C, H, W) uint8, adapted to backbone.input_shape per batch.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    backbone = sized_for(backbone, strategy, train_size)
    with tempfile.TemporaryDirectory() as runs_dir:
        cfg = TransferRunConfig(
            epochs=epochs, lr=lr, optimizer="adamw" if optimizer == "adam" else "sgd",
            weight_decay=0.0, schedule="constant", precision=precision, progress=False,
            seed=seed, devices=devices, num_nodes=num_nodes, accelerator=accelerator,
            runs_dir=runs_dir, transfer=strategy, batch_size=batch_size,
            label_smoothing=label_smoothing, cache_features=cache_features,
        )  # fmt: skip
        task = TransferTask(cfg, backbone, data, **strategy_args)
        r = fit(task, cfg, console=Console(quiet=True))
    t = task.built
    history = [row["train/loss"] for row in r.history]
    return TransferResult(t.strategy, r.test, r.train_time_s, r.model, t.cut, history, t.note)
