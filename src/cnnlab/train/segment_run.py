"""`segment()`: train a segmentation model (2-D or 3-D) into a run folder on the generic task
loop, then score the test split (per-class IoU and Dice beside the all-background baseline)
and draw overlays, slices and a 3-D rendering into the report."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from rich.console import Console
from torch import nn

from cnnlab.data.scenes import SegData
from cnnlab.errors import ConfigError
from cnnlab.train import runs
from cnnlab.train.config import check_ranges, plain_paths
from cnnlab.train.predict_mask import normalize_nd, predict_logits
from cnnlab.train.segment import (
    SegConfusion,
    SegScores,
    augment_batch_2d,
    dice_ce_loss,
    flip_horizontal_3d,
)
from cnnlab.train.task_loop import LoopConfig, fit

DATA_DIMS = {"fashion-scenes": 2, "volumes": 3}
BATCH = {2: 32, 3: 4}  # default batch sizes: a 48^3 volume costs as much as 27 64x64 images


@dataclass(frozen=True)
class SegmentConfig:
    """Everything a segmentation run needs; saved as config.yaml in the run folder.

    Args:
        data: fashion-scenes, volumes, or a folder with images/ + masks/ (PNG) or
            images/ + labels/ (NIfTI).
        dims: 2 (images) or 3 (volumes); None: the data's own.
        model: unet or fcn (see `cnnlab models`).
        model_args: options of the model's config, e.g. {"depth": 4, "base_width": 32}.
        n_train: generated training scenes (None: 2000 scenes, 160 volumes).
        n_val: generated validation scenes (None: 200 scenes, 20 volumes).
        n_test: generated test scenes (None: 500 scenes, 40 volumes).
        size: side of the generated scenes (None: 64 for scenes, 48 for volumes).
        epochs: passes over the training split.
        batch_size: images or volumes per step (None: 32 for 2-D, 4 for 3-D).
        lr: peak learning rate of the one-cycle schedule.
        optimizer: adamw or sgd (Nesterov momentum 0.9).
        weight_decay: decoupled weight decay (AdamW) or L2 (SGD).
        dice_weight: loss = cross-entropy + dice_weight * (1 - soft Dice).
        augment: move image and mask together (2-D: flip, rotate, shift, scale;
            3-D: horizontal flips).
        seed: seeds the generated data, the weights, the batch order and augmentation.
        max_time: stop after this many seconds; the schedule follows elapsed time.
        patience: early stopping after this many epochs without a better val/loss.
        precision: auto (bf16 only where this CPU trains faster in it), 32 or bf16.
        runs_dir: folder that holds run folders.
        name: run folder name; default <model>-<data>.
        progress: show the progress bar.
    """

    data: str = "fashion-scenes"
    dims: int | None = None
    model: str = "unet"
    model_args: dict[str, Any] = field(default_factory=dict)
    n_train: int | None = None
    n_val: int | None = None
    n_test: int | None = None
    size: int | None = None
    epochs: int = 10
    batch_size: int | None = None
    lr: float = 3e-3
    optimizer: Literal["adamw", "sgd"] = "adamw"
    weight_decay: float = 1e-4
    dice_weight: float = 1.0
    augment: bool = True
    seed: int = 0
    max_time: float | None = None
    patience: int | None = None
    precision: Literal["auto", "32", "bf16"] = "auto"
    runs_dir: str = "runs"
    name: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        plain_paths(self)
        checks = {
            "dims": self.dims in (None, 2, 3),
            "n_train": self.n_train is None or self.n_train >= 1,
            "n_val": self.n_val is None or self.n_val >= 0,
            "n_test": self.n_test is None or self.n_test >= 1,
            "size": self.size is None or self.size >= 8,
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size is None or self.batch_size >= 1,
            "lr": self.lr > 0,
            "optimizer": self.optimizer in ("adamw", "sgd"),
            "weight_decay": self.weight_decay >= 0,
            "dice_weight": self.dice_weight >= 0,
            "max_time": self.max_time is None or self.max_time > 0,
            "patience": self.patience is None or self.patience >= 1,
            "precision": self.precision in ("auto", "32", "bf16"),
        }
        check_ranges(self, checks)
        want = DATA_DIMS.get(self.data)
        if want is not None and self.dims is not None and self.dims != want:
            raise ValueError(
                f"dims = {self.dims} but {self.data} are {want}-D; use --dims {want} or leave "
                "it out"
            )
        from cnnlab.models import task_models  # an unknown model fails before data loads

        task_models("segment").get(self.model)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class SegmentResult:
    """A finished segmentation run: its folder, the best model, per-epoch history, the test
    metrics (miou, mdice, pixel_acc, iou/<class>, dice/<class>, baseline_miou, ...)."""

    run_dir: Path
    model: nn.Module
    history: list[dict[str, float]]
    test: dict[str, float]
    train_time_s: float


class SegTask:
    """The segmentation task of the generic loop: CE + Dice on (augmented) batches,
    validation loss, mIoU and mean Dice."""

    def __init__(self, data: SegData, cfg: SegmentConfig, batch_size: int) -> None:
        self.data, self.cfg, self.batch_size = data, cfg, batch_size

    def num_train_batches(self) -> int:
        n = len(self.data.train_y)
        # drop the ragged last batch, but a split smaller than one batch is one batch
        return max(n // self.batch_size, 1 if n else 0)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)
        n, bs = len(self.data.train_y), self.batch_size
        order = torch.randperm(n, generator=g)
        for i in range(self.num_train_batches()):
            idx = order[i * bs : (i + 1) * bs]
            x, y = self.data.train_x[idx], self.data.train_y[idx]
            if self.cfg.augment:
                if x.dim() == 5:
                    x, y = flip_horizontal_3d(x, y, g)
                else:
                    x, y = augment_batch_2d(x, y, g)
            yield normalize_nd(x, self.data.mean, self.data.std), y

    def loss(
        self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        x, y = batch
        # float32 loss: softmax and the Dice sums lose too much in bf16
        return dice_ce_loss(model(x).float(), y, self.cfg.dice_weight), {}

    def validate(self, model: nn.Module) -> dict[str, float]:
        if not len(self.data.val_y):
            return {}
        scores, loss = score(model, self.data.val_x, self.data.val_y, self.data, self.cfg)
        return {"val/loss": loss, "val/miou": scores.miou, "val/mdice": scores.mdice}


@torch.no_grad()
def score(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, data: SegData, cfg: SegmentConfig,
    chunk: int = 16,
) -> tuple[SegScores, float]:  # fmt: skip
    """Confusion-matrix scores and the mean loss over a split, in chunks.
    Shapes: x (N, C, *S) uint8, y (N, *S) int64."""
    acc, total = SegConfusion(data.num_classes), 0.0
    for i in range(0, len(y), chunk):
        logits = model(normalize_nd(x[i : i + chunk], data.mean, data.std)).float()
        total += float(dice_ce_loss(logits, y[i : i + chunk], cfg.dice_weight)) * len(logits)
        acc.update(logits.argmax(1), y[i : i + chunk])
    return acc.compute(), total / max(len(y), 1)


def make_segment_config(
    config: SegmentConfig | dict[str, Any] | None = None, **overrides: Any
) -> SegmentConfig:
    """A SegmentConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    base = config.to_dict() if isinstance(config, SegmentConfig) else dict(config or {})
    base.update(overrides)
    unknown = sorted(set(base) - set(SegmentConfig.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"unknown segment option(s) {', '.join(unknown)}; see SegmentConfig")
    return SegmentConfig(**base)


def load_data(cfg: SegmentConfig) -> SegData:
    from cnnlab.data.seg_sources import load_seg_data

    data = load_seg_data(cfg.data, n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test,
                         size=cfg.size, seed=cfg.seed)  # fmt: skip
    if cfg.dims is not None and data.spatial_dims != cfg.dims:
        raise ConfigError(f"dims = {cfg.dims} but {cfg.data} holds {data.spatial_dims}-D data; "
                          f"use --dims {data.spatial_dims}")  # fmt: skip
    return data


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
    console = console or Console(soft_wrap=True)
    loaded = data if isinstance(data, SegData) else None
    if data is not None and loaded is None:
        overrides["data"] = str(data)
    elif loaded is not None:
        overrides.setdefault("data", loaded.name)
    if resume is not None:
        folder = Path(resume)
        saved = runs.read_config(folder)
        meta = runs.read_meta(folder)
        cfg = make_segment_config(saved, **overrides)
    else:
        cfg = make_segment_config(config, **overrides)
    data_ = loaded if loaded is not None else load_data(cfg)
    if cfg.dims is not None and data_.spatial_dims != cfg.dims:
        raise ConfigError(f"dims = {cfg.dims} but the data are {data_.spatial_dims}-D")
    dims = data_.spatial_dims
    batch_size = cfg.batch_size or BATCH[dims]
    console.print(f"data: {data_!r}", highlight=False)
    torch.manual_seed(cfg.seed)
    model_args = {"spatial_dims": dims, **cfg.model_args}
    size = tuple(int(s) for s in data_.input_shape[1:])
    if resume is None:
        meta = runs.ModelMeta(
            cfg.model, model_args, data_.input_shape[0], data_.num_classes, size,  # type: ignore[arg-type]
            list(data_.classes), data_.mean, data_.std, data=cfg.data, task="segment",
            extra={"scaling": "raw" if cfg.data == "volumes" else "percentile"},
        )  # fmt: skip
        model = meta.build()
        folder = runs.new_run_folder(cfg.runs_dir, cfg.name or f"{cfg.model}-{Path(cfg.data).name}")
        runs.write_config(folder, cfg.to_dict())
    else:
        model = meta.build()
        runs.write_config(folder, cfg.to_dict())
    task = SegTask(data_, cfg, batch_size)
    loop_cfg = LoopConfig.from_config(cfg)
    fitted = fit(model, task, loop_cfg, folder, meta, resume=resume is not None,
                 console=console, stop_after=stop_after)  # fmt: skip
    best, meta = runs.load_model(folder)
    if fitted.stopped == "paused":
        return SegmentResult(folder, best, fitted.history, {}, fitted.train_time_s)
    t0 = time.perf_counter()
    test = write_results(folder, best, data_, cfg, fitted.history, fitted.train_time_s,
                         fitted.best_epoch)  # fmt: skip
    console.print(f"test scored and figures drawn in {time.perf_counter() - t0:.1f} s",
                  highlight=False)  # fmt: skip
    return SegmentResult(folder, best, fitted.history, test, fitted.train_time_s)


def write_results(
    folder: Path,
    model: nn.Module,
    data: SegData,
    cfg: SegmentConfig,
    history: list[dict[str, float]],
    train_time: float,
    best_epoch: int,
) -> dict[str, float]:
    """Test scores (and the all-background baseline), results.json, figures, report.html."""
    from cnnlab.models import count_parameters

    model.eval()
    scores, loss = score(model, data.test_x, data.test_y, data, cfg)
    base = SegConfusion(data.num_classes)
    base.update(torch.zeros_like(data.test_y), data.test_y)  # predict background everywhere
    baseline = base.compute()
    test = {**scores.as_dict(data.classes), "loss": loss, "baseline_miou": baseline.miou,
            "baseline_mdice": baseline.mdice, "baseline_pixel_acc": baseline.pixel_acc}  # fmt: skip
    pixels = scores.confusion.sum(1).tolist()
    per_class = [
        {"class": c, "iou": _num(i), "dice": _num(d), "pixels": int(p)}
        for c, i, d, p in zip(
            data.classes, scores.iou.tolist(), scores.dice.tolist(), pixels, strict=True
        )  # fmt: skip
    ]
    results = {
        "test": {k: _num(v) for k, v in test.items()},
        "per_class": per_class,
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        "train_time_s": round(train_time, 2),
        "parameters": count_parameters(model),
        "data_source": data.source,
    }
    runs.atomic_write(folder / "results.json", json.dumps(results, indent=2))
    draw_figures(folder, model, data, history)
    from cnnlab.viz.segmentation import write_segment_report

    write_segment_report(folder, cfg.to_dict(), results)
    return test


def draw_figures(
    folder: Path, model: nn.Module, data: SegData, history: list[dict[str, float]], n: int = 6
) -> None:
    """figures/curves.png and overlays.png (2-D) or slices.png and render.png (3-D)."""
    from cnnlab.viz import segmentation as seg
    from cnnlab.viz.figures import plot_curves, save_figure

    figs = folder / "figures"
    # the loss panel of the classifier's curves; mIoU stands in for accuracy
    rows = [{**r, "val/acc": r["val/miou"]} if "val/miou" in r else r for r in history]
    fig = plot_curves(rows)
    fig.axes[1].set_title("validation mIoU")
    fig.axes[1].set_ylabel("mIoU (%)")
    save_figure(fig, figs / "curves.png")
    if not len(data.test_y):
        return
    meta = runs.read_meta(folder)
    if data.spatial_dims == 2:
        idx = torch.linspace(0, len(data.test_y) - 1, min(n, len(data.test_y))).long()
        pred = predict_logits(model, meta, data.test_x[idx]).argmax(1)
        save_figure(
            seg.plot_overlays(
                data.test_x[idx].numpy(), data.test_y[idx].numpy(), pred.numpy(), data.classes
            ),
            figs / "overlays.png",
            dpi=90,
        )
        return
    x, y = data.test_x[:1], data.test_y[0].numpy()
    pred = predict_logits(model, meta, x).argmax(1)[0].numpy()  # (D, H, W)
    save_figure(seg.plot_slices(x[0].numpy(), y, pred, data.classes), figs / "slices.png", dpi=90)
    # generated volumes: water and seabed are context, the objects are what to look at
    skip, surface = ((0, 1), 1) if data.name == "volumes" else ((0,), None)
    save_figure(
        seg.plot_render(pred, data.classes, skip=skip, surface=surface), figs / "render.png", dpi=90
    )


def _num(v: float) -> float | None:
    """JSON has no NaN: a class absent from truth and prediction is null."""
    return None if v != v else round(float(v), 6)


__all__ = ["SegmentConfig", "SegmentResult", "segment"]
