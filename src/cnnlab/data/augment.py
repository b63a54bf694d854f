"""Batched augmentation: one call transforms a whole batch, with per-sample randomness.

A per-sample PIL pipeline costs more than the training itself on small images (DESIGN.md);
here a batch of 256 Fashion-MNIST images is flipped, shifted and rotated in a few ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnnlab.core.errors import ConfigError


@dataclass(frozen=True)
class Augment:
    """flip: random horizontal flip; shift: random translation up to this many pixels
    (pad-and-crop); rotate: random rotation up to +-degrees; noise: Gaussian std on
    normalized inputs; erase: probability of random erasing (Zhong et al. 2017), one
    rectangle of 2-40 % of the image, aspect 0.3-3.3, set to the fill value. Uncovered and
    erased pixels get `fill` (per channel; the loader passes the normalized value of a black
    pixel, the background of Fashion-MNIST and MNIST)."""

    flip: bool = False
    shift: int = 0
    rotate: float = 0.0
    noise: float = 0.0
    erase: float = 0.0

    @classmethod
    def parse(cls, spec: str) -> Augment:
        """'none', or a comma list such as 'flip,shift=2,rotate=10,noise=0.1'."""
        spec = spec.strip()
        if spec in ("", "none"):
            return cls()
        kw: dict[str, object] = {}
        for part in spec.split(","):
            key, _, value = part.strip().partition("=")
            try:
                if key == "flip":
                    kw["flip"] = value.lower() not in ("0", "false", "no")
                elif key in ("shift", "crop"):
                    kw["shift"] = int(value or 2)
                elif key in ("rotate", "rotation"):
                    kw["rotate"] = float(value or 10)
                elif key == "noise":
                    kw["noise"] = float(value or 0.1)
                elif key in ("erase", "cutout"):
                    kw["erase"] = float(value or 0.5)
                    if not 0.0 <= kw["erase"] <= 1.0:
                        raise ConfigError(
                            f"erase is a probability, got {value!r} in {spec!r}; e.g. erase=0.5"
                        )
                else:
                    raise ConfigError(
                        f"unknown augmentation {key!r} in {spec!r}; use flip, shift=N, "
                        "rotate=DEG, noise=STD, erase=P or none"
                    )
            except ValueError:
                raise ConfigError(f"bad value in augmentation {part!r}; e.g. shift=2") from None
        return cls(**kw)  # type: ignore[arg-type]

    @property
    def active(self) -> bool:
        return self.flip or self.shift > 0 or self.rotate > 0 or self.noise > 0 or self.erase > 0

    def __call__(
        self, x: torch.Tensor, gen: torch.Generator, fill: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Shapes: x (B, C, H, W) float, fill (C,) or None (zeros) -> (B, C, H, W)."""
        b = x.shape[0]
        f = None if fill is None else fill.to(x.dtype).view(1, -1, 1, 1)
        if self.flip:
            mask = torch.rand(b, generator=gen) < 0.5
            x = torch.where(mask[:, None, None, None], x.flip(3), x)
        if self.shift > 0:
            dy = torch.randint(-self.shift, self.shift + 1, (b,), generator=gen)
            dx = torch.randint(-self.shift, self.shift + 1, (b,), generator=gen)
            x = shift_batch(x, dy, dx) if f is None else shift_batch(x - f, dy, dx) + f
        if self.rotate > 0:
            angles = (torch.rand(b, generator=gen) * 2 - 1) * self.rotate
            x = rotate_batch(x, angles) if f is None else rotate_batch(x - f, angles) + f
        if self.noise > 0:
            x = x + self.noise * torch.randn(x.shape, generator=gen, dtype=x.dtype)
        if self.erase > 0:
            mask = erase_mask(b, x.shape[2], x.shape[3], self.erase, gen)  # (B, 1, H, W)
            x = torch.where(mask, torch.zeros(()) if f is None else f, x)
        return x


def erase_mask(
    b: int,
    h: int,
    w: int,
    p: float,
    gen: torch.Generator,
    area: tuple[float, float] = (0.02, 0.4),
    aspect: tuple[float, float] = (0.3, 3.3),
) -> torch.Tensor:
    """Random-erasing rectangles, one per image with probability p, as a boolean mask.

    Each rectangle covers a uniform fraction in `area` of the image, with a log-uniform
    height/width ratio in `aspect`, clipped to the image. Shape: (B, 1, H, W) bool.
    """
    s = (area[0] + (area[1] - area[0]) * torch.rand(b, generator=gen)) * h * w
    log_r = math.log(aspect[0]) + (math.log(aspect[1]) - math.log(aspect[0])) * torch.rand(
        b, generator=gen
    )
    r = log_r.exp()
    eh = (s * r).sqrt().round().clamp(1, h).long()  # (B,)
    ew = (s / r).sqrt().round().clamp(1, w).long()
    top = (torch.rand(b, generator=gen) * (h - eh + 1)).long()
    left = (torch.rand(b, generator=gen) * (w - ew + 1)).long()
    on = torch.rand(b, generator=gen) < p
    rows = torch.arange(h)[None, :]  # (1, H)
    cols = torch.arange(w)[None, :]
    in_r = (rows >= top[:, None]) & (rows < (top + eh)[:, None])  # (B, H)
    in_c = (cols >= left[:, None]) & (cols < (left + ew)[:, None])  # (B, W)
    return (in_r[:, :, None] & in_c[:, None, :] & on[:, None, None])[:, None]


def shift_batch(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Translate each image by (dy[i], dx[i]) pixels, filling with zeros (pad, then crop).

    Shapes: x (B, C, H, W), dy and dx (B,) int -> (B, C, H, W).
    """
    b, c, h, w = x.shape
    p = int(max(dy.abs().max().item(), dx.abs().max().item(), 0))
    if p == 0:
        return x
    padded = F.pad(x, (p, p, p, p))  # (B, C, H+2p, W+2p)
    rows = (p - dy)[:, None] + torch.arange(h)  # (B, H)
    cols = (p - dx)[:, None] + torch.arange(w)  # (B, W)
    bi = torch.arange(b)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[bi, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


def rotate_batch(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate each image about its centre by degrees[i] (bilinear, zero fill).

    Shapes: x (B, C, H, W), degrees (B,) -> (B, C, H, W).
    """
    rad = degrees.to(x.dtype) * (math.pi / 180)
    cos, sin = rad.cos(), rad.sin()
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
