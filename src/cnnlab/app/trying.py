""" "Try a model" for the web app: an uploaded (or drawn) image through a classification run,
by the same code path as `cnnlab predict` (the CLI's loaders and preprocessing, the same
notes), plus the feature maps of every conv layer and each map's kernel, as small PNGs the
page can show. Loaded models are kept (a few) so a second try does not load again.
"""

from __future__ import annotations

import base64
import io
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.core.errors import ConfigError, DataError, RunError

MAX_UPLOAD = 8 * 1024 * 1024  # bytes
MAX_MAPS = 16  # per layer
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".npy")
_models: OrderedDict[str, tuple[Any, Any, float]] = OrderedDict()


def _loaded(folder: Path) -> tuple[Any, Any]:
    """The run's (model, meta), kept while its weights file is unchanged (at most 4 runs)."""
    from cnnlab.engine.runs import load_model

    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise RunError(f"{folder.name} has no weights yet (model.safetensors): it has not "
                       "finished an epoch")  # fmt: skip
    key, stamp = str(folder), weights.stat().st_mtime
    hit = _models.get(key)
    if hit is None or hit[2] != stamp:
        model, meta = load_model(folder)
        _models[key] = (model, meta, stamp)
        while len(_models) > 4:
            _models.popitem(last=False)
    _models.move_to_end(key)
    return _models[key][0], _models[key][1]


