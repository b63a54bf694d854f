"""Autoencoder models (shapes, range, gradients, VAE), noise, and a short training that must
beat the mean-image baseline."""

from __future__ import annotations

import pytest
import torch

from cnnlab.core.errors import ModelError
from cnnlab.data.noise import Noise, gaussian_noise, parse_noise, salt_pepper
from cnnlab.models import AUTOENCODERS, create_autoencoder
from cnnlab.models.autoencoder import ConvVAE
from cnnlab.tasks.autoencode.metrics import (
    mean_image_baseline,
    mse,
    recon_loss,
    reconstruct,
    to_unit,
)

NAMES = AUTOENCODERS.names()
SHAPES = [(2, 1, 28, 28), (2, 1, 27, 31), (2, 3, 32, 32)]


def test_registry_holds_the_four_models() -> None:
    assert NAMES == ["ae-linear", "ae-conv", "ae-conv-upsample", "vae-conv"]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[1:])))
@pytest.mark.parametrize("name", NAMES)
def test_round_trip_shape_range_and_gradients(name: str, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    b, c, h, w = shape
    model = create_autoencoder(name, c, (h, w))
    x = torch.rand(shape)
    out = model(x)
    assert out.shape == x.shape
    assert out.min() >= 0 and out.max() <= 1
    z = model.encode(x)
    assert tuple(z.shape) == (b, *model.latent_shape)
    assert model.latent_size == z[0].numel()
    assert model.decode(z).shape == x.shape
    loss = recon_loss(out, x) + (model.kl if isinstance(model, ConvVAE) else 0)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_course_config_has_a_7x7x4_bottleneck() -> None:
    model = create_autoencoder("ae-conv", widths=(16, 8), latent_channels=4)
    assert model.latent_shape == (4, 7, 7)
    assert model.latent_size == 196 == 784 // 4
    assert create_autoencoder("ae-conv").latent_shape == (4, 7, 7)  # the default


def test_padding_for_sizes_not_divisible() -> None:
    model = create_autoencoder("ae-conv", input_size=(28, 28), widths=(8, 8, 8))
    assert model.latent_shape == (4, 4, 4)  # 28 padded to 32, three pools
    assert model(torch.rand(1, 1, 28, 28)).shape == (1, 1, 28, 28)


def test_upsample_modes_and_decoders_differ() -> None:
    near = create_autoencoder("ae-conv-upsample", upsample="nearest")
    bil = create_autoencoder("ae-conv-upsample", upsample="bilinear")
    modes = {
        m.mode for net in (near, bil) for m in net.modules() if isinstance(m, torch.nn.Upsample)
    }
    assert modes == {"nearest", "bilinear"}
    conv = create_autoencoder("ae-conv")
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in conv.modules())
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in near.modules())


def test_vae_kl_and_samples() -> None:
    torch.manual_seed(0)
    vae = create_autoencoder("vae-conv", latent=8)
    x = torch.rand(4, 1, 28, 28)
    vae.train()
    vae(x)
    assert vae.kl.ndim == 0 and torch.isfinite(vae.kl) and vae.kl >= 0
    # eval mode decodes the mean: deterministic, and encode returns mu
    vae.eval()
    assert torch.equal(vae(x), vae(x))
    assert torch.equal(vae.decode(vae.encode(x)), vae(x))
    s1 = vae.sample(5, generator=torch.Generator().manual_seed(1))
    s2 = vae.sample(5, generator=torch.Generator().manual_seed(1))
    assert s1.shape == (5, 1, 28, 28) and torch.equal(s1, s2)
    assert s1.min() >= 0 and s1.max() <= 1


def test_vae_kl_matches_closed_form() -> None:
    torch.manual_seed(0)
    vae = create_autoencoder("vae-conv", latent=4).double().eval()
    x = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    vae(x)
    mu, logvar = vae.encode_stats(x)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(1).mean()
    torch.testing.assert_close(vae.kl, expected)


@pytest.mark.parametrize(
    ("name", "kw", "arg"),
    [
        ("ae-conv", {"widths": ()}, "widths"),
        ("ae-conv", {"widths": (16, 0)}, "widths"),
        ("ae-conv", {"latent_channels": 0}, "latent_channels"),
        ("ae-conv-upsample", {"upsample": "cubic"}, "upsample"),
        ("vae-conv", {"upsample": "bicubic"}, "upsample"),
        ("vae-conv", {"latent": 0}, "latent"),
        ("ae-linear", {"latent": -1}, "latent"),
    ],
)
def test_bad_hyper_parameters_name_the_argument(name: str, kw: dict, arg: str) -> None:
    with pytest.raises(ValueError, match=arg):
        create_autoencoder(name, **kw)


