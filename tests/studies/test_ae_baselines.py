"""Reconstruction metrics and losses, and the classic baselines: JPEG at a byte budget,
quantized codes, Gaussian blur and the median filter."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.studies.ae_baselines import (
    gaussian_blur,
    jpeg_at_budget,
    jpeg_curve,
    latent_bytes,
    median_filter,
    quantize_latent,
)
from cnnlab.tasks.autoencode.metrics import (
    mean_image_baseline,
    psnr,
    recon_loss,
    ssim,
    to_unit,
    vae_loss,
)


def smooth_images(n: int, c: int = 1, size: int = 28, seed: int = 0) -> torch.Tensor:
    """uint8 images of blurred noise: JPEG-friendly structure, every image different."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c, size // 4, size // 4, generator=g)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return (x * 255).round().to(torch.uint8)


# ---- metrics and losses --------------------------------------------------------------------


def test_psnr_equals_hand_computation() -> None:
    x = torch.zeros(2, 1, 4, 4)
    x_hat = x.clone()
    x_hat[0] += 0.1  # MSE 0.01 -> 20 dB
    x_hat[1, 0, 0, :2] = 0.5  # MSE 2 * 0.25 / 16 = 1/32 -> 10 log10(32)
    expected = (10 * math.log10(1 / 0.01) + 10 * math.log10(32)) / 2
    assert psnr(x_hat, x) == pytest.approx(expected, rel=1e-5)
    assert psnr(x_hat, x, chunk=1) == pytest.approx(expected, rel=1e-5)  # chunks agree


def test_psnr_and_ssim_accept_uint8_and_are_perfect_on_equal_images() -> None:
    imgs = smooth_images(4)
    assert ssim(imgs, imgs) == pytest.approx(1.0, abs=1e-5)
    assert psnr(imgs, imgs) == math.inf
    assert psnr(imgs, to_unit(imgs)) == math.inf
    noisy = (to_unit(imgs) + 0.05).clamp(0, 1)
    assert ssim(noisy, imgs) < 1.0


def test_ssim_matches_torchmetrics_functional_on_the_whole_set() -> None:
    from torchmetrics.functional.image import structural_similarity_index_measure

    a, b = to_unit(smooth_images(6, seed=1)), to_unit(smooth_images(6, seed=2))
    expected = float(structural_similarity_index_measure(a, b, data_range=1.0))
    assert ssim(a, b, chunk=4) == pytest.approx(expected, rel=1e-5)


def test_mean_image_baseline() -> None:
    train = torch.stack([torch.zeros(1, 4, 4), torch.ones(1, 4, 4)])  # mean image 0.5
    test = torch.ones(3, 1, 4, 4)
    out = mean_image_baseline(train, test)
    assert out["mse"] == pytest.approx(0.25)
    assert out["psnr"] == pytest.approx(10 * math.log10(4), rel=1e-5)
    assert "ssim" not in out  # 4x4 is below SSIM's 11x11 window


def test_losses() -> None:
    torch.manual_seed(0)
    x, x_hat = torch.rand(2, 1, 5, 5), torch.rand(2, 1, 5, 5)
    torch.testing.assert_close(recon_loss(x_hat, x), ((x_hat - x) ** 2).mean())
    bce = -(x * x_hat.log() + (1 - x) * (1 - x_hat).log()).mean()
    torch.testing.assert_close(recon_loss(x_hat, x, "bce"), bce)
    kl = torch.tensor(3.0)
    torch.testing.assert_close(vae_loss(x_hat, x, kl, beta=2.0), bce * 25 + 6.0)
    with pytest.raises(ValueError, match="loss must be one of mse, bce"):
        recon_loss(x_hat, x, "l1")
    with pytest.raises(ValueError, match="beta"):
        vae_loss(x_hat, x, kl, beta=-1)


# ---- JPEG ----------------------------------------------------------------------------------


def test_jpeg_fits_the_budget_and_quality_rises_with_it() -> None:
    imgs = smooth_images(6)
    qualities = []
    for budget in (400, 500, 700):
        decoded, used, quality = jpeg_at_budget(imgs, budget)
        assert decoded.shape == imgs.shape and decoded.dtype == torch.uint8
        assert (used <= budget).all()  # quality 1 fits every image at these budgets
        assert ((quality >= 1) & (quality <= 95)).all()
        qualities.append(quality)
    assert (qualities[0] <= qualities[1]).all() and (qualities[1] <= qualities[2]).all()
    assert qualities[2].float().mean() > qualities[0].float().mean()


