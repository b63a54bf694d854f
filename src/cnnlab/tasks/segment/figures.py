"""Pictures of segmentation: colour masks, overlays (image | truth | prediction), orthogonal
slices through a volume and a 3-D rendering of the predicted objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

# background is drawn black so the classes stand out; the rest take tab10 / tab20 colours
BACKGROUND = (0.0, 0.0, 0.0)


def class_colors(num_classes: int) -> np.ndarray:
    """One RGB colour per class in [0, 1]; class 0 (background) is black.
    Shapes: -> (num_classes, 3) float64."""
    from matplotlib import colormaps

    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    cmap = colormaps["tab10" if num_classes <= 11 else "tab20"]
    cols = [BACKGROUND] + [cmap(i % cmap.N)[:3] for i in range(num_classes - 1)]
    return np.asarray(cols, dtype=np.float64)


def colorize(mask: np.ndarray, num_classes: int) -> np.ndarray:
    """Class ids to colours. Shapes: (*S) int -> (*S, 3) uint8."""
    cols = (class_colors(num_classes) * 255).round().astype(np.uint8)
    return cols[np.clip(np.asarray(mask), 0, num_classes - 1)]


def _gray_rgb(image: np.ndarray) -> np.ndarray:
    """(C, H, W) or (H, W) uint8 -> (H, W, 3) float in [0, 1]."""
    img = np.asarray(image, dtype=np.float64) / 255.0
    if img.ndim == 3:
        img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)[..., :3]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img


def overlay(
    image: np.ndarray, mask: np.ndarray, num_classes: int, alpha: float = 0.5
) -> np.ndarray:
    """The image with every non-background pixel tinted in its class colour.

    Shapes: image (C, H, W) or (H, W) uint8, mask (H, W) int -> (H, W, 3) uint8."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    img = _gray_rgb(image)
    col = colorize(mask, num_classes).astype(np.float64) / 255.0
    on = (np.asarray(mask) > 0)[..., None]
    out = np.where(on, (1 - alpha) * img + alpha * col, img)
    return (out * 255).round().astype(np.uint8)


def _legend(fig: Figure, classes: list[str], present: set[int]) -> None:
    cols = class_colors(len(classes))
    handles = [Patch(color=cols[i], label=c) for i, c in enumerate(classes) if i in present]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(handles)),
               fontsize=8, frameon=False)  # fmt: skip


