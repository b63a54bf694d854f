"""Registered weight-initialization schemes, applied with `model.apply` (lecture: weight init).

A scheme sets the weights of every convolution (1-D, 2-D, 3-D, transposed) and linear layer and
sets their biases to zero, as the course notebooks do; normalization layers keep PyTorch's
weight 1 / bias 0. `default` re-runs PyTorch's own initialization instead. A spec is a name
with optional settings: "normal", "normal:std=0.1", "uniform:low=-0.5,high=0.5".
"""

from __future__ import annotations

import inspect
import math

import torch
from torch import nn

from cnnlab.core.errors import ConfigError
from cnnlab.core.registry import Registry

INITS = Registry("init scheme", ConfigError)
LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
          nn.ConvTranspose3d)  # fmt: skip
TRUNCATION = 2.0  # truncated normals are cut at this many standard deviations
# std of a standard normal cut at +-2: sqrt(1 - 2*2*phi(2) / (2*Phi(2) - 1)), phi/Phi of N(0, 1)
_PHI2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
TRUNCATED_STD_FACTOR = math.sqrt(1 - 2 * TRUNCATION * _PHI2 / math.erf(TRUNCATION / math.sqrt(2)))


def fan_in(w: torch.Tensor) -> int:
    """Inputs feeding one output unit: in_features, or in_channels/groups * kernel volume.

    Shapes: w is (out, in, *kernel); transposed convs are counted as torch.nn.init does.
    """
    return w.shape[1] * math.prod(w.shape[2:]) if w.dim() > 1 else w.shape[0]


def rule_std(w: torch.Tensor) -> float:
    """The lecture's "general rule" scale 1/sqrt(n), n = the layer's fan-in."""
    return 1.0 / math.sqrt(fan_in(w))


@INITS.register("zeros", help="all weights 0: every unit of a layer computes the same thing")
def zeros(w: torch.Tensor) -> None:
    nn.init.zeros_(w)


@INITS.register("ones", help="all weights 1: symmetric like zeros, and activations explode")
def ones(w: torch.Tensor) -> None:
    nn.init.ones_(w)


@INITS.register("uniform", help="uniform in [low, high), default [0, 1)")
def uniform(w: torch.Tensor, low: float = 0.0, high: float = 1.0) -> None:
    if not high > low:
        raise ValueError(f"uniform init needs high > low, got low={low}, high={high}")
    nn.init.uniform_(w, low, high)


@INITS.register("uniform-rule", help="uniform in [-1/sqrt(n), 1/sqrt(n)), n = fan-in")
def uniform_rule(w: torch.Tensor) -> None:
    bound = rule_std(w)
    nn.init.uniform_(w, -bound, bound)


@INITS.register("normal", help="normal(mean, std), default mean 0, std 1")
def normal(w: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> None:
    if not std > 0:
        raise ValueError(f"normal init needs std > 0, got std={std}")
    nn.init.normal_(w, mean, std)


@INITS.register("normal-rule", help="normal(0, 1/sqrt(n)), n = fan-in")
def normal_rule(w: torch.Tensor) -> None:
    nn.init.normal_(w, 0.0, rule_std(w))


@INITS.register(
    "truncated-normal", help="normal(0, std) cut at 2 std, default std 1/sqrt(n), n = fan-in"
)
def truncated_normal(w: torch.Tensor, std: float | None = None) -> None:
    # the samples' own std is TRUNCATED_STD_FACTOR (0.88) * std: the cut removes the tails
    s = rule_std(w) if std is None else std
    if not s > 0:
        raise ValueError(f"truncated-normal init needs std > 0, got std={s}")
    nn.init.trunc_normal_(w, 0.0, s, -TRUNCATION * s, TRUNCATION * s)


@INITS.register("xavier-uniform", help="Glorot: uniform, variance 2/(fan_in + fan_out)")
def xavier_uniform(w: torch.Tensor) -> None:
    nn.init.xavier_uniform_(w)


@INITS.register("xavier-normal", help="Glorot: normal, variance 2/(fan_in + fan_out)")
def xavier_normal(w: torch.Tensor) -> None:
    nn.init.xavier_normal_(w)


@INITS.register("kaiming-uniform", help="He: uniform, variance 2/fan_in (for ReLU)")
def kaiming_uniform(w: torch.Tensor) -> None:
    nn.init.kaiming_uniform_(w, nonlinearity="relu")


@INITS.register("kaiming-normal", help="He: normal, variance 2/fan_in (for ReLU)")
def kaiming_normal(w: torch.Tensor) -> None:
    nn.init.kaiming_normal_(w, nonlinearity="relu")


@INITS.register("default", help="PyTorch's own (kaiming-uniform with a=sqrt(5), uniform bias)")
def default(w: torch.Tensor) -> None:  # handled in init_weights: each layer resets itself
    raise AssertionError("default is applied by reset_parameters")


def parse_init(spec: str) -> tuple[str, dict[str, float]]:
    """'normal:std=0.1' -> ('normal', {'std': 0.1}); checks the name and the settings."""
    name, _, rest = spec.strip().partition(":")
    entry = INITS.get(name.strip())
    known = [p for p in inspect.signature(entry.factory).parameters if p != "w"]
    settings: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = (t.strip() for t in item.partition("="))
        if not eq or key not in known:
            hint = f"its settings: {', '.join(known)}" if known else "it takes no settings"
            raise ConfigError(f"init {spec!r}: bad setting {item!r}; {hint} (e.g. normal:std=0.1)")
        try:
            settings[key] = float(value)
        except ValueError:
            raise ConfigError(f"init {spec!r}: {key} must be a number, got {value!r}") from None
    return entry.name, settings


def init_weights(model: nn.Module, spec: str = "default") -> int:
    """Initialize every conv/linear layer of `model` in place by the scheme `spec`.

    Returns the number of layers set. Biases become 0 (except for `default`).
    """
    name, settings = parse_init(spec)
    scheme = INITS.get(name).factory
    count = 0

    def apply(m: nn.Module) -> None:
        nonlocal count
        if not isinstance(m, LAYERS):
            return
        count += 1
        if name == "default":
            m.reset_parameters()
            return
        with torch.no_grad():
            scheme(m.weight, **settings)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    model.apply(apply)
    return count