def test_jpeg_over_a_tiny_budget_uses_quality_1_and_reports_real_bytes() -> None:
    decoded, used, quality = jpeg_at_budget(smooth_images(2), 10)
    assert (quality == 1).all() and (used > 10).all()


def test_jpeg_rgb_and_curve() -> None:
    imgs = smooth_images(3, c=3, size=32)
    decoded, used, _ = jpeg_at_budget(imgs, 900)
    assert decoded.shape == imgs.shape
    rows = jpeg_curve(imgs, [500, 900])
    assert [r.budget for r in rows] == [500, 900]
    assert rows[1].psnr > rows[0].psnr and rows[1].bytes >= rows[0].bytes
    assert rows[0].raw_bytes == 3 * 32 * 32
    assert rows[0].ratio == pytest.approx(3 * 32 * 32 / rows[0].bytes)
    assert 0 < rows[0].ssim <= 1


def test_jpeg_rejects_float_images() -> None:
    with pytest.raises(ValueError, match="uint8"):
        jpeg_at_budget(torch.rand(1, 1, 8, 8), 100)


# ---- quantized codes -----------------------------------------------------------------------


def test_latent_bytes_and_quantize() -> None:
    assert latent_bytes(196) == 196
    assert latent_bytes(196, bits=4) == 98
    assert latent_bytes(3, bits=3) == 2  # 9 bits round up to 2 bytes
    z = torch.randn(4, 4, 7, 7)
    q = quantize_latent(z, bits=8)
    step = float(z.max() - z.min()) / 255
    assert (q - z).abs().max() <= step / 2 + 1e-6
    assert len(q.unique()) <= 256
    assert len(quantize_latent(z, bits=2).unique()) <= 4
    assert torch.equal(quantize_latent(torch.ones(3)), torch.ones(3))
    with pytest.raises(ValueError, match="bits"):
        quantize_latent(z, bits=0)
    with pytest.raises(ValueError, match="latent_size"):
        latent_bytes(0)


# ---- classic denoisers ---------------------------------------------------------------------


def median_reference(img: np.ndarray, k: int) -> np.ndarray:
    """Loop reference: per channel, np.median of each reflect-padded k x k window."""
    r = k // 2
    out = np.empty_like(img)
    for c in range(img.shape[0]):
        p = np.pad(img[c], r, mode="reflect")
        for i in range(img.shape[1]):
            for j in range(img.shape[2]):
                out[c, i, j] = np.median(p[i : i + k, j : j + k])
    return out


@pytest.mark.parametrize("k", [3, 5])
def test_median_filter_matches_numpy_loop(k: int) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 9, 11, generator=g, dtype=torch.float64)
    out = median_filter(x, k, chunk=4)  # chunks of 4 channel-images across samples
    assert out.shape == x.shape
    for b in range(2):
        np.testing.assert_allclose(out[b].double().numpy(), median_reference(x[b].numpy(), k))


def test_median_filter_removes_salt_and_pepper() -> None:
    from cnnlab.data.noise import salt_pepper

    clean = to_unit(smooth_images(4))
    noisy = salt_pepper(clean, 0.1, torch.Generator().manual_seed(0))
    assert psnr(median_filter(noisy, 3), clean) > psnr(noisy, clean) + 5
    with pytest.raises(ValueError, match="k must be an odd"):
        median_filter(clean, 4)


def test_gaussian_blur_matches_a_separable_reference() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 1, 16, 16, generator=g)
    sigma = 1.0
    out = gaussian_blur(x, sigma)
    k = 7  # 2 * ceil(3 sigma) + 1
    t = torch.arange(k, dtype=torch.float32) - k // 2
    w = torch.exp(-(t**2) / (2 * sigma**2))
    w = w / w.sum()
    p = F.pad(x, (3, 3, 3, 3), mode="reflect")
    ref = F.conv2d(p, (w[:, None] * w[None, :]).view(1, 1, k, k))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert gaussian_blur(torch.rand(1, 1, 5, 5), 3.0).shape == (1, 1, 5, 5)  # kernel capped
    with pytest.raises(ValueError, match="sigma"):
        gaussian_blur(x, 0)