def plot_overlays(
    images: np.ndarray, truth: np.ndarray, pred: np.ndarray, classes: list[str]
) -> Figure:
    """One row per item: image | true mask | predicted mask, one colour per class.

    Shapes: images (N, C, H, W) uint8, truth and pred (N, H, W) int."""
    n, k = len(images), len(classes)
    if n == 0:
        raise ValueError("plot_overlays needs at least one image")
    fig = Figure(figsize=(6.0, 2.0 * n + 0.5), layout="constrained")
    axes = np.asarray(fig.subplots(n, 3, squeeze=False))
    for i in range(n):
        panels = (_gray_rgb(images[i]), colorize(truth[i], k), colorize(pred[i], k))
        for j, (ax, img) in enumerate(zip(axes[i], panels, strict=True)):
            ax.imshow(img, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(("image", "truth", "prediction")[j], fontsize=10)
    present = set(np.unique(truth).tolist()) | set(np.unique(pred).tolist())
    _legend(fig, classes, present)
    return fig


def _centre(labels: np.ndarray) -> tuple[int, int, int]:
    """The centre of mass of the foreground beyond class 1 (objects), else the middle."""
    pts = np.argwhere(labels >= 2)
    if len(pts) == 0:
        return tuple(s // 2 for s in labels.shape)  # type: ignore[return-value]
    return tuple(int(v) for v in pts.mean(0).round())  # type: ignore[return-value]


def plot_slices(
    volume: np.ndarray, truth: np.ndarray, pred: np.ndarray, classes: list[str]
) -> Figure:
    """Three orthogonal slices (through the objects' centre) of image, truth and prediction.

    Rows: the slice across axis 0 (horizontal, seen from above), across axis 1 and across
    axis 2 (vertical sections, depth downwards). Shapes: volume (1, D, H, W) or (D, H, W)
    uint8, truth and pred (D, H, W) int."""
    vol = np.asarray(volume)
    vol = vol[0] if vol.ndim == 4 else vol
    if vol.ndim != 3 or vol.shape != truth.shape or truth.shape != pred.shape:
        raise ValueError(
            f"plot_slices takes one volume (D, H, W) with masks of its shape, got "
            f"{vol.shape}, {truth.shape}, {pred.shape}"
        )
    k = len(classes)
    c = _centre(truth)
    fig = Figure(figsize=(6.5, 6.8), layout="constrained")
    axes = fig.subplots(3, 3)
    names = (f"axis 0 = {c[0]} (from above)", f"axis 1 = {c[1]}", f"axis 2 = {c[2]}")
    for r in range(3):
        cut = [slice(None)] * 3
        cut[r] = c[r]  # type: ignore[call-overload]
        panels = (_gray_rgb(vol[tuple(cut)]), colorize(truth[tuple(cut)], k),
                  colorize(pred[tuple(cut)], k))  # fmt: skip
        for j, (ax, img) in enumerate(zip(axes[r], panels, strict=True)):
            ax.imshow(img, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(("image", "truth", "prediction")[j], fontsize=10)
            if j == 0:
                ax.set_ylabel(names[r], fontsize=8)
    present = set(np.unique(truth).tolist()) | set(np.unique(pred).tolist())
    _legend(fig, classes, present)
    return fig


def plot_render(
    pred: np.ndarray,
    classes: list[str],
    skip: tuple[int, ...] = (0,),
    surface: int | None = None,
    max_side: int = 24,
) -> Figure:
    """A 3-D view of the predicted voxels of every class not in `skip` (ax.voxels on a grid
    subsampled to at most `max_side` per axis, to stay fast), with the top surface of class
    `surface` (e.g. the seabed) as grey points for context. Axis 0 is depth, drawn downwards.
    Shapes: pred (D, H, W) int."""
    if pred.ndim != 3:
        raise ValueError(f"plot_render takes a (D, H, W) label volume, got shape {pred.shape}")
    if max_side < 2:
        raise ValueError(f"max_side must be >= 2, got {max_side}")
    # ax.voxels costs about 1 ms per filled voxel: an untrained model that fills the volume
    # with objects must not take a minute to draw, so thin the grid to ~2000 filled voxels
    filled_all = int((~np.isin(pred, skip)).sum())
    step = max(
        1, int(np.ceil(max(pred.shape) / max_side)), int(np.ceil((filled_all / 2000) ** (1 / 3)))
    )
    lab = np.asarray(pred)[::step, ::step, ::step]
    # matplotlib's voxel grid is indexed [x, y, z] with z up: z = -depth
    grid = np.flip(lab, 0).transpose(2, 1, 0)  # (W', H', D')
    cols = class_colors(len(classes))
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    shown = [c for c in np.unique(grid).tolist() if c not in skip]
    if shown:
        filled = np.isin(grid, shown)
        face = np.zeros((*grid.shape, 4))
        face[..., :3] = cols[np.clip(grid, 0, len(classes) - 1)]
        face[..., 3] = 0.9
        ax.voxels(filled, facecolors=face, edgecolor=(0, 0, 0, 0.15), linewidth=0.3)
    if surface is not None and (grid == surface).any():
        hit = grid == surface  # (X, Y, Z)
        top = np.where(hit.any(2), grid.shape[2] - 1 - np.argmax(hit[..., ::-1], axis=2), -1)
        xs, ys = np.nonzero(top >= 0)
        ax.scatter(xs + 0.5, ys + 0.5, top[xs, ys] + 0.5, s=3, c="0.6", alpha=0.5,
                   depthshade=False)  # fmt: skip
    ax.set_xlim(0, grid.shape[0])
    ax.set_ylim(0, grid.shape[1])
    ax.set_zlim(0, grid.shape[2])
    ax.set_xlabel("axis 2")
    ax.set_ylabel("axis 1")
    ax.set_zlabel("height")
    sub = f" (1 voxel in {step} per axis)" if step > 1 else ""
    ax.set_title(f"predicted objects{sub}", fontsize=10)
    cols = class_colors(len(classes))
    handles = [Patch(color=cols[c], label=classes[c]) for c in shown if c < len(classes)]
    if surface is not None:
        handles.append(Patch(color="0.6", label=f"{classes[surface]} surface"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(handles)) or 1,
               fontsize=8, frameon=False)  # fmt: skip
    return fig


SEG_FIGURES = {
    "overlays.png": "Test images: image | truth | prediction",
    "slices.png": "Orthogonal slices through a test volume: image | truth | prediction",
    "render.png": "The predicted objects of that volume in 3-D",
    "curves.png": "Training curves: loss and validation mIoU",
}


def write_segment_report(folder: Path, config: dict[str, Any], results: dict[str, Any]) -> Path:
    """report.html of a segmentation run: the test scores beside the all-background
    baseline, per-class IoU and Dice, the figures in folder/figures and the config."""
    from cnnlab.viz.report import Image, Section, Table, write_report

    folder = Path(folder)
    t = results["test"]

    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:.3f}"

    summary = Table(
        ["", "model", "all background"],
        [["mIoU", f(t["miou"]), f(t["baseline_miou"])],
         ["mean Dice", f(t["mdice"]), f(t["baseline_mdice"])],
         ["pixel accuracy", f(t["pixel_acc"]), f(t["baseline_pixel_acc"])]],
        caption="test split; classes absent from truth and prediction are left out of the means",
    )  # fmt: skip
    text = (
        f"{config['model']} on {config['data']}: best epoch {results['best_epoch']} of "
        f"{results['epochs_run']}, {results['train_time_s']:.0f} s of training, "
        f"{results['parameters']:,} parameters.\n\n{results['data_source']}"
    )
    per_class = Table(
        ["class", "IoU", "Dice", "true pixels"],
        [[r["class"], f(r["iou"]), f(r["dice"]), r["pixels"]] for r in results["per_class"]],
    )
    figs = folder / "figures"
    images = [Image(cap, (figs / name).read_bytes()) for name, cap in SEG_FIGURES.items()
              if (figs / name).is_file()]  # fmt: skip
    config_rows = [[k, str(v)] for k, v in config.items()]
    sections = [
        Section("Test scores", text, [summary]),
        Section("Per class", "", [per_class]),
        Section("Figures", "", [], images),
        Section("Configuration", "", [Table(["option", "value"], config_rows)]),
    ]
    return write_report(folder / "report.html", f"Segmentation run {folder.name}", sections)
