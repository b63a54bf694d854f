"""`autoencode()`: train an autoencoder into a run folder through the engine, then measure
it on the test split (MSE, PSNR, SSIM against the mean-image baseline) and draw the figures
and the report.

With a noise spec the model is a denoising autoencoder: the input is the corrupted image, the
target the clean one. The VAE minimizes the negative ELBO (summed BCE + beta * KL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from torch import nn

from cnnlab.data import ImageData
from cnnlab.engine.loop import train_task
from cnnlab.tasks.autoencode.config import AutoencodeConfig, make_ae_config
from cnnlab.tasks.autoencode.task import AutoencodeTask


@dataclass
class AutoencodeResult:
    """What a finished (or paused) run returns; `test` is {} when the run was paused."""

    run_dir: Path
    model: nn.Module
    history: list[dict[str, float]]
    test: dict[str, Any]
    train_time_s: float
    results: dict[str, Any] = field(default_factory=dict)


def autoencode(
    config: AutoencodeConfig | dict[str, Any] | None = None,
    *,
    data: ImageData | str | Path | None = None,
    console: Console | None = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    **overrides: Any,
) -> AutoencodeResult:
    """Train an autoencoder (a denoising one with `noise`) and write a run folder.

    `resume` continues the run folder RUN with its saved config (`overrides` such as a larger
    `epochs` apply); `stop_after` pauses after that many epochs of this call.

    Example: ``cnnlab.autoencode(model="ae-conv", data="fashion-mnist", latent=8, noise="0.3")``
    Shapes: images (N, C, H, W) in, reconstructions of the same shape in [0, 1].
    """
    r = train_task(AutoencodeTask, config, data=data, resume=resume, stop_after=stop_after,
                   console=console, **overrides)  # fmt: skip
    results = r.extra.get("results", {})
    return AutoencodeResult(r.folder, r.model, r.history, r.test or {}, r.train_time_s, results)


__all__ = ["AutoencodeConfig", "AutoencodeResult", "autoencode", "make_ae_config"]
