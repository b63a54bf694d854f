"""Autoencoders: a one-hidden-layer linear model, two convolutional ones and a VAE.

The common interface (every autoencoder in the model registry):

- inputs AND outputs are images in [0, 1] (pixel / 255, not mean/std-normalized), so PSNR
  and SSIM use data_range 1 and a sigmoid output layer fits the target's range;
- `encode(x) -> z`, `decode(z) -> x_hat`, `forward(x) -> x_hat = decode(encode(x))`;
- `latent_shape` is the shape of z for one image and `latent_size` its number of values:
  what an image costs once compressed (8 bits per value, see studies.ae_baselines);
- the VAE's `encode` returns the mean mu, its `forward` stores `self.kl` (the per-image mean
  KL divergence of the last call, a scalar tensor) and `sample(n)` decodes z ~ N(0, I).

Factories share one signature with every task model:
`Factory(in_channels, out_channels, input_size, cfg)`, out_channels == in_channels here.
Sizes that 2^depth does not divide (28x28 with three pools, 27x31) are padded up to a
multiple before the encoder and the decoder's output is cropped back, as U-Net does.

The course's convolutional autoencoder, 28x28x1 -> bottleneck 7x7x4 (196 values, 25 % of
784), is the default `ae-conv`: widths (16, 8), latent_channels 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.models.base import check_positive

UPSAMPLE_MODES = ("nearest", "bilinear")


class Autoencoder(nn.Module):
    """Base of all autoencoders: forward = decode(encode(x)), images in [0, 1]."""

    input_size: tuple[int, int]
    in_channels: int

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, C, H, W) -> (B, *latent_shape)."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        """Shapes: (B, *latent_shape) -> (B, C, H, W), H, W = size or input_size."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, C, H, W) in [0, 1] -> (B, C, H, W) in [0, 1]."""
        return self.decode(self.encode(x), tuple(x.shape[-2:]))  # type: ignore[arg-type]

    @property
    def latent_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def latent_size(self) -> int:
        return math.prod(self.latent_shape)


def _check_widths(widths: tuple[int, ...]) -> None:
    if len(widths) < 1:
        raise ValueError("widths must name at least one stage, e.g. widths=(16, 8)")
    for w in widths:
        check_positive("widths", w)


def _check_out(in_channels: int, out_channels: int) -> None:
    check_positive("in_channels", in_channels)
    if out_channels != in_channels:
        raise ValueError(
            f"out_channels must equal in_channels for an autoencoder, got {out_channels} "
            f"and {in_channels}"
        )


