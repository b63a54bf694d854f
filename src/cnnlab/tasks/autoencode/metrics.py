"""Losses and metrics of image-to-image reconstruction (autoencoders), as pure functions;
the task (task.py) and sampling (sample.py) use them.

Images are in [0, 1] everywhere (pixel / 255), so PSNR and SSIM use data_range 1.
PSNR and SSIM over a set are the mean of the per-image values (the usual convention in
papers), computed by torchmetrics in chunks so a whole test set fits in memory.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import ImageData
from cnnlab.data.noise import Noise

LOSSES = ("mse", "bce")
VAL_CHUNK = 512


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float in [0, 1]; float input is returned as float32.
    Shapes: any -> same."""
    if x.dtype == torch.uint8:
        return x.float().div_(255.0)
    return x.float()


def _chunked(metric: nn.Module, x_hat: torch.Tensor, x: torch.Tensor, chunk: int) -> float:
    # the metrics are made with sync_on_compute=False: under DDP they score this process's
    # images only (the engine sums over processes), and never wait for a process that has none
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat and x must have one shape, got {tuple(x_hat.shape)} and "
                         f"{tuple(x.shape)}")  # fmt: skip
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    metric = metric.to(x.device)
    for i in range(0, len(x), chunk):
        metric.update(to_unit(x_hat[i : i + chunk]), to_unit(x[i : i + chunk]))
    return float(metric.compute())


def psnr(x_hat: torch.Tensor, x: torch.Tensor, chunk: int = 512) -> float:
    """Mean per-image PSNR in dB, 10 log10(1 / MSE) with data_range 1; inf if every image is
    reproduced exactly. Shapes: x_hat, x (N, C, H, W) in [0, 1] (or uint8) -> float."""
    from torchmetrics.image import PeakSignalNoiseRatio  # imported when used: it takes seconds

    metric = PeakSignalNoiseRatio(data_range=1.0, reduction="elementwise_mean", dim=(1, 2, 3),
                                  sync_on_compute=False)  # fmt: skip
    return _chunked(metric, x_hat, x, chunk)


def ssim(x_hat: torch.Tensor, x: torch.Tensor, chunk: int = 512) -> float:
    """Mean per-image SSIM (11x11 Gaussian window, data_range 1); images need H, W >= 11.
    Shapes: x_hat, x (N, C, H, W) in [0, 1] (or uint8) -> float."""
    from torchmetrics.image import StructuralSimilarityIndexMeasure

    metric = StructuralSimilarityIndexMeasure(data_range=1.0, sync_on_compute=False)
    return _chunked(metric, x_hat, x, chunk)