def png(a: np.ndarray, cmap: str = "viridis", lo: float | None = None,
        hi: float | None = None) -> str:  # fmt: skip
    """A 2-D array as a PNG data URL, its values spread over the colour map. (H, W) -> str."""
    from matplotlib import colormaps
    from PIL import Image

    lo = float(a.min()) if lo is None else lo
    hi = float(a.max()) if hi is None else hi
    scaled = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a, dtype=float)
    rgb = (colormaps[cmap](np.clip(scaled, 0, 1))[..., :3] * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@contextmanager
def uploaded(data: bytes, filename: str, suffixes: tuple[str, ...] = SUFFIXES,
             kind: str = "an image file", hint: str = "") -> Iterator[Path]:  # fmt: skip
    """The upload as a temporary file with its own suffix (checked; size-limited), for the
    command line's loaders; a DataError raised inside names the upload, not the file."""
    if not data:
        raise DataError(f"the upload is empty; choose {kind}")
    if len(data) > MAX_UPLOAD:
        raise DataError(f"the upload is {len(data) / 1e6:.1f} MB; the limit is "
                        f"{MAX_UPLOAD / 1e6:.0f} MB")  # fmt: skip
    suffix = Path(filename or "upload").suffix.lower() or suffixes[0]
    if suffix not in suffixes:
        raise DataError(f"{filename!r} is not {kind} ({', '.join(suffixes)}){hint}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            yield path
        except DataError as exc:
            raise DataError(str(exc).replace(str(path), repr(filename or "the upload"))) from None


def try_image(folder: Path, data: bytes, filename: str, invert: str = "auto",
              topk: int = 5) -> dict[str, Any]:  # fmt: skip
    """Top classes, notes, the input as the model sees it, and every conv layer's maps."""
    from cnnlab.data.loader import normalize
    from cnnlab.tasks.classify import inside
    from cnnlab.tasks.classify.inputs import prepare

    model, meta = _loaded(folder)
    if meta.task not in ("classify", "transfer"):
        raise ConfigError(f"this is a {meta.task} run; the page tries images on classification "
                          "runs (cnnlab train, cnnlab transfer)")  # fmt: skip
    with uploaded(data, filename) as path:
        _, batch, notes = prepare([path], meta, invert)  # (1, C, H, W) uint8, as predict
    x = normalize(torch.from_numpy(batch), meta.mean, meta.std)
    with torch.inference_mode():
        probs = model.eval()(x).float().softmax(1)[0]
    order = torch.argsort(probs, descending=True)[:topk]
    layers = []
    try:
        taps = {t.name: t for t in inside.conv_taps(model)}
        maps = inside.feature_maps(model, x)
    except Exception:  # a model without conv layers (an MLP) has no maps to show
        taps, maps = {}, {}
    for name, m in maps.items():
        m = m[0].float().numpy()  # (C, H, W)
        w = taps[name].conv.weight.detach().float().numpy()  # (C_out, C_in/g, k, k)
        k = min(MAX_MAPS, len(m))
        layers.append({
            "name": name, "label": taps[name].label, "shape": list(m.shape),
            "maps": [png(m[i]) for i in range(k)],
            "kernels": [png(w[i].mean(axis=0), "RdBu_r", -float(np.abs(w[i]).max()),
                            float(np.abs(w[i]).max())) for i in range(k)],
        })  # fmt: skip
    shown = batch[0, 0] if batch.shape[1] == 1 else batch[0].mean(axis=0)
    return {
        "top": [[meta.classes[int(i)], float(probs[i])] for i in order],
        "notes": notes[0],
        "input": png(shown.astype(float), "gray", 0.0, 255.0),
        "layers": layers,
    }


def kernel_grid(folder: Path) -> str:
    """The first conv layer's kernels of a run (its saved weights) as one PNG data URL: each
    kernel (mean over its input channels) in a grid, one colour scale, zero white."""
    model, _ = _loaded(folder)
    conv = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if conv is None:
        raise ConfigError(f"{folder.name} has no conv layer (an MLP): no kernels to show")
    w = conv.weight.detach().float().numpy().mean(axis=1)  # (C_out, k, k)
    n, k = len(w), w.shape[-1]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * (k + 1) - 1, cols * (k + 1) - 1), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = w[i]
    top = float(np.nanmax(np.abs(grid))) or 1.0
    return png(np.nan_to_num(grid, nan=0.0), "RdBu_r", -top, top)


def first_maps(folder: Path, count: int = 8) -> dict[str, Any] | None:
    """The first conv layer's feature maps (`count`, the strongest) for the test image that
    ships for the run's dataset, with the run's saved weights; None when none ships."""
    from cnnlab.core.io import read_config
    from cnnlab.data.examples import examples_for
    from cnnlab.data.loader import normalize
    from cnnlab.tasks.classify import inside
    from cnnlab.tasks.classify.inputs import prepare

    data = str(read_config(folder).get("data", ""))
    found = examples_for(Path(data).name if "/" in data else data)
    if not found:
        return None
    model, meta = _loaded(folder)
    _, batch, _ = prepare([found[0].path], meta, "auto")
    maps = inside.feature_maps(model, normalize(torch.from_numpy(batch), meta.mean, meta.std))
    if not maps:
        return None
    m = next(iter(maps.values()))[0].float().numpy()  # (C, H, W)
    order = np.argsort(-m.reshape(len(m), -1).mean(axis=1))[:count]
    return {"image": found[0].file, "maps": [png(m[i]) for i in order],
            "channels": [int(i) for i in order]}  # fmt: skip


MAX_TEXT = 20_000  # characters


def try_text(folder: Path, text: str) -> dict[str, Any]:
    """A text through a text run: its classes, and each token's share of the prediction (as
    `cnnlab show features RUN --text` computes it)."""
    from cnnlab.tasks.text.inside import explain_text
    from cnnlab.tasks.text.saved import load_text_run

    if not text.strip():
        raise DataError("give a text to classify")
    if len(text) > MAX_TEXT:
        raise DataError(f"the text has {len(text):,} characters; the limit is {MAX_TEXT:,}")
    model, meta, tokenizer = load_text_run(folder)
    v = explain_text(model, tokenizer, text, int(meta.input_size[0]), meta.classes)
    order = np.argsort(-v.probs, kind="stable")
    return {
        "top": [[meta.classes[int(i)], float(v.probs[i])] for i in order],
        "tokens": [{"start": a, "end": b, "score": float(s)} for (a, b), s in
                   zip(v.spans, v.scores, strict=True)],  # fmt: skip
        "method": v.method, "text": text, "cut": v.cut,
        "fired": [[gram, width, float(share)] for gram, width, share in v.windows],
    }  # fmt: skip


def try_sound(folder: Path, data: bytes, filename: str, topk: int = 5) -> dict[str, Any]:
    """A sound file through a keyword run, as `cnnlab predict RUN clip.wav` reads it: the
    words, notes on what was converted, the log-mel the model heard."""
    from cnnlab.data.wav import SUFFIXES as SOUND
    from cnnlab.tasks.keywords.saved import KeywordModel, read_clip

    with uploaded(data, filename, SOUND, "a sound file", "; a keyword run hears WAV files") as path:
        clip, _, notes = read_clip(path)
    km = KeywordModel.load(folder)
    wave = torch.from_numpy(clip)[None]
    p = km.probabilities(wave)[0]
    order = np.argsort(-p, kind="stable")[:topk]
    return {"top": [[km.classes[int(i)], float(p[i])] for i in order], "notes": notes,
            "input": png(km.inputs(wave)[0, 0].numpy()[::-1], "magma"), "layers": []}  # fmt: skip


def try_mask(folder: Path, data: bytes, filename: str) -> dict[str, Any]:
    """An image through a segmentation run, as `cnnlab predict RUN photo.png` does it (sliding
    windows when it is larger than the training crops): the colour overlay and the pixels per
    class."""
    from cnnlab.tasks.segment.predict import predict_mask

    model, meta = _loaded(folder)
    with uploaded(data, filename) as path:
        p = predict_mask((model, meta), path, out=path.with_name("mask.png"))
        overlay = p.overlay.read_bytes() if p.overlay is not None else b""
    total = max(1, sum(p.counts.values()))
    return {"top": [[c, n / total] for c, n in sorted(p.counts.items(), key=lambda kv: -kv[1])],
            "notes": ["sliding windows: larger than the training crops"] if p.windowed else [],
            "input": "data:image/png;base64," + base64.b64encode(overlay).decode(),
            "layers": [], "shares": "of the pixels"}  # fmt: skip


def try_reconstruct(
    folder: Path, data: bytes, filename: str, invert: str = "auto"
) -> dict[str, Any]:
    """An image through an autoencoder run, as `cnnlab predict AE_RUN photo.png` does it: the
    picture of input, noisy input (a denoiser is shown its training noise), reconstruction and
    difference, and the MSE and PSNR."""
    from cnnlab.tasks.autoencode.predict import panels, reconstruct_files, run_noise, strip_png

    model, meta = _loaded(folder)
    noise = run_noise(folder, None)
    with uploaded(data, filename) as path:
        (r,) = reconstruct_files((model, meta), [path], noise, invert)
    return {"top": [], "notes": r.notes, "layers": [],
            "input": "data:image/png;base64," + base64.b64encode(strip_png(r)).decode(),
            "panels": [title for title, _ in panels(r)],
            "summary": r.summary()}  # fmt: skip
