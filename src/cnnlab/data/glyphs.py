"""Letters drawn from the fonts installed on this machine: the "different" target of the transfer
study. White glyphs on black, 1 channel, like Fashion-MNIST, so one backbone reads both.

Each letter is rendered once per font and font size into a cache of templates; every image is
then a template moved by its own random affine map (rotation, shear, scale, translation), with
light blur and noise, all on the whole batch at once: 7,000 images take well under a second,
where drawing each image with PIL would take seconds.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnlab.core.errors import DataError

if TYPE_CHECKING:  # torch is imported where the glyphs are drawn: listing datasets needs none
    import torch

    from cnnlab.data.images import ImageData

LETTERS = "ABCDEFGHIJ"
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
FONT_FRACTIONS = (0.6, 0.68, 0.76, 0.84, 0.92)  # font sizes as a share of the image side
NOTDEF = "\U0010fffd"  # a code point no font draws: what its box looks like marks "missing"


def find_fonts() -> list[Path]:
    """The TrueType/OpenType font files installed here, sorted so a seed means the same fonts."""
    found: set[str] = set()
    for folder in FONT_DIRS:
        root = os.path.expanduser(folder)
        for ext in ("ttf", "otf", "TTF", "OTF"):
            found.update(glob.glob(os.path.join(root, "**", f"*.{ext}"), recursive=True))
    if not found and shutil.which("fc-list"):
        # fonts configured elsewhere (FONTCONFIG_FILE, other prefixes) are still named by fc-list
        out = subprocess.run(
            ["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, check=False
        ).stdout
        found.update(f for f in out.splitlines() if f.lower().endswith((".ttf", ".otf")))
    return sorted(Path(f) for f in found)


def _letter_mask(font: object, letter: str) -> np.ndarray | None:
    """The letter's ink as float in [0, 1], cropped to its box; None when the font lacks it."""
    mask = font.getmask(letter)  # type: ignore[attr-defined]
    if mask.getbbox() is None:
        return None
    ink = np.asarray(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0])
    notdef = font.getmask(NOTDEF)  # type: ignore[attr-defined]
    if notdef.size == mask.size and bytes(notdef) == bytes(mask):
        return None  # the font drew its "missing glyph" box instead of the letter
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255.0


