"""After a segmentation run: test scores beside the all-background baseline, results.json,
overlays (2-D) or slices and a rendering (3-D), and report.html."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from cnnlab.core.io import atomic_write
from cnnlab.data.scenes import SegData
from cnnlab.engine import runs
from cnnlab.tasks.segment.config import SegmentConfig
from cnnlab.tasks.segment.metrics import SegConfusion, SegScores, dice_ce_loss
from cnnlab.tasks.segment.predict import normalize_nd, predict_logits

VAL_CHUNK = 16  # images (or volumes) per forward pass when scoring


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
    atomic_write(folder / "results.json", json.dumps(results, indent=2))
    draw_figures(folder, model, data, history)
    from cnnlab.tasks.segment.figures import write_segment_report

    write_segment_report(folder, cfg.to_dict(), results)
    return test


def draw_figures(
    folder: Path, model: nn.Module, data: SegData, history: list[dict[str, float]], n: int = 6
) -> None:
    """figures/curves.png and overlays.png (2-D) or slices.png and render.png (3-D)."""
    from cnnlab.tasks.segment import figures as seg
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


@torch.no_grad()
def score(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, data: SegData, cfg: SegmentConfig,
    chunk: int = VAL_CHUNK,
) -> tuple[SegScores, float]:  # fmt: skip
    """Confusion-matrix scores and the mean loss over a split, in chunks.
    Shapes: x (N, C, *S) uint8, y (N, *S) int64."""
    acc, total = SegConfusion(data.num_classes), 0.0
    for i in range(0, len(y), chunk):
        logits = model(normalize_nd(x[i : i + chunk], data.mean, data.std)).float()
        total += float(dice_ce_loss(logits, y[i : i + chunk], cfg.dice_weight)) * len(logits)
        acc.update(logits.argmax(1), y[i : i + chunk])
    return acc.compute(), total / max(len(y), 1)
