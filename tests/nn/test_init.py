"""Weight-initialization schemes: the symmetry problem, the scales, the spec syntax."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.errors import ConfigError
from cnnlab.models import MODELS, create_model
from cnnlab.nn.init import INITS, TRUNCATED_STD_FACTOR, init_weights, parse_init
from cnnlab.tasks.classify import TrainConfig

SCHEMES = INITS.names()


def mlp() -> nn.Module:
    return create_model("mlp", 1, 10, (28, 28), hidden=[32, 16], dropout=0.0)


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("scheme", ["zeros", "ones"])
def test_constant_inits_are_symmetric_and_stay_symmetric(scheme: str):
    torch.manual_seed(0)
    model = mlp()
    init_weights(model, scheme)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    before = [p.clone() for p in model.parameters()]
    for _ in range(2):  # before and after a training step
        for layer in linears(model)[:-1]:  # hidden layers: every unit has the same weights
            w = layer.weight
            assert torch.equal(w, w[:1].expand_as(w)), f"{scheme}: rows differ"
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    # the steps did change the model, yet the rows stayed equal
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_random_init_breaks_the_symmetry():
    torch.manual_seed(0)
    model = mlp()
    init_weights(model, "normal-rule")
    w = linears(model)[0].weight
    assert not torch.allclose(w[0], w[1])


def big() -> nn.Linear:
    torch.manual_seed(0)
    return nn.Linear(1000, 800)


@pytest.mark.parametrize(
    "scheme, std",
    [
        ("uniform-rule", 1 / math.sqrt(1000) / math.sqrt(3)),  # uniform(-b, b) has std b/sqrt(3)
        ("normal-rule", 1 / math.sqrt(1000)),
        ("truncated-normal", TRUNCATED_STD_FACTOR / math.sqrt(1000)),
        ("xavier-uniform", math.sqrt(2 / 1800)),
        ("xavier-normal", math.sqrt(2 / 1800)),
        ("kaiming-uniform", math.sqrt(2 / 1000)),
        ("kaiming-normal", math.sqrt(2 / 1000)),
        ("normal:std=0.3", 0.3),
        ("uniform", 1 / math.sqrt(12)),
        ("uniform:low=-2,high=2", 4 / math.sqrt(12)),
    ],
)
def test_each_rule_has_its_formula_std(scheme: str, std: float):
    layer = big()
    init_weights(layer, scheme)
    assert abs(layer.weight.std().item() / std - 1) < 0.05
    assert torch.count_nonzero(layer.bias) == 0


def test_truncated_normal_factor_and_cut():
    assert TRUNCATED_STD_FACTOR == pytest.approx(0.8796, abs=1e-4)
    layer = big()
    init_weights(layer, "truncated-normal:std=0.1")
    assert layer.weight.abs().max() <= 0.2
    assert layer.weight.abs().max() > 0.19  # the cut is at 2 std, not narrower


def test_uniform_default_range_and_constants():
    layer = big()
    init_weights(layer, "uniform")
    assert 0 <= layer.weight.min() and layer.weight.max() < 1
    init_weights(layer, "ones")
    assert torch.equal(layer.weight, torch.ones_like(layer.weight))


def test_default_resets_to_pytorch_init():
    layer = big()
    init_weights(layer, "zeros")
    init_weights(layer, "default")
    bound = 1 / math.sqrt(1000)  # torch's kaiming_uniform(a=sqrt(5)) bound for fan-in 1000
    assert layer.weight.abs().max() <= bound and layer.weight.std() > 0.5 * bound / math.sqrt(3)
    assert torch.count_nonzero(layer.bias) > 0


@pytest.mark.parametrize("name", MODELS.names())
def test_every_scheme_reaches_every_model_layer(name: str):
    model = create_model(name, 1, 10, (28, 28))
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert init_weights(model, "ones") == len(layers)
    assert all(bool((m.weight == 1).all()) for m in layers)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(bool((m.weight == 1).all()) for m in norms)  # norm layers keep their own init


@pytest.mark.parametrize(
    "spec, message",
    [
        ("he", "unknown init scheme 'he'; choose one of: zeros"),
        ("normal:sd=1", "bad setting 'sd=1'; its settings: mean, std"),
        ("normal:std", "bad setting 'std'"),
        ("zeros:std=1", "it takes no settings"),
        ("normal:std=abc", "std must be a number, got 'abc'"),
    ],
)
def test_bad_specs(spec: str, message: str):
    with pytest.raises(ConfigError, match=message):
        parse_init(spec)


def test_bad_setting_values_are_value_errors():
    with pytest.raises(ValueError, match="std > 0"):
        init_weights(big(), "normal:std=0")
    with pytest.raises(ValueError, match="high > low"):
        init_weights(big(), "uniform:low=1,high=0")


def test_train_with_init(tiny_data, tmp_path):
    from cnnlab import train

    r = train(data=tiny_data, model="mlp", init="zeros", epochs=1, runs_dir=tmp_path,
              progress=False)  # fmt: skip
    w = linears(r.model)[0].weight
    assert torch.equal(w, w[:1].expand_as(w))  # trained from zeros: still symmetric


def test_train_config_checks_the_init_early():
    assert parse_init("Kaiming-normal".lower()) == ("kaiming-normal", {})
    with pytest.raises(ConfigError, match="unknown init scheme"):
        TrainConfig(init="glorot")
    assert len(SCHEMES) == 12
