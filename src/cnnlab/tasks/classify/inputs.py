"""What a classifier is fed: image files and arrays read, fitted and checked against the
training data (background polarity, size), with no torch: the ONNX path of `cnnlab predict`
uses these too."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnlab.core.errors import DataError
from cnnlab.data.sources import open_image, to_array

if TYPE_CHECKING:  # any object with its fields will do (an exported model's metadata does)
    from cnnlab.engine.runs import ModelMeta


@dataclass
class Prediction:
    source: str
    top: list[tuple[str, float]]  # (class, probability), most likely first
    notes: list[str] = field(default_factory=list)  # why the input may not suit the model


INVERT = ("false", "true", "auto")


def background(meta: ModelMeta) -> str:
    """The training images' background, from their mean: "dark" (light objects on black, as
    Fashion-MNIST), "light" (dark on white), or "" (neither is clear, e.g. photos)."""
    mean = float(np.mean(meta.mean))
    return "dark" if mean < 0.4 else "light" if mean > 0.6 else ""


def border(image: np.ndarray) -> float:
    """Mean brightness in [0, 1] of an image's outer 2-pixel ring. Shapes: (C, H, W) uint8."""
    ring = np.concatenate([image[:, :2].ravel(), image[:, -2:].ravel(), image[:, :, :2].ravel(),
                           image[:, :, -2:].ravel()])  # fmt: skip
    return float(ring.mean()) / 255


def fit_input(
    image: np.ndarray, size: tuple[int, int] | None, meta: ModelMeta, name: str, invert: str
) -> tuple[np.ndarray, list[str]]:
    """The image as the model should see it (inverted when asked, or when `invert` is auto
    and its background is the opposite of the training images'), and notes on what is far
    from the training data: the background and the original size. Shapes: (C, H, W) uint8."""
    if invert not in INVERT:
        raise ValueError(f"invert must be one of {', '.join(INVERT)}, got {invert!r}")
    notes = []
    want, edge = background(meta), border(image)
    has = "light" if edge > 0.5 else "dark"
    if invert == "true" or (invert == "auto" and want and has != want):
        image = 255 - image
        notes.append(f"inverted: its background is {has}, the training images' {want or 'mixed'}")
    elif want and has != want:
        notes.append(f"{name} has a {has} background (border {edge:.2f}) but the model learned "
                     f"{'light objects on dark' if want == 'dark' else 'dark objects on light'}"
                     "; the answer may be wrong: try --invert auto")  # fmt: skip
    h, w = meta.input_size
    if size is not None:
        ratio = (size[1] / size[0]) / (w / h)
        if ratio > 1.5 or ratio < 1 / 1.5:
            notes.append(f"{name} is {size[1]}x{size[0]} and is squeezed to {w}x{h}; crop it "
                         "to the object first for a fairer answer")  # fmt: skip
        elif min(size) < min(h, w) / 2:
            notes.append(f"{name} is {size[1]}x{size[0]}, much smaller than the {w}x{h} the "
                         "model was trained on")  # fmt: skip
    return image, notes


def load_image_file(path: Path, meta: ModelMeta) -> np.ndarray:
    """An image file (any size, any colour mode) or a .npy array, as uint8 (C, H, W)."""
    return read_input(path, meta)[0]


def read_input(path: Path, meta: ModelMeta) -> tuple[np.ndarray, tuple[int, int] | None]:
    """An image file or .npy array as uint8 (C, H, W), and the file's own (H, W) (None for
    an array, which is taken as it is)."""
    if not path.is_file():
        raise DataError(f"{path} does not exist; give an image file (PNG/JPEG) or a .npy array")
    if path.suffix.lower() == ".npy":
        return _from_array(np.load(path, allow_pickle=False), meta, str(path)), None
    im = open_image(path, fix="give an image file (PNG/JPEG) or a .npy array")
    return to_array(im, meta.in_channels, tuple(meta.input_size)), (im.height, im.width)


def _from_array(arr: np.ndarray, meta: ModelMeta, name: str) -> np.ndarray:
    """Arrays are taken as they are, not converted: shape (H, W) or (C, H, W), uint8 0-255."""
    c, (h, w) = meta.in_channels, meta.input_size
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (h, w):
        raise DataError(f"{name} has shape {arr.shape}; the model takes ({c}, {h}, {w}) arrays")
    if arr.shape[0] != c:
        kind = {1: "grayscale", 3: "RGB"}
        raise DataError(
            f"{name} has {arr.shape[0]} channel(s) but the model was trained on "
            f"{kind.get(c, str(c))} ({c} channel(s)); convert the array, or pass an image file, "
            "which is converted for you"
        )
    if arr.dtype != np.uint8:
        if arr.min() < 0 or arr.max() > 255:
            raise DataError(f"{name} has values outside 0-255; give uint8 pixel values")
        arr = arr.astype(np.uint8)
    return arr


def prepare(
    inputs: list[str | Path] | np.ndarray, meta: ModelMeta, invert: str = "false"
) -> tuple[list[str], np.ndarray, list[list[str]]]:
    """Files or a uint8 array (N, C, H, W) or (C, H, W) as the model's uint8 batch: the
    inputs' names, the batch (N, C, H, W) and each input's notes (see fit_input)."""
    if isinstance(inputs, np.ndarray):
        batch = inputs[None] if inputs.ndim == 3 else inputs
        names = [f"array[{i}]" for i in range(len(batch))]
        read = [(_from_array(a, meta, n), None) for a, n in zip(batch, names, strict=True)]
    else:
        names = [str(p) for p in inputs]
        read = [read_input(Path(p), meta) for p in inputs]
    if not read:
        raise DataError("no inputs to predict; give one or more image files")
    fitted = [fit_input(a, size, meta, n, invert) for (a, size), n in zip(read, names, strict=True)]
    return names, np.stack([a for a, _ in fitted]), [notes for _, notes in fitted]
