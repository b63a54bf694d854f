"""Drawing the inside of a model: learned kernels and feature maps, from arrays (where the maps
are taken is tasks/classify/inside.py). Grids are drawn as one image per axes (tiles joined
with gaps): one imshow per layer keeps a 64-map figure fast.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from cnnlab.core.io import atomic_write

EXAMPLE = "input-example.png"  # the first test image, saved in figures/ after training
SIGNED_CMAP = "RdBu_r"  # blue < 0 < red, centred on zero
MAP_CMAP = "viridis"
GAP_COLOUR = "#a9bcd8"  # between kernel patches


# ---- small drawing helpers -----------------------------------------------------------------


def _tiles(maps: np.ndarray, ncols: int, gap: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tiles joined into one picture with `gap` pixels between them; small tiles are
    enlarged by whole pixels first so the gaps stay thin.
    Shapes: (N, h, w) or (N, h, w, 3) -> (rows * (h' + gap) - gap, cols * (w' + gap) - gap[, 3])."""
    n, h, w = maps.shape[:3]
    up = max(1, math.ceil(16 / max(h, w)))
    maps = np.repeat(np.repeat(maps, up, axis=1), up, axis=2)  # (N, h*up, w*up[, 3])
    h, w = h * up, w * up
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, *maps.shape[3:]), fill)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[i]
    return out


def _number_tiles(ax: Axes, n: int, cols: int, shape: tuple[int, ...], gap: int) -> None:
    """The channel number in the corner of each tile of a `_tiles` picture."""
    rows = math.ceil(n / cols)
    tile_h, tile_w = (shape[0] + gap) / rows, (shape[1] + gap) / cols
    box = {"pad": 0.5, "color": "black", "alpha": 0.4, "lw": 0}
    for i in range(n):
        r, col = divmod(i, cols)
        ax.text(col * tile_w, r * tile_h, str(i), fontsize=6, va="top", ha="left",
                color="white", bbox=box)  # fmt: skip


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _scaled_each(maps: np.ndarray) -> np.ndarray:
    """Each map to [0, 1] by its own min and max (a constant map becomes 0).
    Shapes: (N, ...) -> (N, ...)."""
    flat = maps.reshape(len(maps), -1)
    lo = flat.min(1).reshape(-1, *[1] * (maps.ndim - 1))
    span = (flat.max(1) - flat.min(1)).reshape(lo.shape)
    return np.divide(maps - lo, span, out=np.zeros_like(maps, dtype=np.float64), where=span > 0)


# ---- inside a trained model -----------------------------------------------------------------


def _layer_scale(maps: np.ndarray, scale: str) -> tuple[np.ndarray, str, float, float]:
    """(maps to draw, colormap, vmin, vmax) for one layer's maps. Shapes: (N, h, w)."""
    if scale == "map":
        return _scaled_each(maps), MAP_CMAP, 0.0, 1.0
    lo, hi = float(maps.min()), float(maps.max())
    if lo < 0:  # signed maps (a conv without ReLU): centre on zero
        m = max(-lo, hi) or 1.0
        return maps, SIGNED_CMAP, -m, m
    return maps, MAP_CMAP, 0.0, hi or 1.0


def _check_scale(scale: str) -> None:
    if scale not in ("layer", "map"):
        raise ValueError(f"scale must be 'layer' or 'map', got {scale!r}")


def plot_feature_maps(
    maps: torch.Tensor | np.ndarray, title: str = "", max_maps: int = 32, scale: str = "layer"
) -> Figure:
    """The first `max_maps` channels of one layer's feature map as a grid, in channel order.

    scale "layer": one colour scale for the whole layer (weak channels look dark, a colour
    bar gives values); "map": each map stretched to its own range.
    Shapes: maps (C, H, W) (or (1, C, H, W)).
    """
    if max_maps < 1:
        raise ValueError(f"max_maps must be >= 1, got {max_maps}")
    _check_scale(scale)
    arr = np.asarray(maps.detach().cpu() if isinstance(maps, torch.Tensor) else maps, np.float64)
    arr = arr[0] if arr.ndim == 4 else arr  # (C, H, W)
    if arr.ndim != 3:
        raise ValueError(f"maps must have shape (C, H, W), got {arr.shape}")
    c, h, w = arr.shape
    shown, cmap, vmin, vmax = _layer_scale(arr[:max_maps], scale)
    n = len(shown)
    cols = min(8, n)
    grid = _tiles(shown, cols)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(1.0 + 1.05 * cols, 0.9 + 1.05 * rows * h / w), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    _number_tiles(ax, n, cols, grid.shape, gap=1)
    _bare(ax)
    if scale == "layer":
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    shown_txt = f"channels 0-{n - 1} of {c}" if n < c else f"all {c} channels"
    scale_txt = "one colour scale for the layer" if scale == "layer" else "each map to its range"
    head = f"{title}\n" if title else ""
    ax.set_title(f"{head}{c}x{h}x{w} maps; {shown_txt}; {scale_txt}", fontsize=9)
    return fig


