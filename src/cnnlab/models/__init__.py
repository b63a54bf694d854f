"""Models: every family (one file each) and the one registry that names them all
(models/registry.py), each entry tagged with its task."""

from __future__ import annotations

from typing import Any

from torch import nn

from cnnlab.core.errors import ModelError, first_line
from cnnlab.models.base import Classifier
from cnnlab.models.registry import (
    ALL_MODELS,
    AUTOENCODERS,
    MODELS,
    SEGMENTERS,
    TASK_MODELS,
    autoencoder_config,
    create_autoencoder,
    create_model,
    create_task_model,
    model_config,
    task_models,
)


def build_for_input(
    task: str,
    name: str,
    input_shape: tuple[int, ...],
    out_channels: int,
    model_args: dict[str, Any],
) -> nn.Module:
    """Build model `name` of `task` for inputs of `input_shape` (C, *spatial) and try it on
    two zero inputs, so a model that cannot take this size fails now, in one line, rather
    than in the first step. Returns the model in train mode."""
    import torch

    c, size = input_shape[0], tuple(input_shape[1:])
    shape = "x".join(str(v) for v in input_shape)
    kind = "images" if len(input_shape) == 3 else "volumes"
    try:
        model = create_task_model(task, name, c, out_channels, size, **model_args)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"model {name!r} cannot be built for {shape} {kind}: {exc}") from None
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(2, *input_shape))
    except RuntimeError as exc:
        first = first_line(exc, 300)
        raise ModelError(
            f"model {name!r} does not fit {shape} {kind} ({first}); choose another "
            "model or --image_size"
        ) from None
    return model.train()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def list_models(
    in_channels: int = 1, num_classes: int = 10, input_size: tuple[int, int] = (28, 28)
) -> list[dict[str, Any]]:
    """Name, description and parameter count of every registered model (default config)."""
    rows = []
    for e in MODELS:
        m = create_model(e.name, in_channels, num_classes, input_size)
        rows.append({"name": e.name, "help": e.help, "parameters": count_parameters(m)})
    return rows


__all__ = [
    "ALL_MODELS",
    "AUTOENCODERS",
    "MODELS",
    "SEGMENTERS",
    "TASK_MODELS",
    "Classifier",
    "autoencoder_config",
    "build_for_input",
    "count_parameters",
    "create_autoencoder",
    "create_model",
    "create_task_model",
    "list_models",
    "model_config",
    "task_models",
]
