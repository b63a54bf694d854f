"""Fixed kernels on your own image: read it, filter it, draw the stages, save the arrays.

The figure follows the course's conv-visualization notebooks: original, kernel, filtered
(signed), ReLU, max-pooled, one row per kernel.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlab.core.io import atomic_write
from cnnlab.mechanics.kernels import FilterResult, kernel_labels

SIGNED_CMAP = "RdBu_r"  # blue < 0 < red, centred on zero


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


# ---- fixed kernels on one image ------------------------------------------------------------


def _robust_max(values: np.ndarray) -> float:
    """The 99.5th percentile of |values| (their maximum when that is 0), for colour scales."""
    a = np.abs(values)
    return float(np.percentile(a, 99.5)) or float(a.max()) or 1.0


def _draw_kernel(ax: Axes, kernel: np.ndarray) -> None:
    m = float(np.abs(kernel).max()) or 1.0
    ax.imshow(kernel, cmap=SIGNED_CMAP, vmin=-m, vmax=m, interpolation="nearest")
    labels, d = kernel_labels(kernel)
    kh, kw = kernel.shape
    if max(kh, kw) <= 7:  # numbers in larger kernels would not fit their cells
        size = 11 if max(kh, kw) <= 3 else 8 if max(kh, kw) <= 5 else 6
        for i in range(kh):
            for j in range(kw):
                strong = abs(kernel[i, j]) > 0.6 * m
                ax.text(j, i, labels[i][j], ha="center", va="center", fontsize=size,
                        color="white" if strong else "black")  # fmt: skip
    ax.set_xlabel(f"{kh}x{kw}" + (f", x 1/{d}" if d > 1 else ""), fontsize=8)
    _bare(ax)


def plot_filters(original: np.ndarray, results: list[FilterResult], colour: bool = False) -> Figure:
    """One row per kernel: original | kernel values | filtered | ReLU(filtered) | max-pooled.

    Filtered is signed, on a diverging scale centred on 0 (blue negative, red positive);
    ReLU and the pooled map share one grey scale from 0. Colour scales end at the 99.5th
    percentile of |value| (the few strongest edges would leave the rest dark); the xlabels
    give the true minimum and maximum.
    Shapes: original (H, W) or (H, W, 3) uint8; each result's maps (H, W) and pooled.
    """
    if not results:
        raise ValueError("results is empty: give at least one filtered kernel")
    n = len(results)
    fig = Figure(figsize=(13.5, 2.55 * n + 0.3), layout="constrained")
    axes = np.asarray(fig.subplots(n, 5, squeeze=False))
    for r, res in enumerate(results):
        ax_img, ax_k, ax_f, ax_relu, ax_pool = axes[r]
        ax_img.imshow(original, cmap="gray", vmin=0, vmax=255)
        ax_img.set_ylabel(res.name, fontsize=11, fontweight="bold")
        _draw_kernel(ax_k, res.kernel)
        m = _robust_max(res.filtered)
        im = ax_f.imshow(res.filtered, cmap=SIGNED_CMAP, vmin=-m, vmax=m)
        fig.colorbar(im, ax=ax_f, fraction=0.046, pad=0.02, extend="both")
        top = _robust_max(res.relu)
        ax_relu.imshow(res.relu, cmap="gray", vmin=0, vmax=top)
        im = ax_pool.imshow(res.pooled, cmap="gray", vmin=0, vmax=top)
        fig.colorbar(im, ax=ax_pool, fraction=0.046, pad=0.02, extend="max")
        h, w = res.filtered.shape
        ph, pw = res.pooled.shape
        ax_f.set_xlabel(f"{h}x{w}, min {res.filtered.min():.3g}, max {res.filtered.max():.3g}",
                        fontsize=8)  # fmt: skip
        ax_relu.set_xlabel(f"{h}x{w}, {np.mean(res.relu > 0):.0%} of pixels > 0", fontsize=8)
        ax_pool.set_xlabel(f"{ph}x{pw}, max {res.pooled.max():.3g}", fontsize=8)
        for ax in (ax_img, ax_f, ax_relu, ax_pool):
            _bare(ax)
        if r == 0:
            pool = f"{res.pool}x{res.pool} max-pool of ReLU" if res.pool > 1 else "no pooling"
            titles = ["original" + (" (filtered in grey)" if colour else ""), "kernel",
                      "filtered (signed)", "ReLU(filtered)", pool]  # fmt: skip
            for ax, t in zip(axes[0], titles, strict=True):
                ax.set_title(t, fontsize=10)
    return fig


def save_filter_arrays(results: list[FilterResult], folder: Path) -> list[Path]:
    """<name>-filtered.png (128 = 0, 0 and 255 = -/+ the largest |value|), <name>-relu.png and
    <name>-pooled.png (0 = 0, 255 = the largest response), grey 8-bit, full resolution."""
    from PIL import Image

    written = []
    for res in results:
        m = float(np.abs(res.filtered).max()) or 1.0
        top = float(res.relu.max()) or 1.0
        arrays = {
            "filtered": 127.5 + 127.5 * res.filtered / m,
            "relu": 255 * res.relu / top,
            "pooled": 255 * res.pooled / top,
        }
        for stage, arr in arrays.items():
            buf = io.BytesIO()
            Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8)).save(buf, "png")
            path = Path(folder) / f"{res.name}-{stage}.png"
            atomic_write(path, buf.getvalue())
            written.append(path)
    return written
