"""Prediction on image files and arrays, with the preprocessing the model was trained with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnlab.core.errors import DataError
from cnnlab.data.loader import normalize
from cnnlab.data.sources import to_array
from cnnlab.engine.runs import ModelMeta, load_model
from cnnlab.models import Classifier


@dataclass
class Prediction:
    source: str
    top: list[tuple[str, float]]  # (class, probability), most likely first


def load_image_file(path: Path, meta: ModelMeta) -> np.ndarray:
    """An image file (any size, any colour mode) or a .npy array, as uint8 (C, H, W)."""
    if not path.is_file():
        raise DataError(f"{path} does not exist; give an image file (PNG/JPEG) or a .npy array")
    if path.suffix.lower() == ".npy":
        return _from_array(np.load(path, allow_pickle=False), meta, str(path))
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            return to_array(im, meta.in_channels, tuple(meta.input_size))
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}; give a valid PNG or JPEG") from None


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


def predict(
    run: str | Path | tuple[Classifier, ModelMeta],
    inputs: list[str | Path] | np.ndarray | torch.Tensor,
    topk: int = 3,
) -> list[Prediction]:
    """Top-k classes with probabilities for image files, .npy files or a uint8 array.

    Shapes: an array input is (N, C, H, W) or (C, H, W) uint8.
    """
    model, meta = load_model(Path(run)) if isinstance(run, (str, Path)) else run
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        arr = np.asarray(inputs)
        batch = arr[None] if arr.ndim == 3 else arr
        images = [_from_array(a, meta, f"array[{i}]") for i, a in enumerate(batch)]
        names = [f"array[{i}]" for i in range(len(images))]
    else:
        images = [load_image_file(Path(p), meta) for p in inputs]
        names = [str(p) for p in inputs]
    if not images:
        raise DataError("no inputs to predict; give one or more image files")
    x = torch.from_numpy(np.stack(images))  # (N, C, H, W) uint8
    with torch.inference_mode():
        probs = model.eval()(normalize(x, meta.mean, meta.std)).softmax(1)
    k = min(topk, probs.shape[1])
    values, idx = probs.topk(k, dim=1)
    return [
        Prediction(n, [(meta.classes[int(j)], float(v)) for v, j in zip(vs, js, strict=True)])
        for n, vs, js in zip(names, values, idx, strict=True)
    ]
