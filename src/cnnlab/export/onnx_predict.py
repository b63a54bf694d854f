"""Inference on a file written by `cnnlab export`, with onnxruntime, numpy and Pillow only (this
module never imports torch): `cnnlab predict MODEL.onnx IMAGE...`."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.core.errors import ConfigError, RunError
from cnnlab.export import FORMAT, KEY
from cnnlab.tasks.classify.inputs import Prediction, prepare


@dataclass
class OnnxMeta:
    """What the file's metadata says; the fields the input checks read, as a run's ModelMeta."""

    task: str
    model: str
    data: str
    dataset: str
    in_channels: int
    input_size: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    scale: float
    classes: list[str]


def has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def run_digest(run: Path) -> str:
    """SHA-256 of a run's model.json and model.safetensors: what an export was made from."""
    import hashlib

    h = hashlib.sha256()
    for name in ("model.json", "model.safetensors"):
        h.update((Path(run) / name).read_bytes())
    return h.hexdigest()


def fresh_export(run: Path) -> Path | None:
    """RUN/model.onnx when it was exported from the run's present model.json and weights (by
    `cnnlab export` or a first `cnnlab predict`), else None: an older export is stale."""
    onnx = Path(run) / "model.onnx"
    if not onnx.is_file():
        return None
    try:
        session, _ = load_onnx(onnx)
        made_from = session.get_modelmeta().custom_metadata_map.get(f"{KEY}source")
        return onnx if made_from == run_digest(run) else None
    except (RunError, OSError):
        return None


def load_onnx(path: str | Path) -> tuple[Any, OnnxMeta]:
    """An onnxruntime session for `path` and its cnnlab metadata; one RunError line for a
    missing file, a file that is not ONNX, or an ONNX file cnnlab did not write. A command
    asks more than once (is the export fresh, which dataset, predict): the file is read once
    while it stays the same."""
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path} does not exist; write one with: cnnlab export RUN --out {path}")
    st = path.stat()
    return _load(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _load(name: str, mtime_ns: int, size: int) -> tuple[Any, OnnxMeta]:
    path = Path(name)
    try:
        import onnxruntime as ort
    except ImportError:
        raise RunError("onnxruntime is not installed; pip install 'cnnlab[export]'") from None
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own kinds for a damaged file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"{path} is not a readable ONNX model ({first[:200]})") from None
    props = session.get_modelmeta().custom_metadata_map
    if props.get(f"{KEY}format") != FORMAT:
        raise RunError(
            f"{path} has no cnnlab metadata (it was not written by `cnnlab export`), so its "
            "preprocessing is unknown; export the run with cnnlab export RUN"
        )
    try:
        spec = json.loads(props[f"{KEY}input"])
        meta = OnnxMeta(
            task=props[f"{KEY}task"], model=props.get(f"{KEY}model", "?"),
            data=props.get(f"{KEY}data", ""), dataset=props.get(f"{KEY}dataset", ""),
            in_channels=int(spec["channels"]),
            input_size=tuple(int(s) for s in spec["size"]),
            mean=tuple(float(v) for v in spec["mean"]), std=tuple(float(v) for v in spec["std"]),
            scale=float(spec["scale"]),
            classes=[str(c) for c in json.loads(props[f"{KEY}classes"])],
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"{path}'s cnnlab metadata is damaged ({exc}); export the run again"
        raise RunError(msg) from None
    return session, meta


def normalize(x: np.ndarray, meta: OnnxMeta) -> np.ndarray:
    """uint8 (N, C, *size) -> float32 (pixel * scale - mean) / std, per channel."""
    dims = (1, -1) + (1,) * (x.ndim - 2)
    mean = np.asarray(meta.mean, np.float32).reshape(dims)
    std = np.asarray(meta.std, np.float32).reshape(dims)
    return ((x.astype(np.float32) * np.float32(meta.scale) - mean) / std).astype(np.float32)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def predict_onnx(
    path: str | Path, inputs: list[str | Path] | np.ndarray, topk: int = 3, invert: str = "false"
) -> list[Prediction]:
    """Top-k classes of image files, .npy files or a uint8 array (N, C, H, W) or (C, H, W)
    with an exported classifier: the same reading, fitting and notes as `predict` on a run."""
    session, meta = load_onnx(path)
    if meta.task != "classify":
        raise ConfigError(
            f"{path} is an exported {meta.task} model; cnnlab predict on an .onnx file "
            "classifies only: give the run folder for segmentation or reconstruction"
        )
    names, batch, notes = prepare(inputs, meta, invert)
    x = normalize(batch, meta)
    probs = softmax(session.run(None, {session.get_inputs()[0].name: x})[0])
    k = min(topk, probs.shape[1])
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [
        Prediction(n, [(meta.classes[int(j)], float(p[j])) for j in idx], ns)
        for n, p, idx, ns in zip(names, probs, order, notes, strict=True)
    ]
