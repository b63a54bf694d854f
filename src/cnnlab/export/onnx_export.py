"""`cnnlab export RUN`: a run's model as an ONNX file (torch's dynamo exporter, a dynamic batch
dimension, the preprocessing and class names in its metadata), checked at once with
onnxruntime against PyTorch on real test images of the run's data."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.core.errors import CnnlabError, ConfigError, RunError, first_line
from cnnlab.core.io import atomic_write, check_run_folder, find_run, read_config
from cnnlab.core.version import VERSION
from cnnlab.engine.runs import ModelMeta, load_model
from cnnlab.export import FORMAT, KEY
from cnnlab.export.onnx_predict import run_digest

FORMATS = ("onnx",)
OPSET = 18


@dataclass
class ExportResult:
    """What was written and how closely onnxruntime matches PyTorch on `images` inputs."""

    path: Path
    task: str
    size_bytes: int
    seconds: float  # export + check
    images: int  # inputs of the check
    images_from: str  # "the run's test images" or why random ones were used
    max_abs_diff: float  # largest |onnxruntime - PyTorch| over every output value
    agreement: float | None  # share of equal argmax: top-1 (classify) or per pixel (segment)

    def lines(self) -> list[str]:
        what = {"classify": "top-1 agreement", "segment": "per-pixel class agreement"}
        out = [
            f"exported {self.path} ({self.size_bytes / 1e6:.2f} MB, ONNX opset {OPSET}, "
            f"dynamic batch) in {self.seconds:.1f} s",
            f"checked with onnxruntime on {self.images} {self.images_from}: max abs difference "
            f"{self.max_abs_diff:.2e}"
            + (f", {what[self.task]} {self.agreement:.2%}" if self.agreement is not None else ""),
        ]
        return out


def metadata(meta: ModelMeta, run: Path) -> dict[str, str]:
    """The metadata_props written into the file (see cnnlab.export)."""
    size = [int(s) for s in meta.input_size]
    spec = {"channels": int(meta.in_channels), "size": size, "mean": list(meta.mean),
            "std": list(meta.std), "scale": 1 / 255}  # fmt: skip
    return {
        f"{KEY}format": FORMAT,
        f"{KEY}version": VERSION,
        f"{KEY}task": meta.task,
        f"{KEY}model": meta.model,
        f"{KEY}data": str(meta.data),
        f"{KEY}dataset": str(read_config(run).get("data", "")),
        f"{KEY}run": run.name,
        f"{KEY}input": json.dumps(spec),
        f"{KEY}classes": json.dumps(list(meta.classes)),
        f"{KEY}source": run_digest(run),
    }


def check_images(run: Path, meta: ModelMeta, n: int) -> tuple[np.ndarray, str]:
    """Up to n real test images of the run's data as uint8 (N, C, *size), or random ones with
    the reason when the data cannot be loaded here."""
    cfg = read_config(run)
    shape = (int(meta.in_channels), *(int(s) for s in meta.input_size))
    try:
        x = _test_images(cfg, meta)
        if tuple(x.shape[1:]) == shape and len(x):
            return np.ascontiguousarray(x[:n]), "test images of the run's data"
        why = f"its data has shape {tuple(x.shape[1:])}, the model takes {shape}"
    except (CnnlabError, OSError, KeyError, ValueError) as exc:
        why = f"its data could not be loaded: {exc}"
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, *shape), dtype=np.uint8), f"random images ({why})"


def _test_images(cfg: dict[str, Any], meta: ModelMeta) -> np.ndarray:
    if meta.task == "segment":
        from cnnlab.data.seg_sources import load_seg_data

        data = load_seg_data(cfg["data"], n_train=2, n_val=1, n_test=16, size=cfg.get("size"),
                             seed=cfg.get("seed", 0))  # fmt: skip
        return data.test_x.numpy()
    from cnnlab.data.datasets import load_dataset_of

    data = load_dataset_of(cfg)
    classes = cfg.get("classes")
    if classes:  # a transfer run on a class subset of its dataset
        from cnnlab.tasks.transfer import select_classes

        wanted = [int(c) for c in str(classes).strip("[]").split(",")]
        data = select_classes(data, wanted)
    return data.test_x.numpy()


def to_input(x: np.ndarray, meta: ModelMeta) -> torch.Tensor:
    """uint8 (N, C, *size) -> the normalized float32 the network takes."""
    dims = (1, -1) + (1,) * (x.ndim - 2)
    mean = torch.tensor(meta.mean, dtype=torch.float32).view(dims)
    std = torch.tensor(meta.std, dtype=torch.float32).view(dims)
    return (torch.from_numpy(x).float() / 255 - mean) / std


def export_onnx(
    run: str | Path, out: str | Path | None = None, fmt: str = "onnx", check_n: int = 256
) -> ExportResult:
    """Export the model of run folder `run` (or `last`, `last:PREFIX`) to `out` (default
    RUN/model.onnx), then run `check_n` test images through onnxruntime and PyTorch."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; cnnlab exports {', '.join(FORMATS)}")
    if check_n < 1:
        raise ConfigError(f"check_images must be >= 1, got {check_n}")
    t0 = time.perf_counter()
    run = check_run_folder(find_run(run))
    target = Path(out) if out is not None else run / "model.onnx"
    if target.suffix.lower() != ".onnx":
        raise ConfigError(f"--out {target} must end in .onnx")
    if target.is_dir():
        raise ConfigError(f"--out {target} is a folder; give a file name ending in .onnx")
    model, meta = load_model(run)
    x, source = check_images(run, meta, check_n)
    data = onnx_bytes(model.eval(), to_input(x[:2], meta), metadata(meta, run))
    atomic_write(target, data)
    diff, agree = compare(model, data, to_input(x, meta), meta.task)
    return ExportResult(target, meta.task, len(data), time.perf_counter() - t0, len(x), source,
                        diff, agree)  # fmt: skip


