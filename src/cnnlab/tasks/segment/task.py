"""Segmentation as an engine task: cross-entropy + Dice on (augmented) image-and-mask batches,
validation loss, mIoU and mean Dice from a confusion matrix summed over every process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.core.errors import ConfigError
from cnnlab.core.io import read_config
from cnnlab.data.scenes import SegData
from cnnlab.engine import runs
from cnnlab.engine.task import Context, Task, num_batches, stride
from cnnlab.tasks.segment.config import BATCH, SegmentConfig
from cnnlab.tasks.segment.metrics import (
    SegConfusion,
    augment_batch_2d,
    dice_ce_loss,
    flip_horizontal_3d,
)
from cnnlab.tasks.segment.predict import normalize_nd
from cnnlab.tasks.segment.results import write_results

VAL_CHUNK = 16  # validation images (or volumes) per forward pass


def load_data(cfg: SegmentConfig) -> SegData:
    """The data a config names: generated scenes or volumes, or a folder."""
    from cnnlab.data.seg_sources import load_seg_data

    data = load_seg_data(cfg.data, n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test,
                         size=cfg.size, seed=cfg.seed)  # fmt: skip
    if cfg.dims is not None and data.spatial_dims != cfg.dims:
        raise ConfigError(f"dims = {cfg.dims} but {cfg.data} holds {data.spatial_dims}-D data; "
                          f"use --dims {data.spatial_dims}")  # fmt: skip
    return data


class SegTask(Task):
    """One class per pixel (or voxel). `data` is a SegData in memory, or None to read cfg.data."""

    name = "segment"
    command = "segment"
    help = "segment images or volumes (U-Net, FCN); writes runs/<name>/ (docs/segmentation.md)"
    config_cls = SegmentConfig
    data_type = SegData
    channels_last = True  # 2-D only: the engine asks for it when the model has Conv2d layers

    def __init__(self, cfg: SegmentConfig, data: SegData | None = None) -> None:
        self.cfg, self.data = cfg, data

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        cfg = self.cfg
        if self.data is None:
            self.data = load_data(cfg)
        if cfg.dims is not None and self.data.spatial_dims != cfg.dims:
            raise ConfigError(f"dims = {cfg.dims} but the data are {self.data.spatial_dims}-D")
        self.batch_size = cfg.batch_size or BATCH[self.data.spatial_dims]
        self.run_name = cfg.name or f"{cfg.model}-{Path(cfg.data).name}"
        ctx.log(f"data: {self.data!r}")

    def meta(self, model: nn.Module | None = None) -> runs.ModelMeta:
        cfg, d = self.cfg, self.data
        model_args = {"spatial_dims": d.spatial_dims, **cfg.model_args}
        size = tuple(int(s) for s in d.input_shape[1:])
        return runs.ModelMeta(
            cfg.model, model_args, d.input_shape[0], d.num_classes, size,  # type: ignore[arg-type]
            list(d.classes), d.mean, d.std, data=cfg.data, task="segment",
            extra={"scaling": "raw" if cfg.data == "volumes" else "percentile"},
        )  # fmt: skip

    def build_model(self) -> nn.Module:
        torch.manual_seed(self.cfg.seed)
        return self.meta().build()

    def num_train_batches(self) -> int:
        return num_batches(len(self.data.train_y), self.batch_size, self.ctx)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)
        order = torch.randperm(len(self.data.train_y), generator=g)
        for idx in stride(order, self.batch_size, self.ctx):
            x, y = self.data.train_x[idx], self.data.train_y[idx]
            if self.cfg.augment:
                x, y = flip_horizontal_3d(x, y, g) if x.dim() == 5 else augment_batch_2d(x, y, g)
            yield self.ctx.layout(normalize_nd(x, self.data.mean, self.data.std)), y

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        d = self.data
        for idx in stride(torch.arange(len(d.val_y)), VAL_CHUNK, self.ctx, drop_last=False):
            yield self.ctx.layout(normalize_nd(d.val_x[idx], d.mean, d.std)), d.val_y[idx]

    def step(self, model: nn.Module, batch: Any, stage: str):
        x, y = batch
        # float32 loss: softmax and the Dice sums lose too much in bf16
        logits = model(x).float()
        loss = dice_ce_loss(logits, y, self.cfg.dice_weight)
        stats: dict[str, Any] = {"n": len(y), "loss": loss.detach() * len(y)}
        if stage == "val":
            acc = SegConfusion(self.data.num_classes)
            acc.update(logits.argmax(1), y)
            stats["confusion"] = acc.matrix
        return loss, stats

    def summarize(self, stage: str, sums: dict[str, torch.Tensor]) -> dict[str, float]:
        n = float(sums.get("n", 0))
        if n == 0:
            return {}
        row = {f"{stage}/loss": float(sums["loss"]) / n}
        if "confusion" in sums:
            acc = SegConfusion(self.data.num_classes)
            acc.matrix = sums["confusion"].round().to(torch.int64)
            scores = acc.compute()
            row.update({f"{stage}/miou": scores.miou, f"{stage}/mdice": scores.mdice})
        return row

    @staticmethod
    def summary(result: Any) -> list[Any]:
        t = result.test
        if not t:
            return []

        def f(v: float) -> str:
            return "—" if v != v else f"{v:.3f}"

        classes = [k[4:] for k in t if k.startswith("iou/")]
        rows = [[c, f(t[f"iou/{c}"]), f(t[f"dice/{c}"])] for c in classes]
        rows.append(["mean", f(t["miou"]), f(t["mdice"])])
        rows.append(["all background", f(t["baseline_miou"]), f(t["baseline_mdice"])])
        return [
            ("test split", ["class", "IoU", "Dice"], rows),
            f"mIoU {t['miou']:.3f}  mean Dice {t['mdice']:.3f}  pixel accuracy "
            f"{t['pixel_acc']:.3f}  ({result.train_time_s:.0f} s of training)",
            f"report: {result.folder / 'report.html'}",
        ]

    @classmethod
    def predict(cls, run: Path, files: list[str], out: str | None = None, **options: Any):
        """One mask file per input (sliding windows for inputs larger than the crops)."""
        from cnnlab.tasks.segment.predict import predict_mask

        if out is not None and len(files) > 1:
            raise ConfigError("--out names one output file; give one input FILE or leave --out "
                              "out")  # fmt: skip
        model, lines = runs.load_model(run), []
        for f in files:
            p = predict_mask(model, f, out=out)
            lines += p.notes
            shape = "x".join(str(s) for s in p.shape)
            how = "sliding windows" if p.windowed else "one pass"
            total = sum(p.counts.values())
            top = ", ".join(f"{c} {n / total:.1%}" for c, n in p.counts.items())
            extra = f" (overlay {p.overlay})" if p.overlay else ""
            lines.append(f"{p.source} ({shape}, {how}) -> {p.mask}{extra}: {top}")
        return lines

    @staticmethod
    def report(folder: Path) -> Path:
        import json

        from cnnlab.core.errors import RunError
        from cnnlab.tasks.segment.figures import write_segment_report

        results = Path(folder) / "results.json"
        if not results.is_file():
            raise RunError(f"{folder} has no results.json; the run never finished its test")
        data = json.loads(results.read_text())
        return write_segment_report(folder, read_config(Path(folder)), data)

    def finish(self, folder: Path, model: nn.Module, result: Any) -> dict[str, float]:
        t0 = time.perf_counter()
        test = write_results(folder, model, self.data, self.cfg, result.history,
                             result.train_time_s, result.best_epoch)  # fmt: skip
        self.ctx.log(f"test scored and figures drawn in {time.perf_counter() - t0:.1f} s")
        return test