def mse(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Mean squared error over all pixels. Shapes: (N, C, H, W) x2 -> float."""
    return float(F.mse_loss(to_unit(x_hat), to_unit(x)))


def mean_image_baseline(train_x: torch.Tensor, test_x: torch.Tensor) -> dict[str, float]:
    """Quality of predicting the training set's mean image for every test image: the
    reconstruction a model reaches without looking at its input (the "identity-free"
    baseline an autoencoder must beat). Shapes: train_x (N, C, H, W), test_x (M, C, H, W),
    uint8 or [0, 1] -> {"mse", "psnr", "ssim"}."""
    mean = to_unit(train_x).mean(0, keepdim=True)  # (1, C, H, W)
    test = to_unit(test_x)
    guess = mean.expand_as(test)
    out = {"mse": mse(guess, test), "psnr": psnr(guess, test)}
    if min(test.shape[-2:]) >= 11:
        out["ssim"] = ssim(guess, test)
    return out


def recon_loss(x_hat: torch.Tensor, x: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Mean reconstruction loss per pixel: "mse" (default) or "bce".

    MSE is the default because PSNR, the number we report, is 10 log10(1 / MSE): training
    minimizes exactly what is measured, and its value reads directly. BCE (the course's
    Keras choice) treats grey pixels as probabilities; it works, but its minimum is the
    entropy of the target, not 0, so the loss value says little on its own.
    Shapes: x_hat, x (B, C, H, W) in [0, 1] -> scalar.
    """
    if kind == "mse":
        return F.mse_loss(x_hat, x)
    if kind == "bce":
        # float32: BCE is not autocast-safe, and log(x_hat) underflows in bf16.
        return F.binary_cross_entropy(x_hat.float(), x.float())
    raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {kind!r}")


def vae_loss(
    x_hat: torch.Tensor, x: torch.Tensor, kl: torch.Tensor, beta: float = 1.0, kind: str = "bce"
) -> torch.Tensor:
    """The negative ELBO per image: reconstruction summed over pixels + beta * KL.

    Summed, not averaged, over pixels: the KL (model.kl) is a sum over the code per image,
    and the two terms must be on one scale, else the KL wins and every sample is the mean
    image. BCE by default: the Bernoulli likelihood of the classic VAE on MNIST-like images.
    Shapes: x_hat, x (B, C, H, W), kl scalar -> scalar.
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    pixels = x[0].numel()
    return recon_loss(x_hat, x, kind) * pixels + beta * kl


@torch.no_grad()
def reconstruct(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = 256,
    corrupt: Callable[..., torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run `model` in eval mode over `images` in chunks, optionally corrupting the inputs
    first (a Noise from cnnlab.data.noise). Returns (inputs fed, outputs) on the CPU.
    Shapes: images (N, C, H, W) uint8 or [0, 1] -> ((N, C, H, W), (N, C, H, W)) float."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    fed, out = [], []
    try:
        for i in range(0, len(images), batch_size):
            x = to_unit(images[i : i + batch_size]).to(device)
            if corrupt is not None:
                x = corrupt(x, generator)
            fed.append(x.cpu())
            out.append(model(x).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(fed), torch.cat(out)


def evaluate_ae(
    model: nn.Module, data: ImageData, noise: Noise, seed: int = 0
) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
    """Test metrics of `model` on data.test_x (of its noisy inputs when `noise` is set, with
    the PSNR/SSIM of the noisy inputs themselves). Returns (metrics, inputs fed, outputs).
    Shapes: test_x (N, C, H, W) -> inputs, outputs (N, C, H, W) in [0, 1]."""
    gen = torch.Generator().manual_seed(seed + 2)
    corrupt = noise if noise.kind != "none" else None
    fed, out = reconstruct(model, data.test_x, corrupt=corrupt, generator=gen)
    clean = to_unit(data.test_x)
    can_ssim = min(clean.shape[-2:]) >= 11  # SSIM's 11x11 window
    test = {"mse": mse(out, clean), "psnr": psnr(out, clean)}
    if can_ssim:
        test["ssim"] = ssim(out, clean)
    if corrupt is not None:
        test["noisy_psnr"] = psnr(fed, clean)
        if can_ssim:
            test["noisy_ssim"] = ssim(fed, clean)
    return test, fed, out


@torch.no_grad()
def interpolate(model: nn.Module, a: torch.Tensor, b: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """Decode (1 - t) z_a + t z_b for `steps` values of t from 0 to 1, z = model.encode (the
    mean mu for a VAE). Works for any autoencoder. Shapes: a, b (C, H, W) -> (steps, C, H, W)."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    model.eval()
    za, zb = model.encode(to_unit(torch.stack([a, b])))  # (latent_shape) each
    t = torch.linspace(0, 1, steps).view(-1, *[1] * za.ndim)  # (steps, 1, ...)
    z = (1 - t) * za + t * zb  # (steps, *latent_shape)
    return model.decode(z, tuple(a.shape[-2:])).clamp(0, 1)


__all__ = [
    "LOSSES",
    "evaluate_ae",
    "interpolate",
    "mean_image_baseline",
    "mse",
    "psnr",
    "recon_loss",
    "reconstruct",
    "ssim",
    "to_unit",
    "vae_loss",
]