def _padded(size: tuple[int, int], multiple: int) -> tuple[int, int]:
    return (-(-size[0] // multiple) * multiple, -(-size[1] // multiple) * multiple)


def _pad_to(x: torch.Tensor, multiple: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    ph, pw = _padded((h, w), multiple)
    if (ph, pw) == (h, w):
        return x
    # Replicated edges, not zeros: the encoder should not spend capacity on a fake border.
    return F.pad(x, (0, pw - w, 0, ph - h), mode="replicate")


# ---- ae-linear -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearAEConfig:
    """latent: values in the code; widths: extra hidden layers before the code (mirrored in
    the decoder); () is the course's one-hidden-layer autoencoder."""

    latent: int = 32
    widths: tuple[int, ...] = ()


class LinearAutoencoder(Autoencoder):
    """flatten, [Linear-ReLU per width,] Linear-ReLU to the code, mirrored back, sigmoid."""

    def __init__(
        self, in_channels: int, out_channels: int, input_size: tuple[int, int], cfg: LinearAEConfig
    ) -> None:
        super().__init__()
        _check_out(in_channels, out_channels)
        check_positive("latent", cfg.latent)
        for w in cfg.widths:
            check_positive("widths", w)
        self.in_channels, self.input_size = in_channels, tuple(input_size)
        self._latent = cfg.latent
        n = in_channels * input_size[0] * input_size[1]
        sizes = [n, *cfg.widths, cfg.latent]
        enc: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            enc += [nn.Linear(a, b), nn.ReLU(inplace=True)]
        dec: list[nn.Module] = []
        back = sizes[::-1]
        for i, (a, b) in enumerate(zip(back[:-1], back[1:], strict=True)):
            dec += [nn.Linear(a, b), nn.Sigmoid() if i == len(back) - 2 else nn.ReLU(inplace=True)]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != (self.in_channels, *self.input_size):
            raise ModelError(
                f"ae-linear was built for {self.in_channels}x{self.input_size[0]}x"
                f"{self.input_size[1]} images, got {tuple(x.shape[1:])}; rebuild it for this size"
            )
        return self.encoder(x)  # (B, latent)

    def decode(self, z: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        return self.decoder(z).view(-1, self.in_channels, *self.input_size)  # (B, C, H, W)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self._latent,)


# ---- ae-conv and ae-conv-upsample ------------------------------------------------------------


@dataclass(frozen=True)
class ConvAEConfig:
    """widths: channels of the conv-ReLU-maxpool stages (depth = len(widths), each halves
    the image); latent_channels: channels of the code. The default is the course's
    autoencoder: 28x28x1 -> 7x7x4 (25 % of the input)."""

    widths: tuple[int, ...] = (16, 8)
    latent_channels: int = 4


@dataclass(frozen=True)
class UpsampleAEConfig(ConvAEConfig):
    """upsample: "nearest" or "bilinear" resizing followed by a 3x3 conv in the decoder."""

    upsample: str = "nearest"


def _encoder(in_channels: int, widths: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    c = in_channels
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        c = w
    return nn.Sequential(*layers), c


def _decoder(c: int, widths: tuple[int, ...], out_channels: int, mode: str) -> nn.Sequential:
    """One x2 stage per width (reversed), then a 3x3 conv to the image and a sigmoid."""
    layers: list[nn.Module] = []
    for w in reversed(widths):
        if mode == "transpose":
            # Kernel 3, stride 2: the kernel overlaps unevenly, the source of the checkerboard
            # artefacts the upsample decoder avoids (the course's comparison).
            layers.append(nn.ConvTranspose2d(c, w, 3, stride=2, padding=1, output_padding=1))
        else:
            layers += [nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(c, w, 3, padding=1)]
        layers.append(nn.ReLU(inplace=True))
        c = w
    layers += [nn.Conv2d(c, out_channels, 3, padding=1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def _check_mode(mode: str, allowed: tuple[str, ...]) -> None:
    if mode not in allowed:
        raise ValueError(f"upsample must be one of {', '.join(allowed)}, got {mode!r}")


class ConvAutoencoder(Autoencoder):
    """[conv3x3-ReLU-maxpool] per width, conv3x3 to latent_channels (a linear code, so 8-bit
    quantization sees its whole range); decoder: x2 transposed conv (ae-conv) or upsample +
    conv (ae-conv-upsample) per width, conv3x3, sigmoid."""

    def __init__(
        self, in_channels: int, out_channels: int, input_size: tuple[int, int], cfg: ConvAEConfig
    ) -> None:
        super().__init__()
        _check_out(in_channels, out_channels)
        _check_widths(cfg.widths)
        check_positive("latent_channels", cfg.latent_channels)
        mode = getattr(cfg, "upsample", "transpose")
        if isinstance(cfg, UpsampleAEConfig):
            _check_mode(mode, UPSAMPLE_MODES)
        self.in_channels, self.input_size = in_channels, tuple(input_size)
        self.multiple = 2 ** len(cfg.widths)
        body, c = _encoder(in_channels, cfg.widths)
        self.encoder = nn.Sequential(*body, nn.Conv2d(c, cfg.latent_channels, 3, padding=1))
        self.decoder = _decoder(cfg.latent_channels, cfg.widths, out_channels, mode)
        h, w = _padded(self.input_size, self.multiple)
        self._latent = (cfg.latent_channels, h // self.multiple, w // self.multiple)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(_pad_to(x, self.multiple))  # (B, latent_channels, H/m, W/m)

    def decode(self, z: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        h, w = size or self.input_size
        return self.decoder(z)[..., :h, :w]  # crop the padding: (B, C, H, W)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return self._latent


# ---- vae-conv --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VAEConfig:
    """widths: conv-ReLU-maxpool stages; latent: size of z; upsample: the decoder's x2 step,
    "transpose" (transposed conv), "nearest" or "bilinear" (resize + conv)."""

    widths: tuple[int, ...] = (32, 64)
    latent: int = 16
    upsample: str = "transpose"


class ConvVAE(Autoencoder):
    """Conv encoder -> flatten -> (mu, logvar) -> z = mu + sigma * eps -> Linear -> conv decoder.

    In training z is sampled (the reparameterization trick, so gradients reach mu and sigma);
    in eval mode z = mu, so reconstructions are deterministic.
    """

    def __init__(
        self, in_channels: int, out_channels: int, input_size: tuple[int, int], cfg: VAEConfig
    ) -> None:
        super().__init__()
        _check_out(in_channels, out_channels)
        _check_widths(cfg.widths)
        check_positive("latent", cfg.latent)
        _check_mode(cfg.upsample, ("transpose", *UPSAMPLE_MODES))
        self.in_channels, self.input_size = in_channels, tuple(input_size)
        self.multiple = 2 ** len(cfg.widths)
        self.encoder, c = _encoder(in_channels, cfg.widths)
        h, w = _padded(self.input_size, self.multiple)
        self._map = (c, h // self.multiple, w // self.multiple)
        n = math.prod(self._map)
        self.mu = nn.Linear(n, cfg.latent)
        self.logvar = nn.Linear(n, cfg.latent)
        self.project = nn.Sequential(nn.Linear(cfg.latent, n), nn.ReLU(inplace=True))
        self.decoder = _decoder(c, cfg.widths, out_channels, cfg.upsample)
        self._latent = cfg.latent
        self.kl = torch.zeros(())

    def encode_stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Shapes: (B, C, H, W) -> mu (B, latent), logvar (B, latent)."""
        f = self.encoder(_pad_to(x, self.multiple)).flatten(1)  # (B, c * h * w)
        return self.mu(f), self.logvar(f)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_stats(x)[0]  # (B, latent): the mean, the code of an image

    def decode(self, z: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        h, w = size or self.input_size
        m = self.project(z).view(-1, *self._map)  # (B, c, h/m, w/m)
        return self.decoder(m)[..., :h, :w]  # (B, C, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encode_stats(x)
        if self.training:
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        else:
            z = mu
        # KL(N(mu, sigma^2) || N(0, I)) summed over the code, averaged over the batch.
        self.kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
        return self.decode(z, tuple(x.shape[-2:]))  # type: ignore[arg-type]

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode n codes drawn from N(0, I). Shapes: -> (n, C, H, W) in [0, 1]."""
        check_positive("n", n)
        device = self.mu.weight.device
        gen_device = generator.device if generator is not None else device
        z = torch.randn(n, self._latent, generator=generator, device=gen_device).to(device)
        return self.decode(z)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self._latent,)


__all__ = [
    "Autoencoder",
    "ConvAEConfig",
    "ConvAutoencoder",
    "ConvVAE",
    "LinearAEConfig",
    "LinearAutoencoder",
    "UpsampleAEConfig",
    "VAEConfig",
]
