"""Figures drawn from results: training curves, confusion matrix, image grids, robustness.

Every function builds a fresh `matplotlib.figure.Figure` (object API, never pyplot), so no
global figure state leaks and nothing needs a display: PNGs are rendered by the Agg canvas.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlab.core.io import atomic_write

MISTAKE_COLOR = "#b3261e"
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"


def fig_to_png(fig: Figure, dpi: int = 110) -> bytes:
    """Render `fig` to PNG bytes with the Agg canvas."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.1)
    return buf.getvalue()


def save_figure(fig: Figure, path: Path, dpi: int = 110) -> Path:
    """Write `fig` as a PNG to `path` atomically (parent folders are created)."""
    path = Path(path)
    atomic_write(path, fig_to_png(fig, dpi=dpi))
    return path


def _message(fig: Figure, text: str) -> Figure:
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="0.35")
    ax.set_axis_off()
    return fig


def _fmt_count(n: int) -> str:
    """1234 -> '1.2k', 1_234_567 -> '1.23M': short parameter counts for legends."""
    if n >= 1_000_000:
        return f"{n / 1e6:.3g}M"
    if n >= 1_000:
        return f"{n / 1e3:.3g}k"
    return str(n)


def plot_curves(rows: list[dict[str, float]]) -> Figure:
    """Loss and accuracy (in %) per epoch for train and val from metrics rows.

    Shapes: rows is one dict per epoch with `epoch` and any of train/loss, train/acc,
    val/loss, val/acc (fractions); absent keys are skipped. Returns a figure with 2 axes.
    """
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    panels = [(ax_loss, "loss", 1.0, "loss"), (ax_acc, "acc", 100.0, "accuracy (%)")]
    for ax, metric, scale, ylabel in panels:
        drawn = False
        for stage, color in (("train", TRAIN_COLOR), ("val", VAL_COLOR)):
            key = f"{stage}/{metric}"
            pts = [(r.get("epoch", i + 1), r[key]) for i, r in enumerate(rows) if key in r]
            if not pts:
                continue
            x, y = zip(*pts, strict=True)
            ax.plot(x, np.asarray(y) * scale, marker="o", ms=3, color=color, label=stage)
            drawn = True
        if metric == "acc" and any("val/acc" in r for r in rows):
            best = max((r for r in rows if "val/acc" in r), key=lambda r: r["val/acc"])
            epoch, acc = best.get("epoch", 0), best["val/acc"]
            ax.axvline(epoch, color="0.6", ls=":", lw=1)
            ax.annotate(f"best val {acc:.1%}", (epoch, acc * 100), textcoords="offset points",
                        xytext=(4, -12), fontsize=8, color="0.3")  # fmt: skip
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(metric if metric == "loss" else "accuracy")
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, f"no {metric} recorded", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")  # fmt: skip
    return fig


def plot_confusion(cm: np.ndarray, classes: list[str]) -> Figure:
    """Row-normalised confusion matrix heatmap (rows = true class) with % in each cell.

    Shapes: cm (K, K) counts, classes K names. Title gives the overall accuracy
    trace(cm) / sum(cm). Returns a figure with 2 axes (heatmap, colorbar).
    """
    cm = np.asarray(cm, dtype=np.float64)
    k = len(classes)
    if cm.ndim != 2 or cm.shape != (k, k):
        raise ValueError(f"cm must have shape ({k}, {k}) to match classes, got {cm.shape}")
    totals = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)  # (K, K)
    acc = np.trace(cm) / cm.sum() if cm.sum() > 0 else float("nan")

    size = max(4.0, 0.62 * k + 2.2)
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(frac * 100, cmap="Blues", vmin=0, vmax=100)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label="% of true class")
    fontsize = 9 if k <= 6 else 8 if k <= 10 else 6
    for i in range(k):
        for j in range(k):
            if cm[i, j] == 0:
                continue  # blank cells keep a 10x10 matrix readable
            p = frac[i, j] * 100
            text = "<1%" if p < 1 else f"{p:.0f}%"
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if p > 55 else "black")  # fmt: skip
    ax.set_xticks(range(k), classes, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {acc:.1%}  (n = {int(cm.sum())})")
    return fig


def _as_hwc(img: np.ndarray) -> np.ndarray:
    """(C, H, W) uint8 -> (H, W) for gray or (H, W, 3) for RGB."""
    if img.shape[0] == 1:
        return img[0]
    return np.transpose(img, (1, 2, 0))


def _check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, C, H, W) with C 1 or 3, got {images.shape}")
    return images


