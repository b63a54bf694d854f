"""The receptive field measured: which input pixels the gradient of one unit reaches.

This checks the recurrence of `cnnlab.mechanics.arithmetic` on real models (see the tests).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from cnnlab.mechanics.arithmetic import first_tensor, probe_batch

_AVERAGE_OF = {  # a max-pool passes gradient to its argmax only; these pass it to the window
    nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d,
    nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d,
}  # fmt: skip


def measure_receptive_field(
    model: nn.Module, layer_name: str, input_shape: tuple[int, ...] = (1, 64, 64)
) -> tuple[int, ...]:
    """The receptive field of the central unit of layer `layer_name`, measured: on a copy of
    the model with positive constant weights, zero biases, identity BatchNorm and max-pools
    swapped for average pools of the same geometry (a max-pool passes gradient only to its
    argmax), the extent of the non-zero gradient of that unit w.r.t. a ones input.
    The extent is clipped to the input: pick an input larger than the field.

    Shapes: input_shape (C, H, W) -> (rf_h, rf_w) (one extent per spatial axis).
    """
    probe = copy.deepcopy(model).eval()
    _positive(probe)
    _swap_max_pools(probe)
    modules = dict(probe.named_modules())
    if layer_name not in modules:
        raise ValueError(
            f"layer_name {layer_name!r} is not a module of the model; "
            "summarize(model).rows lists the names"
        )
    seen: list[torch.Tensor] = []

    def stop(module: nn.Module, inputs: tuple, output: Any) -> None:
        seen.append(first_tensor(output))
        raise _Stop

    x = probe_batch(probe, input_shape, 1.0).requires_grad_()
    handle = modules[layer_name].register_forward_hook(stop)
    try:
        probe(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    if not seen:
        raise ValueError(f"layer_name {layer_name!r} is not called in the forward pass")
    y = seen[0]  # (1, C, *S) or (1, F)
    centre = tuple(v // 2 for v in y.shape[2:])
    y[(0, 0, *centre)].backward()
    support = x.grad[0].abs().sum(0) > 0  # (*S): input pixels the unit depends on
    extents = []
    for axis in range(support.dim()):
        other = tuple(a for a in range(support.dim()) if a != axis)
        hits = support.any(dim=other).nonzero() if other else support.nonzero()
        extents.append(int(hits.max() - hits.min() + 1) if len(hits) else 0)
    return tuple(extents)


class _Stop(Exception):
    """Ends a forward pass once the layer of interest has run."""


def _positive(model: nn.Module) -> None:
    """Weights 1/fan_in (no cancellation, no blow-up), biases 0, BN the identity."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
            for name, p in m.named_parameters(recurse=False):
                if p.dim() > 1:
                    p.fill_(1.0 / p[0].numel())
                else:
                    p.fill_(1.0 if name == "weight" else 0.0)


def _swap_max_pools(model: nn.Module) -> None:
    for parent in list(model.modules()):
        for name, m in list(parent.named_children()):
            avg = _AVERAGE_OF.get(type(m))
            if avg is None:
                continue
            if "Adaptive" in avg.__name__:
                setattr(parent, name, avg(m.output_size))
                continue
            if m.dilation not in (1, (1,), (1, 1), (1, 1, 1)):
                raise ValueError(f"dilated max-pool {name!r}: measure it with dilation 1")
            setattr(parent, name, avg(m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode))
