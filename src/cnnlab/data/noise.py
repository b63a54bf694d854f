"""Corruptions for denoising autoencoders, on whole batches of images in [0, 1].

Every function draws its randomness from the given torch.Generator, so each sample gets its
own noise and a seeded generator reproduces it exactly; results are clipped to [0, 1],
the range of the clean targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

NOISE_FORMS = "SIGMA, gaussian:SIGMA, salt-pepper:AMOUNT or none (e.g. 0.5, salt-pepper:0.1)"


def _rand(
    kind: str, shape: tuple[int, ...], x: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    # Draw on the generator's device (a CPU generator cannot fill a CUDA tensor), then move.
    device = generator.device if generator is not None else x.device
    fn = torch.randn if kind == "normal" else torch.rand
    return fn(shape, generator=generator, device=device, dtype=x.dtype).to(x.device)


def gaussian_noise(
    x: torch.Tensor, sigma: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """x + N(0, sigma^2) per pixel, clipped to [0, 1]. Shapes: (B, C, H, W) -> same."""
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return x.clone()
    noise = _rand("normal", tuple(x.shape), x, generator)
    return (x + sigma * noise).clamp_(0.0, 1.0)


def salt_pepper(
    x: torch.Tensor, amount: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Set a fraction `amount` of pixel positions to black or white (half each), all channels
    of a pixel alike, as a dead or stuck sensor pixel would be. Shapes: (B, C, H, W) -> same."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be in [0, 1], got {amount}")
    b, _, h, w = x.shape
    u = _rand("uniform", (b, 1, h, w), x, generator)  # one draw per pixel position
    out = torch.where(u < amount / 2, torch.zeros_like(x), x)
    out = torch.where((u >= amount / 2) & (u < amount), torch.ones_like(x), out)
    return out.clamp_(0.0, 1.0)


@dataclass(frozen=True)
class Noise:
    """A parsed noise spec: kind "gaussian" (level = sigma), "salt-pepper" (level = amount)
    or "none". Calling it corrupts a batch: noise(x, generator) -> noisy x."""

    kind: str = "none"
    level: float = 0.0

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Shapes: (B, C, H, W) in [0, 1] -> same, clipped to [0, 1]."""
        if self.kind == "gaussian":
            return gaussian_noise(x, self.level, generator)
        if self.kind == "salt-pepper":
            return salt_pepper(x, self.level, generator)
        return x

    def __str__(self) -> str:
        return "none" if self.kind == "none" else f"{self.kind}:{self.level:g}"


def parse_noise(spec: str) -> Noise:
    """'0.5' (Gaussian sigma), 'gaussian:0.5', 'salt-pepper:0.1' or 'none' -> a Noise."""
    text = spec.strip().lower()
    if text in ("", "none"):
        return Noise()
    kind, sep, value = text.rpartition(":")
    kind = kind.replace("_", "-") if sep else "gaussian"
    aliases = {"gaussian": "gaussian", "gauss": "gaussian", "salt-pepper": "salt-pepper"}
    try:
        level = float(value)
    except ValueError:
        level = float("nan")
    if kind not in aliases or level != level:  # level != level: not a number
        raise ValueError(f"bad noise {spec!r}; use {NOISE_FORMS}")
    noise = Noise(aliases[kind], level)
    noise(torch.zeros(1, 1, 1, 1))  # range checks of sigma / amount, with their messages
    return noise


__all__ = ["NOISE_FORMS", "Noise", "gaussian_noise", "parse_noise", "salt_pepper"]