def image_grid(
    images: np.ndarray,
    ncols: int = 8,
    captions: list[str] | None = None,
    caption_color: str = "black",
) -> Figure:
    """Grid of images with optional small captions, one axes per image.

    Shapes: images (N, C, H, W) uint8 with C = 1 (gray) or 3 (RGB); captions N strings.
    N = 0 gives a one-axes figure saying so.
    """
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    images = _check_images(images)
    n = images.shape[0]
    if captions is not None and len(captions) != n:
        raise ValueError(f"captions has {len(captions)} entries for {n} images")
    if n == 0:
        return _message(Figure(figsize=(4, 1.5)), "no images")
    if images.dtype != np.uint8:
        images = np.clip(images, 0, 255).astype(np.uint8)
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    cell = 1.35
    lines = max((c.count("\n") + 1 for c in captions), default=0) if captions else 0
    fig = Figure(figsize=(cols * cell, rows * (cell + 0.15 * lines)), layout="constrained")
    for i in range(n):
        ax: Axes = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(_as_hwc(images[i]), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if captions is not None:
            ax.set_title(captions[i], fontsize=7, color=caption_color)
    return fig


def plot_mistakes(
    images: np.ndarray,
    true: list[str],
    pred: list[str],
    confidence: list[float],
    ncols: int = 8,
) -> Figure:
    """Misclassified images captioned "true → pred (93%)"; N = 0 says "no mistakes".

    Shapes: images (N, C, H, W) uint8; true, pred, confidence N entries (confidence in [0, 1]).
    """
    images = _check_images(images)
    n = images.shape[0]
    if not (len(true) == len(pred) == len(confidence) == n):
        raise ValueError(
            f"true, pred and confidence need one entry per image ({n}), got "
            f"{len(true)}, {len(pred)}, {len(confidence)}"
        )
    if n == 0:
        return _message(Figure(figsize=(4, 1.5)), "no mistakes")
    captions = [f"{t} → {p} ({c:.0%})" for t, p, c in zip(true, pred, confidence, strict=True)]
    # long class names ("T-shirt/top") would run into the neighbour: break after the arrow
    captions = [c.replace("→ ", "→\n") if len(c) > 22 else c for c in captions]
    return image_grid(images, ncols=ncols, captions=captions, caption_color=MISTAKE_COLOR)


def plot_robustness(
    results: dict[str, dict[str, float]],
    params: dict[str, int] | None = None,
    chance: float | None = None,
) -> Figure:
    """Grouped bars of accuracy (%) per model across conditions (clean, shifted, rotated ...).

    Shapes: results {model label: {condition: accuracy fraction}}, conditions in insertion
    order (the union over models); params {model label: parameter count}; chance a fraction.
    Returns a figure with 1 axes.
    """
    if not results:
        raise ValueError("results is empty: give {model: {condition: accuracy}}")
    conditions = list(dict.fromkeys(c for accs in results.values() for c in accs))
    models = list(results)
    width = 0.8 / len(models)
    x = np.arange(len(conditions))
    fig = Figure(figsize=(max(6.0, 1.1 * len(conditions) + 2.5), 4.2), layout="constrained")
    ax = fig.add_subplot()
    for m, model in enumerate(models):
        ys = np.array([results[model].get(c, np.nan) * 100 for c in conditions])
        label = model
        if params and model in params:
            label = f"{model} ({_fmt_count(int(params[model]))} params)"
        bars = ax.bar(x + (m - (len(models) - 1) / 2) * width, ys, width * 0.95, label=label)
        ax.bar_label(bars, labels=["" if np.isnan(y) else f"{y:.0f}" for y in ys],
                     fontsize=7, padding=1)  # fmt: skip
    if chance is not None:
        ax.axhline(chance * 100, color="0.3", ls="--", lw=1, label=f"chance ({chance:.0%})")
    ax.set_xticks(x, conditions, rotation=20 if len(conditions) > 5 else 0)
    ax.set_ylim(0, 105)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("accuracy under shifted and rotated inputs")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # never over a bar
    return fig
