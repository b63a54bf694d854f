"""Losses and metrics of image-to-image reconstruction (autoencoders), as pure functions;
the training Task of autoencoders (AutoencodeTask) and sampling from a run (sample_run).

Images are in [0, 1] everywhere (pixel / 255), so PSNR and SSIM use data_range 1.
PSNR and SSIM over a set are the mean of the per-image values (the usual convention in
papers), computed by torchmetrics in chunks so a whole test set fits in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from cnnlab.data import ImageData, load_dataset
from cnnlab.data.noise import Noise
from cnnlab.errors import ConfigError, RunError
from cnnlab.train import runs

LOSSES = ("mse", "bce")
VAL_CHUNK = 512


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float in [0, 1]; float input is returned as float32.
    Shapes: any -> same."""
    if x.dtype == torch.uint8:
        return x.float().div_(255.0)
    return x.float()


def _chunked(metric: nn.Module, x_hat: torch.Tensor, x: torch.Tensor, chunk: int) -> float:
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
    metric = PeakSignalNoiseRatio(data_range=1.0, reduction="elementwise_mean", dim=(1, 2, 3))
    return _chunked(metric, x_hat, x, chunk)


def ssim(x_hat: torch.Tensor, x: torch.Tensor, chunk: int = 512) -> float:
    """Mean per-image SSIM (11x11 Gaussian window, data_range 1); images need H, W >= 11.
    Shapes: x_hat, x (N, C, H, W) in [0, 1] (or uint8) -> float."""
    return _chunked(StructuralSimilarityIndexMeasure(data_range=1.0), x_hat, x, chunk)


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


