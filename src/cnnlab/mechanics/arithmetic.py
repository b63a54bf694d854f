"""Layer arithmetic: output sizes, parameters, multiply-accumulates and receptive fields.

The receptive field (RF) of one output unit is the patch of the input it can see. Along each
spatial axis three numbers describe it, starting from size 1, jump 1, start 0 at the input and
updated layer by layer (kernel k, stride s, padding p, dilation d):

    k_eff     = d * (k - 1) + 1                       the span of a dilated kernel
    j_out     = j_in * s                              jump: input pixels between neighbours
    r_out     = r_in + (k_eff - 1) * j_in             size
    start_out = start_in + ((k_eff - 1) / 2 - p) * j_in   centre of the first output unit

Flatten, Linear and global pools see the whole input. `cnnlab.mechanics.measure` checks the
recurrence on real models from the gradient of one output unit with respect to the input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd

from cnnlab.core.errors import ModelError, first_line

WHOLE = "whole"  # the state of a unit that sees the entire input
_POINTWISE_MODULES = {
    "torch.nn.modules.activation",
    "torch.nn.modules.batchnorm",
    "torch.nn.modules.dropout",
    "torch.nn.modules.instancenorm",
    "torch.nn.modules.normalization",
    "torch.nn.modules.linear",  # Identity lives there; Linear is handled before
}
_MAX_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
_AVG_POOLS = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_LP_POOLS = (nn.LPPool1d, nn.LPPool2d, nn.LPPool3d)
_ADAPTIVE = (
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
)  # fmt: skip


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field along one axis, in input pixels: size, jump between neighbouring
    units, and start, the centre of the first unit (negative or fractional with padding)."""

    size: float = 1
    jump: float = 1
    start: float = 0.0

    def then(self, k: int, s: int = 1, p: int = 0, d: int = 1) -> ReceptiveField:
        """The field after one more layer with kernel k, stride s, padding p, dilation d."""
        k_eff = d * (k - 1) + 1
        return ReceptiveField(
            _num(self.size + (k_eff - 1) * self.jump),
            _num(self.jump * s),
            _num(self.start + ((k_eff - 1) / 2 - p) * self.jump),
        )


def receptive_field(layers: list[tuple[int, ...]]) -> list[ReceptiveField]:
    """The receptive field after each layer of a plain stack of (k, s, p, d) tuples
    (p and d may be left out: 0 and 1), e.g. [(3, 1, 1), (2, 2)] for conv3x3-pad1, pool2.

    Shapes: list of L tuples -> list of L fields (one axis).
    """
    rf, out = ReceptiveField(), []
    for i, layer in enumerate(layers):
        if not 2 <= len(layer) <= 4:
            raise ValueError(f"layers[{i}] must be (kernel, stride[, padding[, dilation]])")
        k, s, p, d = tuple(layer) + (0, 1)[len(layer) - 2 :]  # defaults p=0, d=1
        _check_geometry(k, s, p, d)
        rf = rf.then(k, s, p, d)
        out.append(rf)
    return out


@dataclass
class LayerRow:
    """One call of a leaf layer. rf_* hold one value per spatial axis (H, W for images);
    rf_whole marks units that see the entire input; rf_size None means unknown (a layer this
    module cannot reason about). dense_equivalent: weights of a dense layer with the same
    input and output sizes (conv layers only)."""

    name: str
    type: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    rf_size: tuple[float, ...] | None
    rf_jump: tuple[float, ...] | None
    rf_start: tuple[float, ...] | None
    rf_whole: bool = False
    dense_equivalent: int | None = None


