"""Readers for the standard on-disk formats: IDX (MNIST family), CIFAR python batches, and
image folders. Each returns uint8 arrays shaped (N, C, H, W) and int64 labels."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np

from cnnlab.core.errors import DataError

MAX_PIXELS = 100_000_000  # per image; CNNLAB_MAX_PIXELS raises it (a 10,000 x 10,000 photo fits)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
IDX_STEMS = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


def _read_bytes(path: Path) -> bytes:
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}; replace the file with a good copy") from None


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped). Shapes: images (N, H, W), labels (N,)."""
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file; replace it with the original")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(
            f"{path} is truncated ({len(raw) - header} of {expected} bytes); "
            "replace it with a complete copy"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def find_idx(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in `folder` (plain or .gz), or None if any is missing."""
    found: dict[str, Path] = {}
    for key, stem in IDX_STEMS.items():
        for cand in (folder / stem, folder / f"{stem}.gz"):
            if cand.is_file():
                found[key] = cand
                break
        else:
            return None
    return found


def load_idx(folder: Path) -> dict[str, np.ndarray]:
    """Shapes: train_x (N, 1, H, W) uint8, train_y (N,) int64; the same for test."""
    files = find_idx(folder)
    if files is None:
        raise DataError(f"no IDX files in {folder}; expected {', '.join(IDX_STEMS.values())}")
    out = {k: read_idx(p) for k, p in files.items()}
    for split in ("train", "test"):
        x, y = out[f"{split}_x"], out[f"{split}_y"]
        if x.ndim != 3 or len(x) != len(y):
            raise DataError(f"{files[f'{split}_x']} and its labels do not match; re-download both")
        out[f"{split}_x"] = x[:, None]  # (N, 1, H, W)
        out[f"{split}_y"] = y.astype(np.int64)
    return out


def find_cifar(folder: Path) -> Path | None:
    """The folder holding CIFAR-10 python batches, or the .tar.gz archive, if present."""
    for cand in (folder, folder / "cifar-10-batches-py"):
        if (cand / "data_batch_1").is_file() and (cand / "test_batch").is_file():
            return cand
    if (folder / "cifar-10-python.tar.gz").is_file():
        return folder / "cifar-10-python.tar.gz"
    return None


class _ArraysOnly(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a pickle that names any other class
    or function (os.system, say) is refused, so a CIFAR file from anywhere cannot run code."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("builtins", "list"), ("builtins", "dict"),
    }  # fmt: skip

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in self.ALLOWED:
            why = f"it names {module}.{name}, which a CIFAR batch never does"
            raise pickle.UnpicklingError(why)
        return super().find_class(module, name)


def _unpickle(blob: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        d = _ArraysOnly(io.BytesIO(blob), encoding="bytes").load()  # CIFAR's own format
        x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        y = np.asarray(d[b"labels"], dtype=np.int64)
    except Exception as exc:  # corrupt pickle: any error is the file's fault
        raise DataError(f"cannot read CIFAR batch {name}: {exc}; re-download CIFAR-10") from None
    return x, y


def load_cifar(where: Path) -> dict[str, np.ndarray]:
    """CIFAR-10 python batches. Shapes: train_x (50000, 3, 32, 32) uint8."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    blobs: dict[str, bytes] = {}
    if where.is_file():
        try:
            with tarfile.open(where) as tar:
                for m in tar.getmembers():
                    base = Path(m.name).name
                    if base in names:
                        blobs[base] = tar.extractfile(m).read()  # type: ignore[union-attr]
        except (OSError, tarfile.TarError) as exc:
            raise DataError(f"cannot read {where}: {exc}; re-download CIFAR-10") from None
    else:
        for n in names:
            if (where / n).is_file():
                blobs[n] = _read_bytes(where / n)
    missing = [n for n in names if n not in blobs]
    if missing:
        raise DataError(f"CIFAR-10 in {where} lacks {', '.join(missing)}; re-download it")
    parts = [_unpickle(blobs[n], n) for n in names[:5]]
    tx, ty = _unpickle(blobs["test_batch"], "test_batch")
    return {
        "train_x": np.concatenate([p[0] for p in parts]),
        "train_y": np.concatenate([p[1] for p in parts]),
        "test_x": tx,
        "test_y": ty,
    }


def list_image_folder(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Classes (sorted sub-folder names) and (file, label) pairs of an ImageFolder tree."""
    if not root.is_dir():
        raise DataError(f"{root} is not a folder; give a folder with one sub-folder per class")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    items: list[tuple[Path, int]] = []
    classes: list[str] = []
    for d in class_dirs:
        files = sorted(
            f for f in d.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
        )
        if files:
            items += [(f, len(classes)) for f in files]
            classes.append(d.name)
    if not items:
        raise DataError(
            f"no images found in {root}; expected {root}/<class name>/<image>.png (or .jpg)"
        )
    if len(classes) < 2:
        raise DataError(
            f"only one class ({classes[0]!r}) in {root}; a classifier needs at least 2 class "
            "folders, each holding its images"
        )
    return classes, items


def max_pixels() -> int:
    """The pixel limit of one image: $CNNLAB_MAX_PIXELS, else MAX_PIXELS."""
    text = os.environ.get("CNNLAB_MAX_PIXELS", "")
    try:
        return int(text) if text else MAX_PIXELS
    except ValueError:
        raise DataError(f"CNNLAB_MAX_PIXELS must be a whole number, got {text!r}") from None


def open_image(path: str | Path, what: str = "image", fix: str = "give a valid PNG or JPEG"):
    """The one way cnnlab opens an image file: a decoded PIL image (the first frame of an
    animation, turned upright by its EXIF orientation), or one DataError line for a missing,
    truncated or unreadable file, or one over the pixel limit (checked from the header,
    before decoding: a small file can decode to billions of pixels)."""
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    path, limit = Path(path), max_pixels()
    if not path.is_file():
        raise DataError(f"{path} does not exist; {fix}")
    pillow_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # ours, from the header
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > limit:
                    raise DataError(
                        f"{what} {path} is {w}x{h} = {w * h:,} pixels, over the limit of "
                        f"{limit:,} pixels; if it is what you mean, set CNNLAB_MAX_PIXELS "
                        "higher, or shrink the image"
                    )
                im.load()
                return ImageOps.exif_transpose(im) if im.getexif() else im.copy()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {what} {path}: {exc}; {fix}") from None
    finally:
        Image.MAX_IMAGE_PIXELS = pillow_limit


def read_images(
    files: list[Path], size: tuple[int, int] | None = None, channels: int | None = None
) -> np.ndarray:
    """Decode images to one uint8 array, converting colour mode and size to a common one.

    Without `size`, the most common size is used; without `channels`, 3 if any image has
    colour, else 1. Shapes: (N, C, H, W).
    """
    decoded = [open_image(f, fix="remove or replace the file") for f in files]
    if channels is None:
        gray = ("1", "L", "LA", "I", "I;16", "F")
        channels = 3 if any(im.mode not in gray for im in decoded) else 1
    if size is None:
        size = Counter((im.height, im.width) for im in decoded).most_common(1)[0][0]
    out = np.empty((len(decoded), channels, size[0], size[1]), dtype=np.uint8)
    for i, im in enumerate(decoded):
        out[i] = to_array(im, channels, size)
    return out


def to_array(im, channels: int, size: tuple[int, int]) -> np.ndarray:
    """One PIL image to uint8 (C, H, W): colour mode to L or RGB, then resized to (H, W)."""
    from PIL import Image

    if im.mode in ("I", "I;16", "F"):
        arr = np.asarray(im, dtype=np.float64)
        span = max(arr.max() - arr.min(), 1e-12)
        im = Image.fromarray(((arr - arr.min()) / span * 255).astype(np.uint8))
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # composite on white, as a viewer shows it
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    im = im.convert("L" if channels == 1 else "RGB")
    if (im.height, im.width) != tuple(size):
        im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)  # (C, H, W)


def read_image(path: str | Path, max_size: int = 512) -> tuple[np.ndarray, np.ndarray, bool]:
    """Any PNG/JPEG as (original, grey, was_colour); larger images are shrunk so the longer
    side is `max_size` (0: keep the size). Grey is Pillow's L: 0.299 R + 0.587 G + 0.114 B.
    Shapes: original (H, W) or (H, W, 3) uint8; grey (H, W) float32 in [0, 1].
    """
    if max_size < 0:
        raise ValueError(f"max_size must be >= 0 (0 keeps the size), got {max_size}")
    im = open_image(path, fix="give an image file (PNG or JPEG)")
    h, w = im.height, im.width
    if max_size and max(h, w) > max_size:
        s = max_size / max(h, w)
        h, w = max(1, round(h * s)), max(1, round(w * s))
    rgb = to_array(im, 3, (h, w))  # (3, H, W): alpha composited on white
    grey = to_array(im, 1, (h, w))[0]  # (H, W)
    colour = not (np.array_equal(rgb[0], rgb[1]) and np.array_equal(rgb[1], rgb[2]))
    original = rgb.transpose(1, 2, 0) if colour else grey  # (H, W, 3) or (H, W)
    return original, grey.astype(np.float32) / 255, colour
