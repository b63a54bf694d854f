"""Classic image kernels, custom kernel files, and one kernel applied as a CNN layer would.

A kernel is applied by cross-correlation (no flip), exactly as `torch.nn.Conv2d` does, so a
hand-made kernel and a learned one mean the same thing: the output at a pixel is the sum of
the kernel times the window under it. Then ReLU, then max-pooling: the three steps of one
convolutional stage of the lecture.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.core.errors import ConfigError, DataError
from cnnlab.core.registry import Registry

MAX_KERNEL = 15  # a larger custom kernel is almost always a file that is not a kernel

KERNELS = Registry("kernel", ConfigError)


def _kernel(name: str, rows: list[list[float]], scale: float = 1.0, help: str = "") -> None:
    values = np.asarray(rows, dtype=np.float64) * scale  # (3, 3)
    values.setflags(write=False)  # shared: a caller that edits it must copy
    KERNELS.register(name, help=help)(lambda: values)


_kernel("identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]], help="copies the image (a sanity check)")
_kernel(
    "sobel-x",
    [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    help="horizontal gradient: vertical edges, positive where dark turns bright to the right",
)
_kernel(
    "sobel-y",
    [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    help="vertical gradient: horizontal edges, positive where dark turns bright downwards",
)
_kernel(
    "laplacian",
    [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    help="second derivative: outlines in every direction, zero on flat and linear ramps",
)
_kernel(
    "sharpen",
    [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    help="the image plus its negative Laplacian: edges stand out",
)
_kernel(
    "blur",
    [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
    scale=1 / 16,
    help="3x3 Gaussian blur, weights sum to 1 so the brightness is kept",
)
_kernel("emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
        help="diagonal relief: the image as if lit from the lower right")  # fmt: skip


def kernel_names() -> list[str]:
    """The names of the built-in kernels, in registration order."""
    return KERNELS.names()


def get_kernel(name: str) -> np.ndarray:
    """A built-in kernel by name, as a writable copy. Shapes: -> (3, 3) float64."""
    if name not in KERNELS:
        raise ConfigError(
            f"unknown kernel {name!r}; choose one of: {', '.join(kernel_names())}, "
            "or give a text file of numbers (one row per line)"
        )
    return np.array(KERNELS.build(name))


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/[+-]?\d+(\.\d*)?)?$")


def _parse_number(token: str) -> float | None:
    """'2', '-0.5', '1e-2' or a fraction '1/16' (handy for blur kernels); None otherwise."""
    if not _NUMBER.match(token):
        return None
    if "/" in token:
        num, den = token.split("/")
        return None if float(den) == 0 else float(num) / float(den)
    return float(token)


def read_kernel(path: str | Path) -> np.ndarray:
    """A kernel from a text file: one row per line, numbers split by spaces and/or commas.

    '#' starts a comment (a whole line or the end of one); blank lines are skipped; fractions
    like 1/16 are allowed. The kernel must be rectangular, at most 15x15; odd and even sizes
    are both fine. A malformed file raises DataError naming the file and line.
    Shapes: -> (kh, kw) float64.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"kernel file {path} does not exist; give a kernel name or a text file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a text file"
        raise DataError(f"cannot read kernel file {path} ({reason}); give a text file") from None
    rows: list[list[float]] = []
    first_line = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = [t for t in re.split(r"[\s,;]+", line) if t]
        row = []
        for token in tokens:
            value = _parse_number(token)
            if value is None or not np.isfinite(value):
                raise DataError(
                    f"{path} line {lineno}: {token!r} is not a number; write rows of numbers "
                    "separated by spaces or commas ('#' starts a comment)"
                )
            row.append(value)
        if rows and len(row) != len(rows[0]):
            raise DataError(
                f"{path} line {lineno} has {len(row)} numbers but line {first_line} has "
                f"{len(rows[0])}; a kernel must be rectangular"
            )
        if not rows:
            first_line = lineno
        rows.append(row)
    if not rows:
        raise DataError(f"{path} holds no numbers; write the kernel as rows of numbers")
    kernel = np.asarray(rows, dtype=np.float64)  # (kh, kw)
    if max(kernel.shape) > MAX_KERNEL:
        raise DataError(
            f"{path} holds a {kernel.shape[0]}x{kernel.shape[1]} kernel; at most "
            f"{MAX_KERNEL}x{MAX_KERNEL} is allowed"
        )
    return kernel


