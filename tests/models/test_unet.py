"""U-Net / FCN: shapes for 2-D, 3-D and odd sizes, gradients, bad options, and a tiny run
that beats predicting background everywhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.data.datasets import load_embedded
from cnnlab.data.images import from_arrays
from cnnlab.data.scenes import SCENE_CLASSES, fashion_scenes
from cnnlab.models import SEGMENTERS
from cnnlab.models.unet import FCN, FCNConfig, UNet, UNetConfig
from cnnlab.tasks.segment.metrics import dice_ce_loss, seg_metrics


def build(name: str, in_ch: int, classes: int, size: tuple[int, ...], **kw) -> torch.nn.Module:
    cfg = SEGMENTERS.get(name).config(**kw)
    return SEGMENTERS.build(name, in_ch, classes, size, cfg)


SHAPES = [
    # name, dims, input spatial size, depth, norm, up
    ("unet", 2, (32, 32), 3, "batch", "transpose"),
    ("unet", 2, (37, 45), 3, "group", "upsample"),
    ("unet", 2, (1, 7), 2, "group", "transpose"),
    ("fcn", 2, (37, 45), 3, "batch", "upsample"),
    ("fcn", 2, (16, 16), 1, "group", "transpose"),
    ("unet", 3, (16, 16, 16), 2, "group", "transpose"),
    ("unet", 3, (20, 23, 17), 2, "batch", "upsample"),
    ("fcn", 3, (20, 23, 17), 3, "group", "transpose"),
]


@pytest.mark.parametrize(("name", "dims", "size"), [
    ("unet", 2, (64, 64)), ("unet", 2, (37, 45)), ("fcn", 2, (20, 9)), ("unet", 3, (12, 17, 9)),
])  # fmt: skip
def test_stem_2_keeps_the_input_size(name, dims, size):
    """stem 2: every level at half size, the logits back at the input's size (odd sizes too)."""
    model = build(name, 2, 5, size, spatial_dims=dims, depth=2, base_width=4, stem=2).eval()
    out = model(torch.randn(2, 2, *size))
    assert out.shape == (2, 5, *size)
    first_conv = model.down[0][0][0]
    assert first_conv.stride == (2,) * dims
    # the U-Net's last conv sees the input beside the upsampled features; the FCN's does not
    assert model.out_conv[0].in_channels == 2 + (2 if name == "unet" else 0)


def test_stem_2_costs_a_fraction_of_stem_1():
    """Most of a U-Net's multiply-adds are at full size: stem 2 does under a third of them."""

    def macs(model: torch.nn.Module) -> int:
        total = 0

        def hook(m, _inp, out):
            nonlocal total
            k = m.weight[0].numel() if isinstance(m, torch.nn.Conv2d) else m.weight[:, 0].numel()
            total += out.numel() * k

        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
                m.register_forward_hook(hook)
        model.eval()(torch.zeros(1, 1, 64, 64))
        return total

    full, half = build("unet", 1, 11, (64, 64)), build("unet", 1, 11, (64, 64), stem=2)
    assert macs(half) < macs(full) / 3


def test_widths_set_every_level():
    model = build("unet", 1, 3, (32, 32), depth=2, widths=(8, 24, 40))
    assert [b[0][0].out_channels for b in model.down] == [8, 24]
    assert model.bottleneck[0][0].out_channels == 40
    assert model.head.in_channels == 8
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize(("name", "dims", "size", "depth", "norm", "up"), SHAPES)
def test_shape_table(name, dims, size, depth, norm, up):
    model = build(name, 2, 5, size, spatial_dims=dims, depth=depth, norm=norm, up=up, base_width=4)
    model.eval()
    out = model(torch.randn(2, 2, *size))
    assert out.shape == (2, 5, *size)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["unet", "fcn"])
@pytest.mark.parametrize("up", ["transpose", "upsample"])
@pytest.mark.parametrize("stem", [1, 2])
def test_every_parameter_gets_a_gradient(name, up, stem):
    model = build(name, 1, 3, (19, 22), depth=2, base_width=4, up=up, stem=stem)
    logits = model(torch.randn(3, 1, 19, 22))
    dice_ce_loss(logits, torch.randint(0, 3, (3, 19, 22))).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


