"""Model contract tests, parametrized over the registry: a new model is tested without a new
test. Plus the configurable families (vgg, resnet) and the failures of bad configs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.core.registry import Registry
from cnnlab.models import MODELS, Classifier, count_parameters, create_model, list_models
from cnnlab.nn import ResidualBlock

NAMES = MODELS.names()
SHAPES = [(1, 28, 28), (3, 32, 32)]


def test_registry_has_the_issue_models():
    assert set(NAMES) >= {"mlp", "cnn-small", "cnn-bn", "vgg", "resnet"}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", NAMES)
def test_output_shape_finite_and_head_split(name: str, shape):
    torch.manual_seed(0)
    c, h, w = shape
    model = create_model(name, c, 7, (h, w))
    assert isinstance(model, Classifier) and isinstance(model.head, nn.Linear)
    assert model.head.out_features == 7
    x = torch.randn(3, c, h, w)
    model.eval()
    with torch.no_grad():
        out = model(x)
        feats = model.forward_features(x)
        split = model.forward_head(feats)
    assert out.shape == (3, 7)
    assert feats.ndim == 2 and feats.shape == (3, model.head.in_features)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, split, rtol=0, atol=0)
    assert not torch.allclose(out[0], out[1])  # the output depends on the input


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_gets_a_gradient(name: str):
    torch.manual_seed(0)
    model = create_model(name, 3, 5, (16, 16)).train()
    x = torch.randn(4, 3, 16, 16)
    loss = nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: {pname} has no gradient"
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"{name}: {pname} has an all-zero gradient"


@pytest.mark.parametrize("name", NAMES)
def test_no_output_on_construction(name: str, capsys):
    create_model(name, 1, 10, (28, 28))
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_vgg_builds_from_a_list():
    model = create_model("vgg", 1, 10, (28, 28), layers=[16, "M", 32, "M"], hidden=64)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    pools = [m for m in model.modules() if isinstance(m, nn.MaxPool2d)]
    assert [c.out_channels for c in convs] == [16, 32]
    assert len(pools) == 2
    # 28 -> 14 -> 7: the dense layer sees 32 * 7 * 7 features
    first_dense = next(m for m in model.dense if isinstance(m, nn.Linear))
    assert first_dense.in_features == 32 * 7 * 7
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    no_bn = create_model("vgg", 1, 10, (28, 28), layers=[16, "M"], batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in no_bn.modules())


def test_resnet_depth_and_width():
    small = create_model("resnet", 1, 10, (28, 28), depths=[1, 1], width=8)
    deep = create_model("resnet", 1, 10, (28, 28), depths=[2, 2], width=8)
    wide = create_model("resnet", 1, 10, (28, 28), depths=[1, 1], width=16)
    n_small, n_deep, n_wide = map(count_parameters, (small, deep, wide))
    assert n_small < n_deep and n_small < n_wide
    assert sum(isinstance(m, ResidualBlock) for m in deep.modules()) == 4
    assert sum(isinstance(m, ResidualBlock) for m in small.modules()) == 2
    assert small.head.in_features == 16 and wide.head.in_features == 32  # width * 2**(stages-1)
    # the second block of a stage adds exactly two 3x3 conv-BN layers of width 16
    per_block = 2 * (16 * 16 * 9 + 2 * 16)
    assert n_deep - n_small == per_block + 2 * (8 * 8 * 9 + 2 * 8)


def test_mlp_parameter_count_by_hand():
    model = create_model("mlp", 1, 10, (28, 28), hidden=[32])
    assert count_parameters(model) == 784 * 32 + 32 + 32 * 10 + 10


def test_cnn_bn_per_stage_convs_and_pool_before_norm():
    kw = {"stem": 8, "widths": [8, 16, 32], "convs_per_stage": [2, 2, 1], "pool": "flatten"}
    plain = create_model("cnn-bn", 1, 10, (28, 28), **kw)
    early = create_model("cnn-bn", 1, 10, (28, 28), pool_before_norm=True, **kw)
    convs = [m for m in plain.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 8, 8, 16, 16, 32]
    # the same layers, reordered: equal parameter counts, same output and feature shapes
    assert count_parameters(plain) == count_parameters(early)
    x = torch.randn(3, 1, 28, 28)
    assert early.forward_features(x).shape == plain.forward_features(x).shape == (3, 32 * 3 * 3)
    # in eval mode with positive BN scales, max-pool commutes with BN and ReLU: same function
    for bn in (b for b in plain.modules() if isinstance(b, torch.nn.BatchNorm2d)):
        torch.nn.init.uniform_(bn.weight, 0.5, 2.0)
        torch.nn.init.normal_(bn.bias)
    values = list(plain.state_dict().values())  # same tensors in the same order, other keys
    early.load_state_dict(dict(zip(early.state_dict(), values, strict=True)))
    plain.eval(), early.eval()
    torch.testing.assert_close(early(x), plain(x))


def test_list_models_counts():
    rows = list_models(3, 4, (32, 32))
    assert [r["name"] for r in rows] == NAMES
    for r in rows:
        assert r["parameters"] == count_parameters(create_model(r["name"], 3, 4, (32, 32)))
        assert r["help"]


@pytest.mark.parametrize(
    "name, config, size, argument",
    [
        ("mlp", {"hidden": [0]}, 28, "hidden size"),
        ("mlp", {"dropout": 1.5}, 28, "dropout"),
        ("cnn-small", {}, 3, "input_size"),
        ("cnn-bn", {"widths": [16, 0]}, 28, "width"),
        ("cnn-bn", {"convs_per_stage": 0}, 28, "convs_per_stage"),
        ("cnn-bn", {"convs_per_stage": [1, 2]}, 28, "one per stage"),
        ("vgg", {"layers": [16, "X"]}, 28, "vgg layers"),
        ("vgg", {"layers": [8, "M", "M", "M", "M", "M"]}, 28, "fewer 'M'"),
        ("resnet", {"width": 0}, 28, "width"),
        ("resnet", {"depths": [1, 0]}, 28, "depth"),
    ],
)
def test_bad_config_is_a_value_error_naming_the_argument(name, config, size, argument):
    with pytest.raises(ValueError, match=argument):
        create_model(name, 1, 10, (size, size), **config)


@pytest.mark.parametrize("name", NAMES)
def test_zero_classes_is_a_value_error(name: str):
    with pytest.raises(ValueError, match="num_classes"):
        create_model(name, 1, 0, (28, 28))


def test_unknown_model():
    with pytest.raises(ModelError) as info:
        create_model("alexnet")
    assert str(info.value) == ("unknown model 'alexnet'; choose one of: " + ", ".join(NAMES))


def test_unknown_model_option():
    with pytest.raises(ModelError, match=r"model 'mlp' has no option 'widths'; its options: hid"):
        create_model("mlp", widths=[3])


def test_registry_rejects_duplicates():
    reg = Registry("thing")
    reg.register("a")(lambda: 1)
    with pytest.raises(ValueError, match="thing 'a' is registered twice"):
        reg.register("a")(lambda: 2)
    assert reg.build("a") == 1 and "a" in reg and reg.names() == ["a"]


def test_flatten_matches_nn_flatten_and_keeps_channels_last_gradients():
    from cnnlab.nn import Flatten

    torch.manual_seed(0)
    x = torch.randn(4, 8, 3, 3).contiguous(memory_format=torch.channels_last)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    w = torch.randn(72)
    ours, ref = Flatten()(torch.relu(a)), nn.Flatten()(torch.relu(b))
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)  # same order: NCHW
    (ours @ w).sum().backward()
    (ref @ w).sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=0)
    # the point of it: the gradient reaching the layers below is channels-last
    seen, CL = {}, torch.channels_last
    y = torch.relu(x.clone().requires_grad_())
    y.register_hook(lambda g: seen.update(ours=g.is_contiguous(memory_format=CL)))
    (Flatten()(y) @ w).sum().backward()
    y = torch.relu(x.clone().requires_grad_())
    y.register_hook(lambda g: seen.update(nn=g.is_contiguous(memory_format=CL)))
    (nn.Flatten()(y) @ w).sum().backward()
    assert seen == {"ours": True, "nn": False}


@pytest.mark.parametrize("name", ["cnn-small", "cnn-bn", "vgg"])
def test_channels_last_training_step_matches_the_default_format(name: str):
    """Both layouts give the gradients of a float64 reference step. Compared with the
    reference, not with each other: on an AMD EPYC without AVX-512 at one thread (2026-11-30)
    the default layout's gradients of vgg's first five convs were 0.3 % off float64 (channels
    last: 2e-6); a wrong layout is off by the gradient's own size."""
    torch.manual_seed(0)
    kw = {"pool": "flatten"} if name == "cnn-bn" else {}
    model = create_model(name, 1, 10, (28, 28), **kw).train()
    twin = create_model(name, 1, 10, (28, 28), **kw).train()
    twin.load_state_dict(model.state_dict())
    twin = twin.to(memory_format=torch.channels_last)
    ref = create_model(name, 1, 10, (28, 28), **kw).train()
    ref.load_state_dict(model.state_dict())
    ref = ref.double()
    x, y = torch.randn(8, 1, 28, 28), torch.arange(8)
    runs = ((model, x), (twin, x.contiguous(memory_format=torch.channels_last)), (ref, x.double()))
    for m, inp in runs:
        torch.manual_seed(1)  # the same dropout masks
        nn.functional.cross_entropy(m(inp), y).backward()
    for (pname, p), q, r in zip(model.named_parameters(), twin.parameters(), ref.parameters(),
                                strict=True):  # fmt: skip
        for what, g in (("default", p.grad), ("channels-last", q.grad)):
            err = float((g.double() - r.grad).norm() / r.grad.norm().clamp_min(1e-12))
            assert err < 1e-2, (pname, what, err)