def export_for_predict(run: Path, n: int = 8) -> tuple[Path | None, str]:
    """RUN/model.onnx written for `cnnlab predict`, checked on n random inputs against PyTorch
    (a quick check; `cnnlab export` checks on test images). Returns (path, what happened) or
    (None, why PyTorch predicts instead) when the exporter cannot handle the model."""
    t0 = time.perf_counter()
    model, meta = load_model(run)  # a run whose weights are broken fails here, in one line
    x = np.random.default_rng(0).integers(0, 256, (n, meta.in_channels, *meta.input_size),
                                          dtype=np.uint8)  # fmt: skip
    try:
        data = onnx_bytes(model, to_input(x[:2], meta), metadata(meta, run))
        diff, agree = compare(model, data, to_input(x, meta), meta.task)
    except (RunError, ImportError) as exc:
        return None, f"note: predicting with PyTorch; no ONNX export ({first_line(exc)})"
    if diff > 1e-3 or agree != 1.0:
        return None, f"note: predicting with PyTorch; the ONNX export differs by {diff:.1e}"
    target = run / "model.onnx"
    atomic_write(target, data)
    return target, (f"exported {target} once for fast prediction ({time.perf_counter() - t0:.1f}"
                    " s; onnxruntime from now on, --runtime torch to skip)")  # fmt: skip


def onnx_bytes(model: torch.nn.Module, example: torch.Tensor, props: dict[str, str]) -> bytes:
    """The ONNX file as bytes: the graph for a dynamic batch, with `props` as metadata."""
    import onnx

    batch = torch.export.Dim("batch", min=1)
    quiet = io.StringIO()
    level = logging.getLogger("torch").level
    logging.getLogger("torch").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                model, (example,), dynamo=True, opset_version=OPSET, input_names=["image"],
                output_names=["output"], dynamic_shapes=({0: batch},), verbose=False,
            )  # fmt: skip
    except Exception as exc:  # the exporter raises many kinds for an unsupported graph
        first = str(exc).strip().split("\n")[0]
        raise RunError(f"torch's ONNX exporter failed on this model: {first}") from None
    finally:
        logging.getLogger("torch").setLevel(level)
    proto = program.model_proto
    for k, v in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def compare(
    model: torch.nn.Module, data: bytes, x: torch.Tensor, task: str, chunk: int = 64
) -> tuple[float, float | None]:
    """Max |onnxruntime - PyTorch| over all outputs, and the share of equal argmax over the
    class channel (None for an autoencoder). Shapes: x (N, C, *size) normalized float32."""
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    diff, same, total = 0.0, 0, 0
    with torch.inference_mode():
        for i in range(0, len(x), chunk):
            xb = x[i : i + chunk]
            ref = model(xb)
            ref = (ref[0] if isinstance(ref, tuple) else ref).float().numpy()
            got = session.run(None, {"image": xb.numpy()})[0]
            diff = max(diff, float(np.abs(got - ref).max()))
            if task != "autoencode":
                eq = got.argmax(1) == ref.argmax(1)
                same, total = same + int(eq.sum()), total + eq.size
    return diff, (same / total if total else None)