def _place(ink: np.ndarray, size: int) -> np.ndarray:
    """Centre the ink's box on a size x size canvas, shrinking it first if it would not fit."""
    from PIL import Image

    h, w = ink.shape
    room = size - 2
    if h > room or w > room:
        k = room / max(h, w)
        h, w = max(1, round(h * k)), max(1, round(w * k))
        img = Image.fromarray((ink * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR)
        ink = np.asarray(img, dtype=np.float32) / 255.0
    canvas = np.zeros((size, size), np.float32)
    top, left = (size - h) // 2, (size - w) // 2
    canvas[top : top + h, left : left + w] = ink
    return canvas


@functools.lru_cache(maxsize=8)
def _templates(
    letters: str, fonts: tuple[str, ...], size: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every letter x font x size drawn once. Shapes: (T, size, size) float32; per letter the
    indices of its templates."""
    from PIL import ImageFont

    images: list[np.ndarray] = []
    per_letter: list[list[int]] = [[] for _ in letters]
    for path in fonts:
        for frac in FONT_FRACTIONS:
            try:
                font = ImageFont.truetype(path, max(4, round(size * frac)))
            except OSError:
                break  # not a font PIL can read (a broken or exotic file): skip it
            for i, letter in enumerate(letters):
                ink = _letter_mask(font, letter)
                if ink is not None:
                    per_letter[i].append(len(images))
                    images.append(_place(ink, size))
    missing = [ch for ch, idx in zip(letters, per_letter, strict=True) if not idx]
    if missing:
        raise DataError(
            f"no installed font can draw {''.join(missing)!r}; choose other letters or install "
            "fonts that have them (e.g. apt install fonts-dejavu-core)"
        )
    return np.stack(images), [np.asarray(idx) for idx in per_letter]


def _affine_thetas(n: int, size: int, rng: np.random.Generator) -> torch.Tensor:
    """Random inverse affine maps for affine_grid. Shapes: (n, 2, 3) float32."""
    import torch

    rot = np.deg2rad(rng.uniform(-15, 15, n))
    shear = np.tan(np.deg2rad(rng.uniform(-12, 12, n)))
    scale = rng.uniform(0.8, 1.1, n)
    shift = rng.uniform(-2, 2, (n, 2)) * 2.0 / size  # pixels -> normalized [-1, 1] units
    cos, sin = np.cos(rot), np.sin(rot)
    # forward map (glyph -> image) = rotate @ shear @ scale; affine_grid wants its inverse
    fwd = np.empty((n, 2, 2))
    fwd[:, 0, 0] = scale * cos
    fwd[:, 0, 1] = scale * (cos * shear - sin)
    fwd[:, 1, 0] = scale * sin
    fwd[:, 1, 1] = scale * (sin * shear + cos)
    inv = np.linalg.inv(fwd)
    theta = np.concatenate([inv, -(inv @ shift[:, :, None])], axis=2)
    return torch.from_numpy(theta.astype(np.float32))


def _blur(x: torch.Tensor, rng: np.random.Generator, p: float = 0.3) -> torch.Tensor:
    """A 3x3 Gaussian blur of random width on a random share p of the images. Shapes: (N,1,H,W)."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    sigma = np.where(rng.random(n) < p, rng.uniform(0.4, 0.9, n), 0.0)
    taps = np.exp(-0.5 * (np.arange(-1, 2)[None, :] / np.maximum(sigma, 1e-6)[:, None]) ** 2)
    taps /= taps.sum(1, keepdims=True)  # sigma 0 gives the identity kernel [0, 1, 0]
    kernel = torch.from_numpy(np.einsum("ni,nj->nij", taps, taps).astype(np.float32))
    # one group per image: each gets its own kernel in a single conv call
    out = F.conv2d(x.transpose(0, 1), kernel[:, None], padding=1, groups=n)  # (1, N, H, W)
    return out.transpose(0, 1)


def glyph_arrays(
    letters: str = LETTERS,
    per_class: int = 600,
    test_per_class: int = 100,
    size: int = 28,
    seed: int = 0,
    fonts: tuple[str | Path, ...] | list[str | Path] | None = None,
) -> dict[str, np.ndarray]:
    """The raw arrays load_dataset splits: train_x, train_y, test_x, test_y.

    Shapes: *_x (N, 1, size, size) uint8, *_y (N,) int64; N = classes x per_class (train) or
    classes x test_per_class (test).
    """
    if len(letters) < 2 or len(set(letters)) != len(letters):
        raise ValueError(f"letters must be at least 2 different characters, got {letters!r}")
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    if test_per_class < 1:
        raise ValueError(f"test_per_class must be at least 1, got {test_per_class}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    paths = tuple(str(f) for f in (find_fonts() if fonts is None else fonts))
    if not paths:
        raise DataError(
            "no fonts found to draw the glyphs dataset (looked in "
            f"{', '.join(FONT_DIRS)} and fc-list); install some, e.g. apt install fonts-dejavu-core"
        )
    arrays = _generate(letters, per_class, test_per_class, size, seed, paths)
    return {k: v.copy() for k, v in arrays.items()}  # callers may write into theirs


@functools.lru_cache(maxsize=4)
def _generate(
    letters: str, per_class: int, test_per_class: int, size: int, seed: int, fonts: tuple[str, ...]
) -> dict[str, np.ndarray]:
    # cached: a study loads the same default set for every seed and strategy
    import torch
    import torch.nn.functional as F

    templates, per_letter = _templates(letters, fonts, size)
    rng = np.random.default_rng(seed)
    k = len(letters)
    n_each = per_class + test_per_class
    labels = np.repeat(np.arange(k), n_each)  # (k * n_each,)
    pick = np.concatenate([rng.choice(idx, n_each) for idx in per_letter])
    n = len(labels)
    x = torch.from_numpy(templates[pick])[:, None]  # (N, 1, H, W)
    grid = F.affine_grid(_affine_thetas(n, size, rng), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    x = _blur(x, rng)
    # thin fonts (ExtraLight) at small sizes antialias to grey: stretch every glyph to full white
    x = x / x.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-3)
    bright = torch.from_numpy(rng.uniform(0.75, 1.0, (n, 1, 1, 1)).astype(np.float32))
    noisy = rng.random(n) < 0.5
    sd = np.where(noisy, rng.uniform(2.0, 10.0, n), 0.0)[:, None, None, None] / 255.0
    noise = torch.from_numpy((rng.standard_normal(x.shape) * sd).astype(np.float32))
    img = (x * bright + noise).clamp(0, 1).mul(255).round().to(torch.uint8).numpy()
    # the first per_class of each letter train, the rest test; then a seeded shuffle of each
    is_train = np.tile(np.arange(n_each) < per_class, k)
    out: dict[str, np.ndarray] = {}
    for split, mask in (("train", is_train), ("test", ~is_train)):
        order = np.flatnonzero(mask)[rng.permutation(int(mask.sum()))]
        out[f"{split}_x"] = np.ascontiguousarray(img[order])
        out[f"{split}_y"] = labels[order].astype(np.int64)
    return out


def make_glyphs(
    letters: str = LETTERS,
    per_class: int = 600,
    test_per_class: int = 100,
    size: int = 28,
    seed: int = 0,
    fonts: tuple[str | Path, ...] | list[str | Path] | None = None,
    *,
    val_fraction: float = 0.1,
    train_limit: int | None = None,
) -> ImageData:
    """Character images from the installed fonts, split as load_dataset splits (classes = letters).

    The same seed gives identical arrays; `cnnlab.load_dataset("glyphs")` is this with the
    defaults. Shapes: images (N, 1, size, size) uint8, white glyph on black.
    """
    from cnnlab.data.images import from_arrays

    arrays = glyph_arrays(letters, per_class, test_per_class, size, seed, fonts)
    default = (letters, per_class, test_per_class, size, seed, fonts) == (
        LETTERS,
        600,
        100,
        28,
        0,
        None,
    )
    return from_arrays(
        "glyphs",
        list(letters),
        arrays,
        source=describe(arrays, fonts),
        # only the default set can be made again from its name (a run's config says "glyphs")
        origin="glyphs" if default else "",
        val_fraction=val_fraction,
        train_limit=train_limit,
        seed=seed,
    )


def describe(arrays: dict[str, np.ndarray], fonts: object = None) -> str:
    """One line saying what was generated, for ImageData.source."""
    n_fonts = len(find_fonts()) if fonts is None else len(fonts)  # type: ignore[arg-type]
    return (
        f"glyphs: generated from {n_fonts} installed fonts ({len(arrays['train_y'])} train / "
        f"{len(arrays['test_y'])} test images)"
    )