def resolve_kernels(specs: Iterable[str]) -> list[tuple[str, np.ndarray]]:
    """Kernel options to (name, kernel) pairs: built-in names or kernel files, each spec may
    list several separated by commas ('sobel-x,sobel-y'). A file is named by its stem; a name
    given twice gets a -2 suffix so its output files do not overwrite each other.
    Shapes: each kernel (kh, kw) float64.
    """
    out: list[tuple[str, np.ndarray]] = []
    seen: dict[str, int] = {}
    for spec in specs:
        # an existing file whose name contains a comma is taken whole
        parts = [spec] if Path(spec).is_file() else [p.strip() for p in spec.split(",")]
        for part in parts:
            if not part:
                continue
            if part in KERNELS:
                name, kernel = part, get_kernel(part)
            elif Path(part).is_file() or Path(part).suffix or "/" in part or "\\" in part:
                name, kernel = Path(part).stem, read_kernel(part)
            else:
                kernel = get_kernel(part)  # raises, listing the known names
                name = part
            seen[name] = seen.get(name, 0) + 1
            out.append((name if seen[name] == 1 else f"{name}-{seen[name]}", kernel))
    if not out:
        raise ConfigError(f"no kernel given; choose from: {', '.join(kernel_names())}")
    return out


def kernel_labels(kernel: np.ndarray) -> tuple[list[list[str]], int]:
    """Weights as written by hand: whole numbers or short decimals as they are (d = 1), else
    over the smallest common denominator d <= 64 that makes them whole (blur: 1 2 1 ... and
    d = 16), else 3 digits. Shapes: (kh, kw) -> kh lists of kw strings, and d."""
    k = np.asarray(kernel, dtype=np.float64)
    if np.allclose(k, np.round(k, 2), rtol=0, atol=1e-12):
        return [[f"{v:g}" for v in row] for row in k], 1
    for d in range(2, 65):
        scaled = k * d
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-9):
            return [[str(int(round(v))) for v in row] for row in scaled], d
    return [[f"{v:.3g}" for v in row] for row in k], 1


# ---- one convolutional stage: convolution, ReLU, max-pooling --------------------------------


def apply_kernel(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlate a grey image with a kernel, 'same' size with zero padding.

    Even kernel sizes pad one pixel more at the bottom/right, as torch's padding='same'.
    Computed with torch.nn.functional.conv2d in float32. Zero padding is what a CNN layer
    does, so a bright image shows a response along its border too.
    Shapes: image (H, W), kernel (kh, kw) -> (H, W) float32.
    """
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    if image.ndim != 2:
        raise ValueError(f"image must be a grey (H, W) array, got shape {image.shape}")
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"kernel must be a (kh, kw) array, got shape {kernel.shape}")
    kh, kw = kernel.shape
    x = torch.as_tensor(image, dtype=torch.float32)[None, None]  # (1, 1, H, W)
    x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))  # (1, 1, H+kh-1, W+kw-1)
    w = torch.as_tensor(kernel, dtype=torch.float32)[None, None]  # (1, 1, kh, kw)
    with torch.no_grad():
        y = F.conv2d(x, w)  # (1, 1, H, W)
    return y[0, 0].numpy()


def max_pool(image: np.ndarray, size: int) -> np.ndarray:
    """Non-overlapping size x size max-pooling (stride = size); a last partial row or
    column is dropped, as torch does. Shapes: (H, W) -> (H // size, W // size)."""
    if size < 1:
        raise ValueError(f"pool must be >= 1 (1 = no pooling), got {size}")
    h, w = np.shape(image)
    if size > min(h, w):
        raise ValueError(f"pool {size} is larger than the {h}x{w} image; use a smaller pool")
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))[None, None]  # (1, 1, H, W)
    return F.max_pool2d(x, size)[0, 0].numpy()


@dataclass
class FilterResult:
    """The stages of one kernel on one image (all float32, in the image's units)."""

    name: str
    kernel: np.ndarray  # (kh, kw)
    filtered: np.ndarray  # (H, W), signed
    relu: np.ndarray  # (H, W), max(filtered, 0)
    pooled: np.ndarray  # (H // pool, W // pool)
    pool: int


def filter_image(
    image: np.ndarray, kernel: np.ndarray, name: str = "kernel", pool: int = 2
) -> FilterResult:
    """One convolutional stage with a fixed kernel: convolution, ReLU, max-pool.

    Shapes: image (H, W) grey (any scale, e.g. 0-1), kernel (kh, kw) -> a FilterResult with
    filtered and relu (H, W) and pooled (H // pool, W // pool).
    """
    if pool < 1:
        raise ValueError(f"pool must be >= 1 (1 = no pooling), got {pool}")
    filtered = apply_kernel(image, kernel)
    relu = np.maximum(filtered, 0)
    pooled = relu if pool == 1 else max_pool(relu, pool)
    return FilterResult(name, np.asarray(kernel, dtype=np.float64), filtered, relu, pooled, pool)


def filter_all(
    image: np.ndarray, kernels: Sequence[tuple[str, np.ndarray]], pool: int = 2
) -> list[FilterResult]:
    """filter_image for each (name, kernel). Shapes: image (H, W)."""
    return [filter_image(image, k, name, pool) for name, k in kernels]