def test_unknown_option_and_wrong_size_are_model_errors() -> None:
    with pytest.raises(ModelError, match="no option 'latent'"):
        create_autoencoder("ae-conv", latent=3)
    with pytest.raises(ModelError, match="unknown autoencoder model"):
        create_autoencoder("ae-nope")
    with pytest.raises(ModelError, match="built for 1x28x28"):
        create_autoencoder("ae-linear")(torch.rand(1, 1, 32, 32))


# ---- noise ---------------------------------------------------------------------------------


def test_gaussian_noise_std_and_clipping() -> None:
    x = torch.full((64, 1, 32, 32), 0.5)
    y = gaussian_noise(x, 0.1, torch.Generator().manual_seed(0))
    assert abs(float((y - x).std()) - 0.1) < 0.005  # mid-grey: 0.1 std is never clipped
    y = gaussian_noise(x, 1.0, torch.Generator().manual_seed(0))
    assert y.min() == 0 and y.max() == 1


def test_salt_pepper_fraction_and_values() -> None:
    x = torch.full((32, 3, 32, 32), 0.5)
    y = salt_pepper(x, 0.2, torch.Generator().manual_seed(0))
    changed = (y != x).any(1)  # (B, H, W): pixel positions hit
    assert abs(float(changed.float().mean()) - 0.2) < 0.01
    hit = y.permute(1, 0, 2, 3)[:, changed]  # (C, hits): all channels of a hit alike
    assert set(hit.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(hit[0], hit[1])
    assert abs(float((hit[0] == 0).float().mean()) - 0.5) < 0.05


def test_noise_is_deterministic_per_seed_and_differs_per_sample() -> None:
    x = torch.full((2, 1, 8, 8), 0.5)
    for fn in (lambda g: gaussian_noise(x, 0.3, g), lambda g: salt_pepper(x, 0.5, g)):
        a, b = fn(torch.Generator().manual_seed(3)), fn(torch.Generator().manual_seed(3))
        assert torch.equal(a, b)
        assert not torch.equal(a[0], a[1])
        assert not torch.equal(a, fn(torch.Generator().manual_seed(4)))


def test_parse_noise() -> None:
    assert parse_noise("0.5") == Noise("gaussian", 0.5)
    assert parse_noise("gaussian:0.25") == Noise("gaussian", 0.25)
    assert parse_noise("salt-pepper:0.1") == Noise("salt-pepper", 0.1)
    assert parse_noise("salt_pepper:0.1") == Noise("salt-pepper", 0.1)
    assert str(parse_noise("salt-pepper:0.1")) == "salt-pepper:0.1"
    x = torch.rand(2, 1, 4, 4)
    assert parse_noise("none")(x) is x
    g = torch.Generator().manual_seed(0)
    assert torch.equal(
        parse_noise("0.5")(x, g), gaussian_noise(x, 0.5, torch.Generator().manual_seed(0))
    )


@pytest.mark.parametrize("spec", ["speckle:0.1", "gaussian:", "abc", "0.1:0.2:x", "gaussian:x"])
def test_parse_noise_errors_list_the_forms(spec: str) -> None:
    with pytest.raises(ValueError, match="use SIGMA, gaussian:SIGMA, salt-pepper:AMOUNT"):
        parse_noise(spec)


def test_noise_levels_out_of_range() -> None:
    with pytest.raises(ValueError, match="sigma"):
        parse_noise("-0.5")
    with pytest.raises(ValueError, match="amount"):
        parse_noise("salt-pepper:1.5")


# ---- a short training ----------------------------------------------------------------------


def test_short_training_beats_the_mean_image(fashion_small) -> None:  # noqa: ANN001
    torch.manual_seed(0)
    train = to_unit(fashion_small.train_x[:256])
    test = fashion_small.test_x[:256]
    baseline = mean_image_baseline(train, test)
    model = create_autoencoder("ae-conv")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(30):
        x = train[torch.randint(0, len(train), (32,), generator=gen)]
        loss = recon_loss(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    fed, out = reconstruct(model, test, batch_size=100)
    assert torch.equal(fed, to_unit(test))
    assert mse(out, test) < 0.75 * baseline["mse"]