@dataclass
class ModelSummary:
    """Per-layer arithmetic of one forward pass of a batch of 1."""

    input_shape: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    total_macs: int = 0

    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (JSON-ready)."""
        return [asdict(r) for r in self.rows]

    @property
    def first_conv(self) -> LayerRow | None:
        return next((r for r in self.rows if r.dense_equivalent is not None), None)


def summarize(model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28)) -> ModelSummary:
    """Output shape, parameters, MACs and receptive field of every leaf layer, in execution
    order, from one forward pass (eval mode, no grad) of a zero batch of 1 with forward hooks.

    MACs (multiply-accumulates per image): conv = output elements * C_in/groups * prod(k),
    transposed conv = input elements * C_out/groups * prod(k), linear = in * out per output
    row; every other layer counts 0 (pooling, activations and BatchNorm do no multiply-add
    with weights, and BN folds into the conv at inference). Receptive field rules: the
    recurrence in the module docstring per axis; Flatten, Linear and global pools see the
    whole input; a tensor made by an operation that is no module (the `+` of a residual
    block, a functional ReLU, torch.cat) gets the largest field among the tensors of the
    same spatial size made so far in the same block: for y = f(x) + shortcut(x) that is
    max(main path, shortcut). Layers that change the spatial size in ways not listed above
    give an unknown field (None). Normalisation statistics are ignored (BN in eval is
    pointwise). total_params counts every parameter of the model.
    Shapes: input_shape (C, *S) -> one row per leaf call.
    """
    if not input_shape or any(not isinstance(v, int) or v < 1 for v in input_shape):
        raise ValueError(f"input_shape must be positive ints like (1, 28, 28), got {input_shape}")
    x = probe_batch(model, input_shape, 0.0)
    tracer = _Tracer(model, x)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    except RuntimeError as exc:
        reason = first_line(exc, 200)
        raise ModelError(
            f"the model cannot run on a {'x'.join(map(str, input_shape))} input ({reason}); "
            "check the input shape"
        ) from None
    finally:
        tracer.remove()
        for m, mode in modes.items():
            m.training = mode
    return ModelSummary(
        input_shape=tuple(input_shape),
        rows=tracer.rows,
        total_params=sum(p.numel() for p in model.parameters()),
        total_macs=sum(r.macs for r in tracer.rows),
    )


_State = tuple[ReceptiveField, ...] | str | None  # per axis, WHOLE, or unknown


class _Tracer:
    """Forward hooks that follow each tensor's receptive field through the model.

    Tensors are known by identity; those made outside modules are resolved within the
    innermost enclosing module (its "frame": the tensors seen since it started).
    """

    def __init__(self, model: nn.Module, x: torch.Tensor) -> None:
        self.axes, self.extent = x.dim() - 2, tuple(x.shape[2:])
        self.states: dict[int, tuple[torch.Tensor, _State]] = {}
        self.frames: list[list[tuple[tuple[int, ...], _State]]] = []
        self.rows: list[LayerRow] = []
        self.calls: dict[nn.Module, int] = {}
        self._set(x, tuple(ReceptiveField() for _ in range(self.axes)))
        self.handles = []
        inside: list[str] = []  # layers counted whole: their children get no row of their own
        for name, m in model.named_modules():
            if any(name.startswith(f"{p}.") for p in inside):
                continue
            # a leaf, or a layer with weights of its own around children (timm's
            # BatchNormAct2d: a BatchNorm whose activation is a child) is one row
            own = bool(name) and next(m.parameters(recurse=False), None) is not None
            if next(m.children(), None) is None or own:
                if own:
                    inside.append(name)
                self.handles.append(m.register_forward_hook(self._leaf_hook(name or "model")))
            else:
                self.handles.append(m.register_forward_pre_hook(self._enter))
                self.handles.append(m.register_forward_hook(self._leave))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def _set(self, t: Any, state: _State) -> None:
        if isinstance(t, torch.Tensor):
            self.states[id(t)] = (t, state)  # keeping t alive keeps its id unique
            if self.frames:
                self.frames[-1].append((tuple(t.shape[2:]), state))

    def _get(self, t: torch.Tensor, frames: list[list[tuple[tuple[int, ...], _State]]]) -> _State:
        hit = self.states.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        if t.dim() <= 2:
            return WHOLE  # no spatial axes left
        shape = tuple(t.shape[2:])
        for frame in reversed(frames):  # innermost block first
            known = [s for sh, s in frame if sh == shape and s is not None]
            if WHOLE in known:
                return WHOLE
            if known:
                return max(known, key=lambda s: sum(rf.size for rf in s))  # type: ignore[union-attr]
        return None

    def _enter(self, module: nn.Module, inputs: tuple) -> None:
        self.frames.append([])
        for t in inputs:
            if isinstance(t, torch.Tensor):
                self.frames[-1].append((tuple(t.shape[2:]), self._get(t, self.frames[:-1])))

    def _leave(self, module: nn.Module, inputs: tuple, output: Any) -> None:
        y = first_tensor(output)
        state = self._get(y, self.frames) if y is not None else None
        self.frames.pop()
        self._set(y, state)

    def _leaf_hook(self, name: str) -> Any:
        def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
            x, y = first_tensor(inputs), first_tensor(output)
            if x is None or y is None:
                return
            state = _propagate(module, self._get(x, self.frames), x, y)
            n = self.calls.get(module, 0) + 1
            self.calls[module] = n
            params = sum(p.numel() for p in module.parameters()) if n == 1 else 0
            conv = isinstance(module, _ConvNd)
            whole = state == WHOLE
            rfs = state if isinstance(state, tuple) else None
            self.rows.append(
                LayerRow(
                    name=name if n == 1 else f"{name} (call {n})",
                    type=type(module).__name__,
                    input_shape=tuple(x.shape[1:]),
                    output_shape=tuple(y.shape[1:]),
                    params=params,
                    macs=_macs(module, x, y),
                    rf_size=self.extent if whole else rfs and tuple(r.size for r in rfs),
                    rf_jump=rfs and tuple(r.jump for r in rfs),
                    rf_start=rfs and tuple(r.start for r in rfs),
                    rf_whole=whole,
                    dense_equivalent=x[0].numel() * y[0].numel() if conv else None,
                )
            )
            self._set(y, state)

        return hook


def _propagate(m: nn.Module, state: _State, x: torch.Tensor, y: torch.Tensor) -> _State:
    """The receptive-field state after leaf layer m."""
    if isinstance(m, (nn.Flatten, nn.Linear, nn.Bilinear)):
        return WHOLE
    if isinstance(m, _ADAPTIVE) and all(v == 1 for v in y.shape[2:]):
        return WHOLE  # global pooling
    if not isinstance(state, tuple):
        return state  # whole stays whole, unknown stays unknown
    geometry = _geometry(m, len(state))
    if geometry is not None:
        step = _transposed if getattr(m, "transposed", False) else ReceptiveField.then
        per_axis = zip(*geometry, strict=True)  # (k, s, p, d) of each axis
        return tuple(step(rf, *g) for rf, g in zip(state, per_axis, strict=True))
    if isinstance(m, _ADAPTIVE):
        sizes = zip(x.shape[2:], y.shape[2:], strict=True)
        return tuple(_adaptive(rf, a, b) for rf, (a, b) in zip(state, sizes, strict=True))
    if type(m).__module__ in _POINTWISE_MODULES or x.shape[2:] == y.shape[2:]:
        return state  # pointwise (or assumed so: same spatial size, unknown type)
    return None


def _geometry(m: nn.Module, n: int) -> tuple[tuple[int, ...], ...] | None:
    """(kernel, stride, padding, dilation), each per axis, of a conv or pooling layer."""
    if isinstance(m, _ConvNd):
        k, d = _tup(m.kernel_size, n), _tup(m.dilation, n)
        if isinstance(m.padding, str):  # torch pads d*(k-1) in all, the smaller half first
            same = m.padding == "same"
            p = tuple(di * (ki - 1) // 2 if same else 0 for ki, di in zip(k, d, strict=True))
        else:
            p = _tup(m.padding, n)
        return k, _tup(m.stride, n), p, d
    if isinstance(m, _MAX_POOLS + _AVG_POOLS + _LP_POOLS):
        return (
            _tup(m.kernel_size, n),
            _tup(m.stride or m.kernel_size, n),
            _tup(getattr(m, "padding", 0), n),
            _tup(getattr(m, "dilation", 1), n),
        )
    return None


def _transposed(rf: ReceptiveField, k: int, s: int, p: int, d: int) -> ReceptiveField:
    """Transposed conv: output o takes input i where o = i*s - p + kk*d; the input span of
    an output unit depends on o mod s, and the size is the largest span."""
    span = 0
    for o in range(s):
        ids = [(o + p - kk * d) // s for kk in range(k) if (o + p - kk * d) % s == 0]
        span = max(span, max(ids) - min(ids) if ids else 0)
    k_eff = d * (k - 1) + 1
    return ReceptiveField(
        _num(rf.size + span * rf.jump),
        _num(rf.jump / s),
        _num(rf.start + (p - (k_eff - 1) / 2) / s * rf.jump),
    )


def _adaptive(rf: ReceptiveField, n_in: int, n_out: int) -> ReceptiveField:
    """Adaptive pooling: window i is [floor(i*n_in/n_out), ceil((i+1)*n_in/n_out))."""
    lo = [i * n_in // n_out for i in range(n_out)]
    hi = [-(-(i + 1) * n_in // n_out) for i in range(n_out)]
    width = max(b - a for a, b in zip(lo, hi, strict=True))
    return ReceptiveField(
        _num(rf.size + (width - 1) * rf.jump),
        _num(rf.jump * n_in / n_out),
        _num(rf.start + (hi[0] - 1) / 2 * rf.jump),
    )


def _macs(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    if isinstance(m, _ConvNd):
        k = math.prod(m.kernel_size)
        if m.transposed:
            return x[0].numel() * (m.out_channels // m.groups) * k
        return y[0].numel() * (m.in_channels // m.groups) * k
    if isinstance(m, nn.Linear):
        return y[0].numel() * m.in_features
    return 0


def probe_batch(model: nn.Module, shape: tuple[int, ...], value: float) -> torch.Tensor:
    """A batch of 1 filled with `value`, on the model's device and in its dtype."""
    p = next(model.parameters(), None)
    kw = {"dtype": p.dtype, "device": p.device} if p is not None else {}
    return torch.full((1, *shape), value, **kw)


def first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return next((v for v in value if isinstance(v, torch.Tensor)), None)
    return None


def _tup(value: Any, n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _num(v: float) -> float:
    """Whole numbers as int, so sizes print as 10, not 10.0."""
    return int(v) if float(v).is_integer() else v


def _check_geometry(k: int, s: int, p: int, d: int) -> None:
    for name, value, low in (("kernel", k, 1), ("stride", s, 1), ("padding", p, 0),
                             ("dilation", d, 1)):  # fmt: skip
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