def test_default_width_and_registry():
    assert SEGMENTERS.names() == ["unet", "fcn"]
    u2 = build("unet", 1, 2, (32, 32))
    u3 = build("unet", 1, 2, (16, 16, 16), spatial_dims=3)
    assert u2.head.in_channels == 16 and u3.head.in_channels == 8
    assert isinstance(build("fcn", 1, 2, (32, 32)), FCN)


def test_fcn_has_no_skips_and_fewer_parameters():
    u = UNet(1, 3, (32, 32), UNetConfig(depth=2, base_width=8))
    f = FCN(1, 3, (32, 32), FCNConfig(depth=2, base_width=8))
    # the decoder convs of the U-Net take twice the channels: the concatenated skip
    assert u.up_convs[0][0][0].in_channels == 2 * f.up_convs[0][0][0].in_channels
    assert sum(p.numel() for p in f.parameters()) < sum(p.numel() for p in u.parameters())


def test_padding_is_cropped_back_exactly():
    """An odd-size input gives the same logits as its zero-padded version, cropped."""
    torch.manual_seed(0)
    model = UNet(1, 2, (13, 10), UNetConfig(depth=2, base_width=4, norm="group")).double()
    model.eval()
    x = torch.randn(1, 1, 13, 10, dtype=torch.float64)
    padded = torch.nn.functional.pad(x, (0, 2, 0, 3))  # to 16 x 12
    assert torch.allclose(model(x), model(padded)[..., :13, :10])


@pytest.mark.parametrize(
    ("kw", "size", "word"),
    [
        ({"spatial_dims": 3}, (32, 32), "spatial_dims"),
        ({"spatial_dims": 1}, (32,), "spatial_dims"),
        ({}, (8, 8, 8), "spatial_dims"),
        ({"depth": 0}, (32, 32), "depth"),
        ({"base_width": 0}, (32, 32), "base_width"),
        ({"norm": "layer"}, (32, 32), "norm"),
        ({"up": "pixelshuffle"}, (32, 32), "up"),
        ({"stem": 4}, (32, 32), "stem"),
        ({"widths": (8, 16)}, (32, 32), "widths"),
        ({"depth": 1, "widths": (8, 0)}, (32, 32), "widths"),
    ],
)
def test_bad_options_name_the_argument(kw, size, word):
    with pytest.raises(ValueError, match=word):
        build("unet", 1, 2, size, **kw)


def test_tiny_run_beats_background():
    """40 Adam steps of a small U-Net on 64 32x32 scenes: test mIoU above all-background."""
    torch.manual_seed(0)
    a = load_embedded()
    items = from_arrays("fashion-mnist", [str(i) for i in range(10)], a, val_fraction=0.1)
    data = fashion_scenes(64, 1, 32, size=32, max_items=2, seed=1, items=items)
    model = UNet(1, len(SCENE_CLASSES), (32, 32), UNetConfig(depth=2, base_width=8))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = data.train_x.float() / 255
    gen = np.random.default_rng(0)
    for _ in range(40):
        idx = torch.from_numpy(gen.choice(64, size=16, replace=False))
        loss = dice_ce_loss(model(x[idx]), data.train_y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(data.test_x.float() / 255).argmax(1)
    ours = seg_metrics(pred, data.test_y, len(SCENE_CLASSES))
    background = seg_metrics(torch.zeros_like(data.test_y), data.test_y, len(SCENE_CLASSES))
    assert ours.miou > background.miou + 0.05, (ours.miou, background.miou)
    assert ours.iou[0] > 0.8  # the background is found (0.90 measured)


def test_registered_for_the_segment_task():
    from cnnlab.models import create_task_model, task_models

    assert task_models("segment") is SEGMENTERS
    model = create_task_model("segment", "fcn", 1, 5, (12, 10, 9), spatial_dims=3, depth=2)
    assert model.eval()(torch.zeros(1, 1, 12, 10, 9)).shape == (1, 5, 12, 10, 9)