def plot_feature_overview(
    maps: dict[str, torch.Tensor],
    labels: dict[str, str] | None = None,
    image: np.ndarray | None = None,
    per_layer: int = 8,
    scale: str = "layer",
) -> Figure:
    """The input and one row per conv layer with its first `per_layer` maps.

    Shapes: maps {name: (1, C, H, W) or (C, H, W)}; image (H, W) or (H, W, 3) uint8.
    """
    if per_layer < 1:
        raise ValueError(f"per_layer must be >= 1, got {per_layer}")
    _check_scale(scale)
    rows = len(maps) + (image is not None)
    fig = Figure(figsize=(1.05 * per_layer + 0.8, 1.45 * rows + 0.2), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(rows, 1, squeeze=False)[:, 0]))
    if image is not None:
        ax = axes.pop(0)
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_anchor("W")
        ax.set_title("input", fontsize=9, loc="left")
        _bare(ax)
    for ax, (name, t) in zip(axes, maps.items(), strict=True):
        arr = np.asarray(t.detach().cpu(), np.float64)
        arr = arr[0] if arr.ndim == 4 else arr  # (C, H, W)
        shown, cmap, vmin, vmax = _layer_scale(arr[:per_layer], scale)
        ax.imshow(_tiles(shown, per_layer), cmap=cmap, vmin=vmin, vmax=vmax,
                  interpolation="nearest")  # fmt: skip
        ax.set_anchor("W")
        c, h, w = arr.shape
        label = (labels or {}).get(name, "")
        ax.set_title(f"{name}: {label}  [{c}x{h}x{w}]", fontsize=8, loc="left")
        _bare(ax)
    return fig


def plot_kernels(weight: torch.Tensor | np.ndarray, title: str = "") -> Figure:
    """A conv layer's kernels as a grid of small patches, each scaled to its own range.

    1 input channel: grey (black = most negative, white = most positive weight); 3 input
    channels: colour patches (R, G, B weights as colours); other counts: the channel mean.
    Shapes: weight (C_out, C_in, kh, kw).
    """
    w = np.asarray(weight.detach().cpu() if isinstance(weight, torch.Tensor) else weight)
    if w.ndim != 4:
        raise ValueError(f"weight must have shape (C_out, C_in, kh, kw), got {w.shape}")
    c_out, c_in, kh, kw = w.shape
    if c_in == 3:
        patches = _scaled_each(w.transpose(0, 2, 3, 1))  # (C_out, kh, kw, 3)
        kind = "colour (R, G, B weights)"
    else:
        patches = _scaled_each(w.mean(1) if c_in > 1 else w[:, 0])  # (C_out, kh, kw)
        kind = "grey" if c_in == 1 else f"grey, mean over {c_in} input channels"
    cols = 8 if c_out <= 32 else 16
    grid = _tiles(patches, cols, gap=2)
    if grid.ndim == 3:  # gaps in a colour no patch can have: black and white are both weights
        grid = np.where(np.isnan(grid), np.asarray(to_rgb(GAP_COLOUR)), grid)
    rows = math.ceil(c_out / min(cols, c_out))
    fig = Figure(figsize=(0.8 + 0.75 * min(cols, c_out), 0.9 + 0.75 * rows), layout="constrained")
    ax = fig.add_subplot()
    cmap = colormaps["gray"].with_extremes(bad=GAP_COLOUR)
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    _bare(ax)  # no numbers on the patches: they would hide a weight
    head = f"{title}\n" if title else ""
    ax.set_title(f"{head}{c_out} kernels {kh}x{kw} over {c_in} channel(s), {kind};\n"
                 "each patch scaled to its own range,\nnumbered row by row from 0 at the top left",
                 fontsize=9)  # fmt: skip
    return fig


# ---- the run report's "Inside the model" section --------------------------------------------


def save_example(figures_dir: Path, image: np.ndarray, label: str = "") -> Path:
    """Keep one test image (lossless, at the model's input size) for the run report.
    Shapes: image (C, H, W) uint8 with C 1 or 3."""
    from PIL import Image, PngImagePlugin

    arr = np.asarray(image, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        raise ValueError(f"image must have shape (C, H, W) with C 1 or 3, got {arr.shape}")
    info = PngImagePlugin.PngInfo()
    info.add_text("label", label)  # the true class, shown in the report's caption
    buf = io.BytesIO()
    Image.fromarray(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)).save(
        buf, "png", pnginfo=info
    )
    path = Path(figures_dir) / EXAMPLE
    atomic_write(path, buf.getvalue())
    return path
