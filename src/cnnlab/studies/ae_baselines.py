"""Classic baselines an autoencoder is measured against: JPEG at a byte budget (compression)
and Gaussian blur / median filtering (denoising), plus the byte cost of a quantized code.

An autoencoder's code costs `latent_size` values; stored at 8 bits each, an image costs
`latent_bytes(latent_size)` bytes (the two float bounds of `quantize_latent` are shared by a
whole set and not counted per image). JPEG files are measured as written by Pillow with
optimized Huffman tables, headers included: that is what a file on disk costs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from cnnlab.tasks.autoencode.metrics import psnr, ssim, to_unit

JPEG_QUALITIES = (1, 95)  # Pillow's useful range; above 95 the files grow for nothing


def _check_uint8(images: torch.Tensor) -> None:
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"images must be uint8 (N, 1 or 3, H, W), got {images.dtype} {tuple(images.shape)}"
        )


def _encode(pil: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def _to_pil(img: torch.Tensor) -> Image.Image:
    a = img.permute(1, 2, 0).numpy()  # (H, W, C)
    return Image.fromarray(a[:, :, 0], "L") if a.shape[2] == 1 else Image.fromarray(a, "RGB")


def _best_quality(pil: Image.Image, budget: int, cache: dict[int, bytes]) -> int:
    """The highest quality whose file fits `budget`, or 1 if none does.

    Bisection (file size grows with quality), then a look a few steps above the answer,
    because small images sometimes shrink by a byte or two at a higher quality.
    """

    def size(q: int) -> int:
        if q not in cache:
            cache[q] = _encode(pil, q)
        return len(cache[q])

    lo, hi = JPEG_QUALITIES
    if size(lo) > budget:
        return lo
    while lo < hi:  # invariant: size(lo) fits
        mid = (lo + hi + 1) // 2
        if size(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    best = lo
    for q in range(lo + 1, min(lo + 4, JPEG_QUALITIES[1]) + 1):
        if size(q) <= budget:
            best = q
    return best


def jpeg_at_budget(
    images_uint8: torch.Tensor, bytes_budget: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Compress each image with the highest JPEG quality (1..95) whose file fits the budget;
    if even quality 1 does not fit, use 1 and report its real size.
    Shapes: (N, C, H, W) uint8, C 1 or 3 -> decoded (N, C, H, W) uint8, bytes (N,) int64,
    quality (N,) int64."""
    _check_uint8(images_uint8)
    if bytes_budget < 1:
        raise ValueError(f"bytes_budget must be >= 1, got {bytes_budget}")
    decoded, used, quality = [], [], []
    for img in images_uint8.cpu():
        pil, cache = _to_pil(img), {}
        q = _best_quality(pil, bytes_budget, cache)
        data = cache[q]
        back = np.asarray(Image.open(io.BytesIO(data)))
        back = back[:, :, None] if back.ndim == 2 else back  # (H, W, C)
        decoded.append(torch.from_numpy(back.copy()).permute(2, 0, 1))
        used.append(len(data))
        quality.append(q)
    return torch.stack(decoded), torch.tensor(used), torch.tensor(quality)


@dataclass(frozen=True)
class JpegPoint:
    """One point of the JPEG curve: the budget, what was spent, and the quality reached."""

    budget: int
    bytes: float  # mean file size per image
    psnr: float
    ssim: float
    quality: float  # mean JPEG quality setting
    raw_bytes: int  # C * H * W, the uncompressed uint8 image

    @property
    def ratio(self) -> float:
        """Compression ratio: raw bytes / mean bytes spent."""
        return self.raw_bytes / self.bytes


def jpeg_curve(images: torch.Tensor, budgets: Sequence[int]) -> list[JpegPoint]:
    """JPEG quality against bytes per image on `images`, one point per budget.
    Shapes: images (N, C, H, W) uint8 -> one JpegPoint per budget."""
    _check_uint8(images)
    rows = []
    for budget in budgets:
        decoded, used, quality = jpeg_at_budget(images, int(budget))
        s = ssim(decoded, images) if min(images.shape[-2:]) >= 11 else float("nan")
        rows.append(
            JpegPoint(
                budget=int(budget),
                bytes=float(used.float().mean()),
                psnr=psnr(decoded, images),
                ssim=s,
                quality=float(quality.float().mean()),
                raw_bytes=math.prod(images.shape[1:]),
            )
        )
    return rows


def latent_bytes(latent_size: int, bits: int = 8) -> int:
    """Bytes one image costs as a code of `latent_size` values at `bits` bits each.
    Shapes: ints -> int."""
    if latent_size < 1:
        raise ValueError(f"latent_size must be >= 1, got {latent_size}")
    _check_bits(bits)
    return math.ceil(latent_size * bits / 8)


def _check_bits(bits: int) -> None:
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, got {bits}")


def quantize_latent(z: torch.Tensor, bits: int = 8) -> torch.Tensor:
    """Round z to 2^bits levels between its min and max (one pair for the whole tensor) and
    map back, so the decoder sees exactly what a stored code would give it.
    Shapes: any -> same."""
    _check_bits(bits)
    lo, hi = z.min(), z.max()
    if hi <= lo:
        return z.clone()
    levels = 2**bits - 1
    q = torch.round((z - lo) / (hi - lo) * levels)
    return q / levels * (hi - lo) + lo


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with a kernel of 2 * ceil(3 sigma) + 1 pixels (capped to fit the image).
    Shapes: (B, C, H, W) float in [0, 1] or uint8 -> (B, C, H, W) float."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    x = to_unit(x)
    k = 2 * math.ceil(3 * sigma) + 1
    k = min(k, 2 * (min(x.shape[-2:]) - 1) + 1)  # reflect padding needs pad < image size
    return TF.gaussian_blur(x, kernel_size=[k, k], sigma=[sigma, sigma])


def median_filter(x: torch.Tensor, k: int = 3, chunk: int = 256) -> torch.Tensor:
    """Median of each k x k neighbourhood per channel (reflect padding), batched with unfold.
    Shapes: (B, C, H, W) float in [0, 1] or uint8 -> (B, C, H, W) float."""
    if k < 1 or k % 2 == 0:
        raise ValueError(f"k must be an odd number >= 1, got {k}")
    x = to_unit(x)
    b, c, h, w = x.shape
    if k == 1:
        return x.clone()
    if k // 2 >= min(h, w):
        raise ValueError(f"k must be smaller than twice the image size {h}x{w}, got {k}")
    flat = x.reshape(b * c, 1, h, w)  # channels filtered independently
    out = []
    for i in range(0, len(flat), chunk):
        p = F.pad(flat[i : i + chunk], (k // 2,) * 4, mode="reflect")
        cols = F.unfold(p, k)  # (n, k * k, H * W)
        out.append(cols.median(dim=1).values.view(-1, 1, h, w))
    return torch.cat(out).view(b, c, h, w)


__all__ = [
    "JpegPoint",
    "gaussian_blur",
    "jpeg_at_budget",
    "jpeg_curve",
    "latent_bytes",
    "median_filter",
    "quantize_latent",
]