class AutoencodeTask:
    """Batches of (input, target) in [0, 1]: input = corrupted target when denoising.

    Batch order and noise come from a generator seeded by (seed, epoch) only, so a resumed
    run sees exactly the batches of an uninterrupted one. The validation inputs are corrupted
    once, with a fixed generator, so val/psnr compares epochs on the same noisy images.
    """

    def __init__(
        self,
        train_x: torch.Tensor,
        val_x: torch.Tensor,
        batch_size: int,
        noise: Noise,
        seed: int = 0,
        vae: bool = False,
        beta: float = 1.0,
    ) -> None:
        self.train_x, self.batch_size, self.noise = train_x, batch_size, noise
        self.seed, self.vae, self.beta = seed, vae, beta
        self.val_y = to_unit(val_x)
        gen = torch.Generator().manual_seed(seed + 1)
        self.val_in = noise(self.val_y, gen)

    def num_train_batches(self) -> int:
        n = len(self.train_x)
        # drop the last partial batch, unless it is the only one (tiny data)
        return n // self.batch_size if n > self.batch_size else min(n, 1)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.train_x), generator=gen)
        for i in range(self.num_train_batches()):
            y = to_unit(self.train_x[order[i * self.batch_size : (i + 1) * self.batch_size]])
            yield self.noise(y, gen), y

    def _loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor):
        out = model(x).float()
        if self.vae:
            return vae_loss(out, y, model.kl.float(), self.beta), out
        return recon_loss(out, y), out

    def loss(
        self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        x, y = batch
        loss, out = self._loss(model, x, y)
        if not self.vae:
            return loss, {}
        return loss, {"mse": F.mse_loss(out.detach(), y), "kl": model.kl.detach()}

    def validate(self, model: nn.Module) -> dict[str, float]:
        n = len(self.val_y)
        if n == 0:
            return {}
        total, outs = 0.0, []
        for i in range(0, n, VAL_CHUNK):
            x, y = self.val_in[i : i + VAL_CHUNK], self.val_y[i : i + VAL_CHUNK]
            loss, out = self._loss(model, x, y)
            total += float(loss) * len(y)
            outs.append(out.clamp(0, 1))
        out = torch.cat(outs)
        row = {"val/loss": total / n, "val/mse": mse(out, self.val_y)}
        row["val/psnr"] = psnr(out, self.val_y)
        return row


def _free(path: Path) -> tuple[Path, str]:
    """`path`, or the first free path-2.png, path-3.png ... with a note saying so."""
    if not path.exists():
        return path, ""
    n = 2
    while (alt := path.with_name(f"{path.stem}-{n}{path.suffix}")).exists():
        n += 1
    return alt, f"{path} exists; wrote {alt} instead"


def sample_run(
    run: str | Path,
    n: int = 64,
    seed: int = 0,
    out: str | Path | None = None,
    pair: tuple[int, int] | None = None,
    steps: int = 8,
) -> tuple[dict[str, Path], list[str]]:
    """New images from a vae-conv run and/or a latent interpolation between test images
    `pair` (default (0, 1) for a VAE) of the run's data; any autoencoder can interpolate.

    Default files: RUN/figures/samples.png and interpolation.png; with `out` the samples go to
    `out` and the interpolation to OUT-interpolation.png (a plain autoencoder's interpolation
    to `out`); an existing file outside the run is never overwritten. Returns the written
    paths by kind and notes. Shapes: grids of n and `steps` images of the run's input size.
    """
    from cnnlab.train.autoencode_run import TASK, make_ae_config
    from cnnlab.viz.autoencoders import save_grid

    if n < 1:
        raise ValueError(f"n = {n} is out of range; it must be >= 1")
    if steps < 2:
        raise ValueError(f"steps = {steps} is out of range; it must be >= 2")
    folder = Path(run)
    meta = runs.read_meta(folder)
    if meta.task != TASK:
        raise RunError(
            f"{folder} is a {meta.task} run of {meta.model!r}, not an autoencoder; "
            "cnnlab sample needs a run of `cnnlab autoencode --model vae-conv`"
        )
    model, _ = runs.load_model(folder)
    is_vae = hasattr(model, "sample")
    if not is_vae and pair is None:
        raise RunError(
            f"{folder} holds {meta.model!r}, a plain autoencoder with no prior to "
            "sample from (train --model vae-conv for samples); --interpolate I,J "
            "still works: interpolating codes works for any autoencoder"
        )
    if out is not None and Path(out).suffix.lower() != ".png":
        raise ConfigError(f"--out {out} must name a .png file")
    targets = {
        "samples": folder / "figures" / "samples.png",
        "interpolation": folder / "figures" / "interpolation.png",
    }
    if out is not None:
        o = Path(out)
        targets = {"samples": o, "interpolation": o.with_name(f"{o.stem}-interpolation.png")}
        if not is_vae:
            targets["interpolation"] = o
    written: dict[str, Path] = {}
    notes: list[str] = []
    if is_vae:
        path, note = _free(targets["samples"]) if out is not None else (targets["samples"], "")
        gen = torch.Generator().manual_seed(seed)
        written["samples"] = save_grid(model.sample(n, generator=gen), path, ncols=8)
        notes += [note] if note else []
    i, j = pair if pair is not None else (0, 1)
    cfg = make_ae_config(runs.read_config(folder))
    data = load_dataset(
        cfg.data,
        val_fraction=cfg.val_fraction,
        train_limit=cfg.train_limit,
        image_size=cfg.image_size,
        seed=cfg.seed,
    )
    m = len(data.test_x)
    if not (0 <= i < m and 0 <= j < m):
        raise ConfigError(
            f"--interpolate {i},{j}: the run's test split has {m} images, give indices 0-{m - 1}"
        )
    path, note = targets["interpolation"], ""
    if out is not None:
        path, note = _free(path)
    images = interpolate(model, data.test_x[i], data.test_x[j], steps)
    written["interpolation"] = save_grid(images, path, ncols=steps)
    notes += [note] if note else []
    if not is_vae:
        notes.append(f"{meta.model} is not a VAE: no samples drawn, interpolation only")
    return written, notes


__all__ = [
    "AutoencodeTask",
    "sample_run",
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
