"""Pictures of an agent playing: a game frame with its channels in colour (a grid game's
objects: ball, paddle, trail, ...) or grey (a camera frame), the Q-value of each action beside
it, the chosen action marked; and a GIF of an episode from those pictures. Drawn with PIL:
fast enough for thousands of frames."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

SIDE = 168  # pixels of the drawn frame's longer side
BARS = 190  # pixels of the Q-value panel's width


def frame_rgb(frame: np.ndarray, scale: float) -> np.ndarray:
    """A frame (C, H, W) uint8 as an RGB picture (H, W, 3): 0/1 grids get one colour per
    channel (a later channel drawn over an earlier one), camera frames their last channel in
    grey (the newest of a frame stack)."""
    if scale == 1.0:
        from matplotlib import colormaps

        cmap = colormaps["tab10" if frame.shape[0] <= 10 else "tab20"]
        colours = np.array([cmap(i % cmap.N)[:3] for i in range(frame.shape[0])]) * 255
        colours = colours.astype(np.uint8)
        out = np.zeros((*frame.shape[1:], 3), np.uint8)
        for c in range(frame.shape[0]):
            out[frame[c] > 0] = colours[c]
        return out
    grey = np.clip(frame[-1].astype(float) * (255.0 / scale), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def agent_picture(frame: np.ndarray, scale: float, q: np.ndarray, action: int,
                  names: Sequence[str], caption: str = "") -> Image.Image:  # fmt: skip
    """The frame, enlarged with sharp pixels, beside a bar per action's Q-value (the chosen
    action's bar filled)."""
    rgb = frame_rgb(frame, scale)
    h, w = rgb.shape[:2]
    k = max(1, SIDE // max(h, w))
    game = Image.fromarray(rgb).resize((w * k, h * k), Image.NEAREST)
    height = max(game.height, 22 * len(q) + 36)
    pic = Image.new("RGB", (game.width + BARS, height), "white")
    pic.paste(game, (0, 0))
    draw = ImageDraw.Draw(pic)
    lo, hi = min(0.0, float(q.min())), max(0.0, float(q.max()))
    span = (hi - lo) or 1.0
    x0, width = game.width + 62, BARS - 70
    zero = x0 + int(width * (0 - lo) / span)
    draw.text((game.width + 6, 4), "Q-values", fill="black")
    for i, (name, value) in enumerate(zip(names, q, strict=False)):
        y = 24 + 22 * i
        end = x0 + int(width * (float(value) - lo) / span)
        box = (min(zero, end), y, max(zero, end) + 1, y + 14)
        chosen = i == action
        draw.rectangle(box, fill="#d9480f" if chosen else None, outline="#d9480f")
        draw.text((game.width + 6, y + 1), str(name)[:8], fill="black")
    if caption:
        draw.text((game.width + 6, height - 14), caption, fill="#555555")
    return pic


def write_gif(pictures: Sequence[Image.Image], ms: int = 90) -> bytes:
    """The pictures as an endlessly looping GIF; `ms` per picture."""
    if not pictures:
        raise ValueError("no pictures to write")
    buf = io.BytesIO()
    first, *rest = [p.convert("P", palette=Image.ADAPTIVE, colors=64) for p in pictures]
    first.save(buf, format="GIF", save_all=True, append_images=rest, duration=ms, loop=0)
    return buf.getvalue()
