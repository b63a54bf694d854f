"""Figures and the report of an autoencoder run: reconstruction rows, curves, sample grids.

Reconstructions and curves are matplotlib figures (labelled rows and axes); samples and
interpolations are plain pixel grids (torchvision's make_grid, drawn at an integer scale),
so their size in pixels is exact: ncols * (W + 2) + 2 wide at scale 1.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image as PILImage
from torchvision.utils import make_grid

from cnnlab.core.errors import RunError
from cnnlab.core.io import atomic_write
from cnnlab.viz.figures import TRAIN_COLOR, VAL_COLOR, save_figure
from cnnlab.viz.report import Image, Section, Table, flatten, read_json, read_yaml, write_report

GRID_PAD = 2  # pixels between the images of a grid
FIGURES = {
    "reconstructions.png": "test images: input, noisy input (when denoising), reconstruction",
    "curves.png": "loss and validation PSNR per epoch",
    "samples.png": "new images: the decoder applied to codes drawn from N(0, I)",
    "interpolation.png": "decoding (1 - t) mu_a + t mu_b between test images 0 and 1",
}


def _uint8(images: torch.Tensor) -> np.ndarray:
    """[0, 1] float or uint8 (N, C, H, W) -> uint8 numpy (N, C, H, W)."""
    if images.dtype != torch.uint8:
        images = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    return images.cpu().numpy()


def _show(ax: Any, img: np.ndarray) -> None:
    ax.imshow(
        img[0] if img.shape[0] == 1 else np.transpose(img, (1, 2, 0)),
        cmap="gray",
        vmin=0,
        vmax=255,
        interpolation="nearest",
    )
    ax.set_xticks([])
    ax.set_yticks([])


def plot_reconstructions(
    clean: torch.Tensor, output: torch.Tensor, noisy: torch.Tensor | None = None
) -> Figure:
    """One column per test image; rows input / noisy (if given) / output.

    Shapes: clean, output, noisy (N, C, H, W) in [0, 1] or uint8, C = 1 or 3, N >= 1.
    """
    rows = [("input", clean)] + ([("noisy", noisy)] if noisy is not None else [])
    rows.append(("output", output))
    n = len(clean)
    if n == 0 or any(len(r) != n for _, r in rows):
        raise ValueError(f"clean, output (and noisy) need the same N >= 1 images, got {n}")
    fig = Figure(figsize=(1.0 * n + 0.6, 1.05 * len(rows)), layout="constrained")
    axes = np.asarray(fig.subplots(len(rows), n, squeeze=False))
    for r, (label, images) in enumerate(rows):
        arr = _uint8(images)
        for i in range(n):
            _show(axes[r, i], arr[i])
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig


def plot_ae_curves(rows: list[dict[str, float]]) -> Figure:
    """Left: train and val loss; right: val PSNR (dB). Shapes: rows, one dict per epoch."""
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_loss, ax_psnr = fig.subplots(1, 2)
    for key, color, label in (("train/loss", TRAIN_COLOR, "train"), ("val/loss", VAL_COLOR, "val")):
        pts = [(r.get("epoch", i + 1), r[key]) for i, r in enumerate(rows) if key in r]
        if pts:
            ax_loss.plot(*zip(*pts, strict=True), marker="o", ms=3, color=color, label=label)
    pts = [(r.get("epoch", i + 1), r["val/psnr"]) for i, r in enumerate(rows) if "val/psnr" in r]
    if pts:
        ax_psnr.plot(*zip(*pts, strict=True), marker="o", ms=3, color=VAL_COLOR, label="val")
    else:
        ax_psnr.text(
            0.5,
            0.5,
            "no validation split",
            ha="center",
            va="center",
            transform=ax_psnr.transAxes,
            color="0.4",
        )
    for ax, title in ((ax_loss, "loss"), (ax_psnr, "PSNR (dB, higher is better)")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    return fig


def grid_png(images: torch.Tensor, ncols: int = 8, scale: int = 2) -> bytes:
    """A pixel grid of images as PNG bytes, GRID_PAD white pixels between them, each pixel
    drawn as scale x scale. Size: (ncols * (W + 2) + 2) * scale wide,
    (ceil(N / ncols) * (H + 2) + 2) * scale high. Shapes: (N, C, H, W), C = 1 or 3."""
    if ncols < 1 or scale < 1:
        raise ValueError(f"ncols and scale must be >= 1, got {ncols} and {scale}")
    if images.ndim != 4 or images.shape[1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"images must be (N >= 1, 1 or 3, H, W), got {tuple(images.shape)}")
    x = torch.from_numpy(_uint8(images)).float() / 255
    # make_grid always lays out ncols per row (fills the last row with padding)
    g = make_grid(x, nrow=ncols, padding=GRID_PAD, pad_value=1.0)  # (3, H', W')
    g = g.repeat_interleave(scale, 1).repeat_interleave(scale, 2)
    arr = (g * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()  # (H', W', 3)
    pil = PILImage.fromarray(arr[:, :, 0], "L") if images.shape[1] == 1 else PILImage.fromarray(arr)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def grid_size(n: int, h: int, w: int, ncols: int = 8, scale: int = 2) -> tuple[int, int]:
    """(width, height) in pixels of grid_png for n images of h x w."""
    cols = min(ncols, n)
    rows = math.ceil(n / ncols)
    return ((cols * (w + GRID_PAD) + GRID_PAD) * scale, (rows * (h + GRID_PAD) + GRID_PAD) * scale)


def save_grid(images: torch.Tensor, path: Path, ncols: int = 8, scale: int = 2) -> Path:
    """Write grid_png(images) to `path` atomically. Shapes: (N, C, H, W) in [0, 1]."""
    path = Path(path)
    atomic_write(path, grid_png(images, ncols, scale))
    return path


# ---- the report ----------------------------------------------------------------------------


def _f(value: Any, digits: int = 4) -> str:
    return (
        "—" if value is None else f"{value:.{digits}g}" if isinstance(value, float) else str(value)
    )


def _metrics_rows(results: dict[str, Any]) -> list[list[str | float | int]]:
    """metric | model | mean-image baseline | noisy input, for mse, psnr, ssim."""
    test, base = results.get("test", {}), results.get("baseline", {})
    rows: list[list[str | float | int]] = []
    for key, label in (("mse", "MSE"), ("psnr", "PSNR (dB)"), ("ssim", "SSIM")):
        if key in test:
            rows.append([label, _f(test[key]), _f(base.get(key)), _f(test.get(f"noisy_{key}"))])
    return rows


def metrics_table(results: dict[str, Any]) -> Table:
    """The test metrics of a results.json against the baseline (and the noisy input)."""
    caption = (
        f"on {results.get('test_images', '?')} test images; baseline = predicting the "
        "training set's mean image for every image"
    )
    headers = ["metric", "autoencoder", "mean-image baseline", "noisy input"]
    return Table(headers, _metrics_rows(results), caption=caption)


def ae_report(folder: Path) -> Path:
    """Write folder/report.html for an autoencoder run folder and return its path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder} is not a folder; give a run folder of `cnnlab autoencode`")
    cfg = read_yaml(folder / "config.yaml")
    res = read_json(folder / "results.json") or {}
    shape = "x".join(str(s) for s in res.get("latent_shape", [])) or "—"
    summary = Table(
        ["", "value"],
        [
            ["model", str(cfg.get("model", "—"))],
            ["parameters", f"{res['parameters']:,}" if "parameters" in res else "—"],
            ["data source", str(res.get("data_source", cfg.get("data", "—")))],
            ["noise (denoising)", str(res.get("noise", cfg.get("noise", "none")))],
            ["code", f"{shape} = {res.get('latent_size', '—')} values"],
            [
                "compression ratio",
                f"{_f(res.get('compression_ratio'))} : 1 (input values / code values)",
            ],
            ["epochs run", f"{res.get('epochs_run', '—')} of {cfg.get('epochs', '—')}"],
            ["best epoch", str(res.get("best_epoch", "—"))],
            ["train time", f"{res.get('train_time_s', 0):.1f} s"],
        ],
    )
    images = [
        Image(cap, (folder / "figures" / name).read_bytes())
        for name, cap in FIGURES.items()
        if (folder / "figures" / name).is_file()
    ]
    sections = [
        Section("Summary", tables=[summary]),
        Section("Test metrics", tables=[metrics_table(res)])
        if res
        else Section("Test metrics", "No results.json yet: the run is paused or was interrupted."),
        Section("Figures", images=images),
        Section("Configuration", tables=[Table(["key", "value"], flatten(cfg))]),
    ]
    return write_report(
        folder / "report.html",
        f"Run {folder.name}",
        sections,
        subtitle=f"autoencoder {cfg.get('model', '')} on {cfg.get('data', '')}",
    )


def read_results(folder: Path) -> dict[str, Any]:
    """results.json of a run folder ({} when absent)."""
    path = Path(folder) / "results.json"
    return json.loads(path.read_text()) if path.is_file() else {}


__all__ = [
    "ae_report",
    "grid_png",
    "grid_size",
    "metrics_table",
    "plot_ae_curves",
    "plot_reconstructions",
    "read_results",
    "save_figure",
    "save_grid",
]
