"""Checkerboard study: transposed convolution against upsample + convolution in the decoder.

The lecture recommends resizing (nearest or bilinear upsampling) followed by a convolution
instead of a transposed convolution, whose uneven kernel overlap (a 3x3 kernel at stride 2)
paints a period-2 pattern over the output. This study trains the same convolutional
autoencoder three ways (ae-conv with transposed convs, ae-conv-upsample with nearest and with
bilinear upsampling) and measures, besides PSNR and SSIM, how much of each output's spectral
power lies at period 2 (the Nyquist row and column of its 2-D spectrum), relative to the
clean image's: 1.0 means no more period-2 pattern than the data has. The same ratio for the
untrained network (the initial weights its training starts from) shows the artefact the
transposed convolution is known for, before training learns to cancel it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from cnnlab.data import ImageData
from cnnlab.studies.ae_configs import DECODERS, CheckerboardStudyConfig
from cnnlab.studies.autoencoder import (
    code_roundtrip,
    initial_model,
    quality,
    study_data,
    train_ae,
    trim,
    uint8_list,
)
from cnnlab.tasks.autoencode.metrics import to_unit

STRIP = 6  # example images kept for the figure


@dataclass
class CheckerboardRow:
    decoder: str
    model: str
    parameters: int
    psnr: float
    ssim: float
    period2: float  # the outputs' period-2 power share / the clean images' share
    period2_init: float  # the same for the untrained network (same initial weights)
    run: str
    train_seconds: float
    examples: list = field(default_factory=list)  # STRIP outputs as uint8 lists


@dataclass
class CheckerboardStudyResult:
    config: dict[str, Any]
    data_source: str
    test_images: int
    originals: list  # STRIP clean test images as uint8 lists
    rows: list[CheckerboardRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckerboardStudyResult:
        rows = [CheckerboardRow(**r) for r in d["rows"]]
        return cls(d["config"], d["data_source"], d["test_images"], d["originals"], rows)


def period2_share(x: torch.Tensor) -> float:
    """The share of the images' spectral power (mean removed per image) that lies at period 2:
    the Nyquist row and column of the 2-D spectrum, pooled over all images and channels.
    Shapes: (N, C, H, W) float, H and W even -> a float in [0, 1]."""
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        raise ValueError(f"period-2 power needs even sizes, got {h}x{w}")
    x = x.double()
    power = torch.fft.fft2(x - x.mean(dim=(-2, -1), keepdim=True)).abs() ** 2
    nyquist = power[..., h // 2, :].sum() + power[..., :, w // 2].sum()
    nyquist = nyquist - power[..., h // 2, w // 2].sum()  # counted twice
    return float(nyquist / power.sum().clamp_min(1e-12))


def checkerboard_ratio(output: torch.Tensor, clean: torch.Tensor) -> float:
    """period2_share(output) / period2_share(clean): 1.0 = no extra period-2 pattern.
    Shapes: (N, C, H, W) float in [0, 1], both the same."""
    return period2_share(output) / max(period2_share(clean), 1e-12)


def run_checkerboard(
    cfg: CheckerboardStudyConfig,
    data: ImageData | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> CheckerboardStudyResult:
    """Train one autoencoder per decoder kind on the same data and seed; score its test
    reconstructions (PSNR, SSIM, period-2 power ratio)."""
    data = trim(data, cfg.test_images, 1000) if data is not None else study_data(cfg)
    log(f"data: {data.source}")
    clean = to_unit(data.test_x)
    result = CheckerboardStudyResult(
        asdict(cfg), data.source, len(data.test_x), uint8_list(data.test_x[:STRIP])
    )
    for name in cfg.decoder_list:
        model_name, args = DECODERS[name]
        start = initial_model(data, model_name, cfg.latent, cfg.seed, **args)
        at_init = checkerboard_ratio(code_roundtrip(start, data.test_x, bits=None), clean)
        model, run_dir, seconds = train_ae(
            cfg, data, f"{name}", model_name, cfg.latent, model_args=dict(args)
        )
        out = code_roundtrip(model, data.test_x, bits=None)
        p, s = quality(out, clean)
        row = CheckerboardRow(
            name, model_name, sum(q.numel() for q in model.parameters()), p, s,
            checkerboard_ratio(out, clean), at_init, run_dir, seconds, uint8_list(out[:STRIP]),
        )  # fmt: skip
        result.rows.append(row)
        log(
            f"{name:9s} {row.parameters:6,d} parameters  PSNR {p:.2f} dB  SSIM {s:.3f}  "
            f"period-2 power x{row.period2:.2f} (untrained x{at_init:.1f})  ({seconds:.0f} s)"
        )
    return result


__all__ = [
    "DECODERS",
    "CheckerboardRow",
    "CheckerboardStudyConfig",
    "CheckerboardStudyResult",
    "checkerboard_ratio",
    "period2_share",
    "run_checkerboard",
]
