"""Autoencoder studies, the shared helpers and the compression study (quality against bytes,
with JPEG as the baseline). Denoising lives in studies/ae_denoising.py, features (a linear
probe on encoder features) in studies/ae_features.py.

Every model is trained by `cnnlab.autoencode` (or, for the mixed-level denoiser, by the same
task loop) into a run folder under OUT/runs, so `cnnlab report OUT/runs/NAME` works on each.
Studies return result dataclasses; figures and reports (viz/ae_studies.py) only read them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import nn

from cnnlab.data import ImageData, load_dataset
from cnnlab.studies.ae_baselines import (
    jpeg_at_budget,
    jpeg_curve,
    latent_bytes,
    quantize_latent,
)
from cnnlab.studies.ae_configs import CompressionStudyConfig
from cnnlab.tasks.autoencode.metrics import psnr, ssim, to_unit

STRIP = 8  # images in each example strip
JPEG_GRID = (250, 300, 400, 500, 600, 800)  # extra budgets that draw the JPEG curve (bytes)
QUIET = Console(quiet=True)


def study_data(cfg: Any, val_images: int = 1000) -> ImageData:
    """The study's data: train_limit training images, at most val_images validation images
    (the loop validates every epoch) and the first test_images test images."""
    d = load_dataset(cfg.data, val_fraction=0.1, train_limit=cfg.train_limit, seed=cfg.seed)
    return trim(d, cfg.test_images, val_images)


def trim(data: ImageData, test_images: int, val_images: int) -> ImageData:
    """data with at most val_images validation and test_images test images."""
    return dataclasses.replace(
        data,
        val_x=data.val_x[:val_images],
        val_y=data.val_y[:val_images],
        test_x=data.test_x[:test_images],
        test_y=data.test_y[:test_images],
    )


def train_ae(
    cfg: Any, data: ImageData, name: str, model: str, latent: int | None, **extra: Any
) -> tuple[nn.Module, str, float]:
    """Train one autoencoder into OUT/runs/NAME. Returns (best model, run folder, seconds)."""
    from cnnlab.tasks.autoencode.run import autoencode

    r = autoencode(
        data=data,
        model=model,
        latent=latent,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        runs_dir=str(Path(cfg.out) / "runs"),
        name=name,
        progress=False,
        console=QUIET,
        **extra,
    )
    return r.model.eval(), str(r.run_dir), r.train_time_s


def initial_model(
    data: ImageData, model: str, latent: int | None, seed: int, **model_args: Any
) -> nn.Module:
    """The autoencoder `train_ae` would train, at the initial weights its run starts from
    (the same seed), left untrained."""
    from cnnlab.models import create_task_model
    from cnnlab.tasks.autoencode.config import TASK, AutoencodeConfig

    kwargs = AutoencodeConfig(model=model, latent=latent, model_args=model_args).model_kwargs()
    c, h, w = data.input_shape
    torch.manual_seed(seed)
    return create_task_model(TASK, model, c, c, (h, w), **kwargs).eval()


def uint8_list(x: torch.Tensor) -> list:
    """[0, 1] float or uint8 images -> nested lists of ints (for result.json)."""
    if x.dtype != torch.uint8:
        x = (x.float().clamp(0, 1) * 255).round().to(torch.uint8)
    return x.tolist()


@torch.no_grad()
def code_roundtrip(
    model: nn.Module, images: torch.Tensor, bits: int | None = 8, batch: int = 500
) -> torch.Tensor:
    """Encode, quantize the code to `bits` bits (one min/max for the whole set, as stored)
    and decode: what a reader of the stored codes would see (bits None: the float code).
    Shapes: images (N, C, H, W) uint8 -> (N, C, H, W) float in [0, 1]."""
    x = to_unit(images)
    z = torch.cat([model.encode(x[i : i + batch]) for i in range(0, len(x), batch)])
    zq = z if bits is None else quantize_latent(z, bits)
    size = tuple(images.shape[-2:])
    out = [model.decode(zq[i : i + batch], size) for i in range(0, len(zq), batch)]
    return torch.cat(out).clamp(0, 1)


def quality(x_hat: torch.Tensor, x: torch.Tensor) -> tuple[float, float]:
    """(PSNR, SSIM; nan below 11x11). Shapes: (N, C, H, W) x2 in [0, 1] or uint8."""
    s = ssim(x_hat, x) if min(x.shape[-2:]) >= 11 else math.nan
    return psnr(x_hat, x), s


# ---- compression ---------------------------------------------------------------------------


@dataclass
class CompressionRow:
    """One trained model, measured with its code stored at `bits` bits per value."""

    model: str
    code_shape: list[int]
    values: int
    bytes: int
    ratio: float  # raw bytes / bytes
    psnr: float
    ssim: float
    float_psnr: float  # the same model with an unquantized float code
    jpeg_bytes: float  # JPEG at the same budget: mean bytes actually spent
    jpeg_psnr: float
    jpeg_ssim: float
    jpeg_quality: float
    seconds: float
    run: str


@dataclass
class CompressionStudyResult:
    config: dict[str, Any]
    data_source: str
    raw_bytes: int  # C * H * W of one uint8 image
    test_images: int
    rows: list[CompressionRow] = field(default_factory=list)
    jpeg: list[dict[str, float]] = field(default_factory=list)  # the JPEG curve
    strip: dict[str, Any] = field(default_factory=dict)  # label -> uint8 images (N, C, H, W)
    strip_model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CompressionStudyResult:
        """The inverse of to_dict (e.g. of result.json), to redraw the figures."""
        rows = [CompressionRow(**r) for r in d["rows"]]
        keys = ("config", "data_source", "raw_bytes", "test_images")
        return cls(*(d[k] for k in keys), rows, d["jpeg"], d["strip"], d["strip_model"])


def run_compression(
    cfg: CompressionStudyConfig,
    data: ImageData | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> CompressionStudyResult:
    """Train one autoencoder per code size; measure PSNR/SSIM of the 8-bit code against JPEG
    at the same bytes per image on the same test images.
    Shapes: data images (N, C, H, W) uint8; every model keeps the input size."""
    data = trim(data, cfg.test_images, 1000) if data is not None else study_data(cfg)
    log(f"data: {data.source}")
    test = data.test_x
    clean = to_unit(test)
    raw = math.prod(test.shape[1:])
    result = CompressionStudyResult(asdict(cfg), data.source, raw, len(test))
    plan = [("ae-conv", c) for c in cfg.conv_list] + [("ae-linear", n) for n in cfg.linear_list]
    course = ("ae-conv", 4) if ("ae-conv", 4) in plan else plan[0]
    for model_name, latent in plan:
        name = f"{model_name}-{latent}"
        model, run_dir, seconds = train_ae(cfg, data, name, model_name, latent)
        out = code_roundtrip(model, test, cfg.bits)
        p, s = quality(out, clean)
        with torch.no_grad():
            fp = psnr(model(clean).clamp(0, 1), clean)
        nbytes = latent_bytes(model.latent_size, cfg.bits)
        decoded, used, levels = jpeg_at_budget(test, nbytes)
        jp, js = quality(decoded, test)
        row = CompressionRow(
            model=name,
            code_shape=list(model.latent_shape),
            values=int(model.latent_size),
            bytes=nbytes,
            ratio=raw / nbytes,
            psnr=p,
            ssim=s,
            float_psnr=fp,
            jpeg_bytes=float(used.float().mean()),
            jpeg_psnr=jp,
            jpeg_ssim=js,
            jpeg_quality=float(levels.float().mean()),
            seconds=seconds,
            run=run_dir,
        )
        result.rows.append(row)
        log(
            f"{name:14s} {row.bytes:5d} B ({row.ratio:5.1f}:1)  PSNR {p:5.2f} dB  SSIM {s:.3f}"
            f"   JPEG {row.jpeg_bytes:6.1f} B  PSNR {jp:5.2f}  ({seconds:.0f} s)"
        )
        if (model_name, latent) == course:
            k = min(STRIP, len(test))
            result.strip_model = name
            result.strip = {
                "original": uint8_list(test[:k]),
                f"{name} ({nbytes} B)": uint8_list(out[:k]),
                f"JPEG ({nbytes} B budget)": uint8_list(decoded[:k]),
            }
    budgets = sorted({r.bytes for r in result.rows} | {b for b in JPEG_GRID if b < raw})
    result.jpeg = [
        {**asdict(pt), "ratio": pt.ratio} for pt in jpeg_curve(test, budgets)
    ]  # fmt: skip
    return result


__all__ = [
    "CompressionRow",
    "CompressionStudyConfig",
    "CompressionStudyResult",
    "code_roundtrip",
    "quality",
    "run_compression",
    "study_data",
]
