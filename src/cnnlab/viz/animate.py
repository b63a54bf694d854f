"""Explainer animations: a kernel (or pooling window) slides over the padded input, each output
cell fills in with its value, and the arithmetic of the current cell is written on the frame.

The numbers (`explain_conv`, `explain_pool`, computed by the reference implementation) live in
`cnnlab.viz.explain`; this module draws them. Frames are drawn with matplotlib (object API, Agg
canvas) into PIL images and Pillow writes the GIF with one shared palette, which keeps it small.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from cnnlab.core.io import atomic_write
from cnnlab.viz.explain import (
    PLANE_NAMES,
    Explanation,
    Frame,
    explain_conv,
    explain_pool,
    fmt_number,
)

PLANE_TINT = {"": "#ffffff", "R": "#fadcd9", "G": "#dcf0dd", "B": "#dbe5f7", "A": "#ebebeb",
              "c1": "#fff1cc", "c2": "#e6ddf4"}  # fmt: skip
PAD_COLOR, KERNEL_COLOR, TODO_COLOR = "#cfcfcf", "#dceafb", "#eeeeee"
WINDOW_COLOR, EDGE_COLOR, CURRENT_COLOR = "#ffa726", "#e65100", "#ffcc80"
DPI = 90


def _cells(values: np.ndarray) -> np.ndarray:
    """Cell labels of a 2-D array; -inf (max pooling's padding) as the symbol."""
    return np.array([["-∞" if np.isinf(v) else fmt_number(v) for v in row] for row in values],
                    dtype=object)  # fmt: skip


def _mix(a: str, b: str) -> str:
    return to_hex([(x + y) / 2 for x, y in zip(to_rgb(a), to_rgb(b), strict=True)])


def _header(e: Explanation, frame: Frame) -> list[str]:
    """The line above the arithmetic that says which cell it is and what is added up."""
    if frame.out_pos is None:
        return []
    cell = f"output cell {frame.out_pos}:"
    if e.kind == "max":
        return [f"{cell} the largest value in its window"]
    if e.kind == "avg":
        pad = " (padding counts as 0)" if e.padding else ""
        return [f"{cell} the mean of its window{pad}"]
    if e.channels == 1:
        return [f"{cell} the sum of input * weight over the window"]
    return [f"{cell} input * weight summed in each plane, then the planes added"]


class _Canvas:
    """One figure drawn once; each frame only moves the highlights and fills output cells."""

    def __init__(self, expl: Explanation) -> None:
        self.e = e = expl
        c, k, o = e.channels, e.kernel, e.out_size
        p_size = e.padded.shape[-1]
        self.off = off = max(0.6, 0.08 * p_size) if c > 1 else 0.0  # deck offset per plane
        in_w, k_w = p_size + (c - 1) * off, k + (c - 1) * off
        gap = 1.6
        self.x_in, self.x_k = 0.0, in_w + gap
        self.x_out = self.x_k + k_w + gap
        width, height = self.x_out + o, max(in_w, k_w, o)
        y_k, y_out = (height - k_w) / 2, (height - o) / 2
        n_lines = max(len(f.lines) for f in e.frames) + 1  # + the line naming the cell
        longest = max(len(s) for f in e.frames for s in f.lines)
        cell = min(0.42, 10.5 / width, 6.0 / (height + 1.3))  # inches per grid cell
        text_h, title_h = 0.2 * n_lines + 0.3, 0.75
        fig_w = max(width * cell + 0.5, longest * 9 * 0.6 / 72 + 0.6, len(e.title) * 0.1 + 0.4)
        fig_h = (height + 1.3) * cell + text_h + title_h
        self.fig = fig = Figure(figsize=(fig_w, fig_h), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(fig)
        ax_w, ax_h = width * cell / fig_w, (height + 1.3) * cell / fig_h
        self.ax = ax = fig.add_axes((0.5 - ax_w / 2, text_h / fig_h, ax_w, ax_h))
        ax.set_axis_off()
        self.fs = fs = max(5.0, cell * 72 * 0.36)
        fig.text(0.5, 1 - 0.1 / fig_h, e.title, ha="center", va="top", fontsize=11,
                 weight="bold")  # fmt: skip
        fig.text(0.5, 1 - 0.4 / fig_h, e.formula, ha="center", va="top", fontsize=10.5,
                 family="monospace")  # fmt: skip
        self.text = fig.text(0.3 / fig_w, (text_h - 0.12) / fig_h, "", ha="left", va="top",
                             fontsize=9, family="monospace")  # fmt: skip
        self.dynamic: list = []
        names = PLANE_NAMES[c]
        pad = e.padding
        shown = np.full(e.padded.shape[-2:], "", dtype=object)
        for c_i in reversed(range(c)):  # back planes first, so the front plane covers them
            tint = PLANE_TINT[names[c_i]]
            colors = np.full(e.padded.shape[-2:], tint, dtype=object)
            if pad:  # grey, with a hint of the plane's colour so a deck of padding stays apart
                pad_color = PAD_COLOR if c == 1 else _mix(tint, PAD_COLOR)
                colors[:pad], colors[-pad:], colors[:, :pad], colors[:, -pad:] = (pad_color,) * 4
            texts = shown
            if c_i == 0:  # numbers only on the front plane; the others are in the arithmetic
                texts = _cells(e.padded[0, 0])
            x0, y0 = self.x_in + c_i * off, (c - 1 - c_i) * off
            self._grid(x0, y0, colors, texts, z=10 * (c - c_i), pad=pad)
            if names[c_i]:  # back planes are named in their visible strip, the front one left
                at = (x0 + 0.12, y0 + off / 2) if c_i else (x0 - 0.12, y0 + 0.5)
                ax.text(*at, names[c_i], fontsize=fs, weight="bold", va="center",
                        ha="left" if c_i else "right", zorder=10 * (c - c_i) + 5)  # fmt: skip
        self.y_k, self.y_out = y_k, y_out
        if e.w is not None:  # the kernel: a deck of c planes like the input
            for c_i in reversed(range(c)):
                tint = PLANE_TINT[names[c_i]] if c > 1 else KERNEL_COLOR
                colors = np.full((k, k), tint, dtype=object)
                texts = shown[:k, :k] if c_i else _cells(e.w[0, 0])
                x0, y0 = self.x_k + c_i * off, y_k + (c - 1 - c_i) * off
                self._grid(x0, y0, colors, texts, z=10 * (c - c_i))
            label = f"kernel {k}x{k}" + (f"x{c}" if c > 1 else "")
            label += f", dilation {e.dilation}" if e.dilation > 1 else ""
            sym = "∗"
        else:  # pooling: the middle panel shows the current window's values
            label = f"{'max' if e.kind == 'max' else 'mean'} of the {k}x{k} window"
            sym = "→"
        ax.text(self.x_k + k_w / 2, y_k - 0.35, label, ha="center", va="bottom", fontsize=fs)
        in_label = f"input {e.x.shape[-1]}x{e.x.shape[-1]}" + (f", padding {pad}" if pad else "")
        ax.text(self.x_in + in_w / 2, -0.35, in_label, ha="center", va="bottom", fontsize=fs)
        ax.text(self.x_out + o / 2, y_out - 0.35, f"output {o}x{o}", ha="center", va="bottom",
                fontsize=fs)  # fmt: skip
        for x, s in ((self.x_k - gap / 2, sym), (self.x_out - gap / 2, "=")):
            ax.text(x, height / 2, s, ha="center", va="center", fontsize=fs * 1.8)
        box = (self.x_out, self.x_out + o, y_out + o, y_out)
        self.out_im = ax.imshow(np.ones((o, o, 3)), extent=box, zorder=1, aspect="auto",
                                interpolation="nearest")  # fmt: skip
        self.out_texts = [[ax.text(self.x_out + j + 0.5, y_out + i + 0.5, "", ha="center",
                                   va="center", fontsize=fs * (1 if e.kind != "avg" else 0.8),
                                   zorder=4) for j in range(o)] for i in range(o)]  # fmt: skip
        self._lines(self.x_out, y_out, o, o, z=2)
        ax.set_xlim(-0.8 if c > 1 else -0.2, width + 0.2)
        ax.set_ylim(height + 0.2, -1.1)

    def _grid(self, x0: float, y0: float, colors: np.ndarray, texts: np.ndarray, z: float,
              pad: int = 0) -> None:  # fmt: skip
        h, w = colors.shape
        rgb = np.array([[to_rgb(col) for col in row] for row in colors])  # (h, w, 3)
        self.ax.imshow(rgb, extent=(x0, x0 + w, y0 + h, y0), zorder=z, aspect="auto",
                       interpolation="nearest")  # fmt: skip
        self._lines(x0, y0, h, w, z + 2)
        for (i, j), s in np.ndenumerate(texts):
            if s:
                is_pad = pad and not (pad <= i < h - pad and pad <= j < w - pad)
                self.ax.text(x0 + j + 0.5, y0 + i + 0.5, s, ha="center", va="center",
                             fontsize=self.fs, color="0.45" if is_pad else "black",
                             zorder=z + 3)  # fmt: skip

    def _lines(self, x0: float, y0: float, h: int, w: int, z: float) -> None:
        ax = self.ax
        ax.vlines([x0 + j for j in range(w + 1)], y0, y0 + h, colors="0.55", lw=0.7, zorder=z)
        ax.hlines([y0 + i for i in range(h + 1)], x0, x0 + w, colors="0.55", lw=0.7, zorder=z)
        ax.add_patch(Rectangle((x0, y0), w, h, fill=False, ec="0.25", lw=1.2, zorder=z))

    def draw(self, index: int) -> Image.Image:
        """Render frame `index`: every state is set from the index, so any subset renders."""
        e, ax, frame = self.e, self.ax, self.e.frames[index]
        for artist in self.dynamic:
            artist.remove()
        self.dynamic = []
        o, c, k, off = e.out_size, e.channels, e.kernel, self.off
        done = index if frame.out_pos is not None else o * o  # cells 0..done are filled in
        fills = np.empty((o, o, 3))
        for n, (i, j) in enumerate(np.ndindex(o, o)):
            shown = n <= done
            self.out_texts[i][j].set_text(fmt_number(e.output[0, 0, i, j]) if shown else "")
            fill = CURRENT_COLOR if n == index else ("white" if shown else TODO_COLOR)
            fills[i, j] = to_rgb(fill)
        self.out_im.set_data(fills)
        self.text.set_text("\n".join(_header(e, frame) + list(frame.lines)))
        if frame.window is not None:
            rows, cols = frame.window
            i, j = frame.out_pos
            self._add(Rectangle((self.x_out + j, self.y_out + i), 1, 1, fill=False, ec=EDGE_COLOR,
                                lw=2.4, zorder=5))  # fmt: skip
            span = rows[-1] - rows[0] + 1
            for c_i in range(c):
                x0, y0, z = self.x_in + c_i * off, (c - 1 - c_i) * off, 10 * (c - c_i)
                for r in rows:
                    for q in cols:
                        self._add(Rectangle((x0 + q, y0 + r), 1, 1, fc=WINDOW_COLOR, alpha=0.55,
                                            ec="none", zorder=z + 1))  # fmt: skip
                self._add(Rectangle((x0 + cols[0], y0 + rows[0]), span, span, fill=False,
                                    ec=EDGE_COLOR, lw=2.2, ls="--" if e.dilation > 1 else "-",
                                    zorder=z + 4))  # fmt: skip
            if e.w is None:  # pooling: copy the window's values into the middle panel
                vals = e.padded[0, 0][np.ix_(rows, cols)]  # (k, k)
                best = vals.max()
                for (a, b), v in np.ndenumerate(vals):
                    hot = e.kind == "avg" or v == best
                    xy = (self.x_k + b, self.y_k + a)
                    fc = CURRENT_COLOR if hot else "white"
                    self._add(Rectangle(xy, 1, 1, ec="0.4", lw=0.7, fc=fc, zorder=2))
                    bold = "bold" if hot and e.kind == "max" else "normal"
                    s = _cells(np.array([[v]]))[0, 0]
                    self._add(ax.text(xy[0] + 0.5, xy[1] + 0.5, s, ha="center", va="center",
                                      fontsize=self.fs, zorder=3, weight=bold))  # fmt: skip
            else:
                z = 10 * c + 4
                self._add(Rectangle((self.x_k, self.y_k + (c - 1) * off), k, k, fill=False,
                                    ec=EDGE_COLOR, lw=2.2, zorder=z))  # fmt: skip
        self.canvas.draw()
        return Image.frombuffer("RGBA", self.canvas.get_width_height(),
                                bytes(self.canvas.buffer_rgba())).convert("RGB")  # fmt: skip

    def _add(self, artist: Any) -> Any:
        if isinstance(artist, Rectangle):
            self.ax.add_artist(artist)  # not add_patch: the limits are fixed, and that is slow
        self.dynamic.append(artist)
        return artist


def render_frames(expl: Explanation, indices: list[int] | None = None) -> list[Image.Image]:
    """Draw the frames (all, or those at `indices`) as RGB PIL images of equal size.

    Shapes: one (H, W, 3) image per frame; H, W grow with the grid sizes.
    """
    canvas = _Canvas(expl)
    return [canvas.draw(i) for i in (range(len(expl.frames)) if indices is None else indices)]


def _palette(frames: list[Image.Image], n: int = 48) -> np.ndarray:
    """One palette for all frames, taken from a frame with highlights and the final one: a
    shared palette lets the GIF store only what changes between frames.

    Shapes: (n, 3) uint8 colours.
    """
    probe = [frames[0], frames[-1]]
    strip = Image.new("RGB", (probe[0].width, probe[0].height * 2), "white")
    for k, im in enumerate(probe):
        strip.paste(im, (0, k * im.height))
    pal = strip.quantize(colors=n, method=Image.Quantize.MEDIANCUT).getpalette()[: n * 3]
    colors = np.array(pal, dtype=np.int32).reshape(-1, 3)  # (n, 3)
    # median cut averages: put pure white and black back, or the page turns grey
    for target in (255, 0):
        colors[np.abs(colors - target).sum(axis=1).argmin()] = target
    return colors.astype(np.uint8)


def _to_palette(frame: Image.Image, colors: np.ndarray) -> Image.Image:
    """Map each pixel to its nearest palette colour, exactly (Pillow's own mapping is coarse:
    it turned white into 252 grey). Only the few thousand distinct colours are compared."""
    rgb = np.asarray(frame, dtype=np.int32)  # (H, W, 3)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]  # (H, W)
    uniq, inverse = np.unique(packed, return_inverse=True)
    u = np.stack([uniq >> 16, (uniq >> 8) & 255, uniq & 255], axis=1)  # (U, 3)
    dist = ((u[:, None, :] - colors[None].astype(np.int32)) ** 2).sum(axis=-1)  # (U, n)
    index = dist.argmin(axis=1).astype(np.uint8)[inverse].reshape(packed.shape)
    im = Image.fromarray(index, mode="P")
    im.putpalette(colors.ravel().tolist())
    return im


def render_gif(expl: Explanation, path: Path | str, fps: float = 2.0,
               frames: list[Image.Image] | None = None) -> Path:  # fmt: skip
    """Write the animation as a GIF (one frame per output cell, then the full output, shown 3x
    as long) to `path`, atomically; `frames` from render_frames saves drawing them twice.

    Shapes: len(expl.frames) frames.
    """
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    frames = render_frames(expl) if frames is None else frames
    colors = _palette(frames)
    images = [_to_palette(f, colors) for f in frames]
    ms = max(20, round(1000 / fps))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   optimize=True, duration=[ms] * (len(images) - 1) + [3 * ms])  # fmt: skip
    path = Path(path)
    atomic_write(path, buf.getvalue())
    return path


def sheet_indices(expl: Explanation, max_frames: int = 16) -> list[int]:
    """The frames a sheet shows: all of them, or `max_frames` evenly chosen cell frames plus
    the final one.

    Shapes: a sorted list of at most max_frames + 1 frame indices.
    """
    cells = len(expl.frames) - 1
    if cells <= max_frames:
        return list(range(cells + 1))
    return sorted({round(t) for t in np.linspace(0, cells - 1, max_frames)}) + [cells]


def render_sheet(expl: Explanation, path: Path | str, max_frames: int = 16,
                 frames: list[Image.Image] | None = None) -> Path:  # fmt: skip
    """Write a PNG contact sheet of the frames at `sheet_indices` (`frames`, when given, are
    all frames from render_frames), titled once. Returns the path.

    Shapes: a near-square grid of frames, each at 60 % size without its title.
    """
    chosen = sheet_indices(expl, max_frames)
    frames = render_frames(expl, chosen) if frames is None else [frames[i] for i in chosen]
    top = round(0.72 * DPI)  # each frame's title rows: the sheet has one title for all
    tiles = [f.crop((0, top, f.width, f.height)) for f in frames]
    tiles = [t.resize((t.width * 3 // 5, t.height * 3 // 5), Image.Resampling.LANCZOS)
             for t in tiles]  # fmt: skip
    ncol = min(len(tiles), max(2, math.ceil(math.sqrt(len(tiles)) * 1.2)))
    nrow = math.ceil(len(tiles) / ncol)
    tw, th, gap = tiles[0].width, tiles[0].height, 6
    head = frames[0].crop((0, 0, frames[0].width, top))
    size = (max(ncol * tw + (ncol - 1) * gap, head.width), top + nrow * th + nrow * gap)
    sheet = Image.new("RGB", size, (204, 204, 204))
    sheet.paste((255, 255, 255), (0, 0, size[0], top))
    sheet.paste(head, ((size[0] - head.width) // 2, 0))
    for n, t in enumerate(tiles):
        sheet.paste(t, ((n % ncol) * (tw + gap), top + gap + (n // ncol) * (th + gap)))
    buf = io.BytesIO()
    sheet = sheet.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    sheet.save(buf, format="PNG", optimize=True)
    path = Path(path)
    atomic_write(path, buf.getvalue())
    return path


__all__ = [
    "Explanation",
    "Frame",
    "explain_conv",
    "explain_pool",
    "render_frames",
    "render_gif",
    "render_sheet",
    "sheet_indices",
]
