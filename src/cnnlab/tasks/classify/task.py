"""Image classification as an engine task: in-memory batches (augmented on the whole batch),
cross-entropy with label smoothing, accuracy, and the test report at the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.data import Augment, BatchLoader, ImageData, default_augment
from cnnlab.data.datasets import load_dataset_of
from cnnlab.data.loader import normalize
from cnnlab.engine import runs
from cnnlab.engine.task import Context, Task, label_step
from cnnlab.models import MODELS, build_for_input
from cnnlab.nn.init import init_weights, parse_init
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.results import write_results

VAL_BATCH = 1000  # validation images per forward pass


class ClassifyTask(Task):
    """One class per image. `data` is an ImageData already in memory, or None to read
    cfg.data in every process (after the launch)."""

    name = "classify"
    command = "train"
    help = "train a classifier (MLP, CNN, VGG, ResNet); writes runs/<name>/ (docs/training.md)"
    config_cls = TrainConfig
    data_type = ImageData
    channels_last = True

    def __init__(self, cfg: TrainConfig, data: ImageData | None = None) -> None:
        self.cfg, self.data = cfg, data
        self.t_start = time.perf_counter()
        self._loader: BatchLoader | None = None

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        cfg = self.cfg
        MODELS.get(cfg.model)  # an unknown name fails before the data is read
        if self.data is None:
            self.data = load_dataset_of(cfg)
            ctx.log(f"data: {self.data.source}")
        self.run_name = cfg.name or f"{cfg.model}-{self.data.name}"

    def build_model(self) -> nn.Module:
        cfg, data = self.cfg, self.data
        torch.manual_seed(cfg.seed)
        model = build_for_input("classify", cfg.model, data.input_shape, data.num_classes,
                                cfg.model_args)  # fmt: skip
        # a fresh model already has PyTorch's default weights; re-drawing them would change
        # the random stream, and with it every earlier run's result
        if parse_init(cfg.init)[0] != "default":
            init_weights(model, cfg.init)
        return model

    def meta(self, model: nn.Module) -> runs.ModelMeta:
        d = self.data
        return runs.ModelMeta(model=self.cfg.model, config=dict(self.cfg.model_args),
                              in_channels=d.input_shape[0], num_classes=d.num_classes,
                              input_size=tuple(d.input_shape[1:]), classes=list(d.classes),
                              mean=d.mean, std=d.std, data=d.source)  # fmt: skip

    def describe(self, model: nn.Module) -> str:
        return f"{len(self.data.train_y)} train / {len(self.data.val_y)} val images"

    def loader(self) -> BatchLoader:
        """The training batches (made again if the engine has changed the memory format since)."""
        if self._loader is None or self._loader.channels_last != self.ctx.channels_last:
            cfg, d, ctx = self.cfg, self.data, self.ctx
            augment = Augment.parse(
                default_augment(cfg.data) if cfg.augment == "auto" else cfg.augment
            )
            self._loader = BatchLoader(
                d.train_x, d.train_y, cfg.batch_size, d.mean, d.std, shuffle=True,
                augment=augment, seed=cfg.seed, drop_last=len(d.train_y) > cfg.batch_size,
                rank=ctx.rank, world_size=ctx.world, channels_last=ctx.channels_last,
            )  # fmt: skip
        return self._loader

    def num_train_batches(self) -> int:
        return len(self.loader())

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.loader().epoch(epoch)

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        d, ctx = self.data, self.ctx
        x, y = d.val_x[ctx.rank :: ctx.world], d.val_y[ctx.rank :: ctx.world]
        for i in range(0, len(y), VAL_BATCH):
            yield ctx.layout(normalize(x[i : i + VAL_BATCH], d.mean, d.std)), y[i : i + VAL_BATCH]

    def step(self, model: nn.Module, batch: Any, stage: str):
        """Loss and summed statistics of one batch; label smoothing only while training."""
        return label_step(model, batch, stage, self.cfg.label_smoothing)

    def epoch_line(self, row: dict[str, float], epochs: int) -> str:
        parts = [f"epoch {int(row['epoch'])}/{epochs}",
                 f"train loss {row['train/loss']:.4f} acc {row['train/acc']:.2%}"]  # fmt: skip
        if "val/loss" in row:
            parts.append(f"val loss {row['val/loss']:.4f} acc {row['val/acc']:.2%}")
        parts.append(f"{row['img_per_s']:,.0f} img/s  {row['time']:.1f} s")
        line = "  ".join(parts)
        if int(row["epoch"]) == 1 and row.get("val/loss", float("inf")) < row["train/loss"]:
            line += "\n" + self.loss_gap()
        return line

    def loss_gap(self) -> str:
        """Why the training loss sits above the validation loss (said once, after epoch 1)."""
        why = []
        if self.cfg.label_smoothing > 0:
            why.append(f"with label smoothing {self.cfg.label_smoothing:g}")
        if str(self.cfg.augment) != "none":
            why.append("on augmented images")
        why.append("over the epoch's changing weights")
        return (f"  (train loss above val loss is expected: train is measured {', '.join(why)}; "
                "val on plain images with the end weights)")  # fmt: skip

    @classmethod
    def predict(
        cls, run: Path, files: list[str], topk: int = 3, invert: str = "false", **options: Any
    ) -> list[str]:
        from cnnlab.tasks.classify.prediction import predict

        if topk < 1:
            raise ValueError(f"topk must be >= 1, got {topk}")
        lines = []
        for p in predict(run, files, topk=topk, invert=invert):
            lines.append(f"{p.source}: " + "  ".join(f"{c} {prob:.1%}" for c, prob in p.top))
            lines += [f"  note: {note}" for note in p.notes]
        return lines

    @staticmethod
    def report(folder: Path) -> Path:
        from cnnlab.tasks.classify.report import run_report

        return run_report(folder)

    def finish(self, folder: Path, model: nn.Module, result: Any) -> Any:
        history = result.history
        state = {"epoch": int(history[-1]["epoch"]) if history else 0,
                 "best_epoch": result.best_epoch, "history": history}  # fmt: skip
        test = write_results(folder, model, self.data, result.meta, state, result.train_time_s,
                             self.cfg.tta, self.ctx.channels_last)  # fmt: skip
        self.ctx.log(f"test accuracy {test.accuracy:.2%}  ({time.perf_counter() - self.t_start:.1f}"
                     f" s)  report: {folder / 'report.html'}")  # fmt: skip
        return test
