"""The model registry: every family registered with its config dataclass."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.core.registry import Registry
from cnnlab.models.base import Classifier
from cnnlab.models.cnn import (
    BNCNN,
    VGG,
    BNCNNConfig,
    PlainCNNConfig,
    SmallCNN,
    SmallCNNConfig,
    VGGConfig,
)
from cnnlab.models.mlp import MLP, MLPConfig
from cnnlab.models.resnet import ResNet, ResNetConfig

MODELS = Registry("model", ModelError)
MODELS.register("mlp", MLPConfig, "multilayer perceptron on the flattened image")(MLP)
MODELS.register("cnn-small", SmallCNNConfig, "two conv + pool and a dense layer, as the course")(
    SmallCNN
)
MODELS.register("cnn-bn", BNCNNConfig, "conv-BatchNorm-ReLU stages, global average pool")(BNCNN)
MODELS.register("vgg", VGGConfig, 'VGG-style stack from a list like [32, "M", 64, "M"]')(VGG)
MODELS.register("cnn-plain", PlainCNNConfig, "deep conv-ReLU stack without BatchNorm (init study)")(
    VGG
)
MODELS.register("resnet", ResNetConfig, "residual blocks in stages of doubling width")(ResNet)


# models of the other tasks share one factory signature:
# (in_channels, out_channels, input_size, cfg), out_channels = image channels or classes
TASK_MODELS: dict[str, Registry] = {"classify": MODELS}
# the modules that register the other tasks' models, imported when first asked for (they
# import cnnlab.models themselves)
_TASK_MODULES = {
    "autoencode": "cnnlab.models.autoencoder",
    "segment": "cnnlab.models.unet",
    "transfer": "cnnlab.tasks.transfer.saved",
}


def task_models(task: str) -> Registry:
    """The model registry of a task: classify, autoencode, segment, transfer."""
    if task not in TASK_MODELS and task in _TASK_MODULES:
        importlib.import_module(_TASK_MODULES[task])
    if task not in TASK_MODELS:
        raise ModelError(f"unknown task {task!r}; choose one of: {', '.join(TASK_MODELS)}")
    return TASK_MODELS[task]


def create_task_model(
    task: str,
    name: str,
    in_channels: int,
    out_channels: int,
    input_size: tuple[int, ...],
    **config: Any,
) -> nn.Module:
    """Build model `name` of `task`'s registry; `config` overrides its config dataclass."""
    registry = task_models(task)
    cfg = model_config(name, registry=registry, **config)
    return registry.build(name, in_channels, out_channels, tuple(input_size), cfg)


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
        first = str(exc).strip().splitlines()[0]
        raise ModelError(
            f"model {name!r} does not fit {shape} {kind} ({first}); choose another "
            "model or --image_size"
        ) from None
    return model.train()


def model_config(name: str, registry: Registry | None = None, **overrides: Any) -> Any:
    """The config dataclass of model `name` with `overrides`; unknown keys are an error."""
    entry = (registry or MODELS).get(name)
    assert entry.config is not None
    fields = {f.name: f for f in dataclasses.fields(entry.config)}
    for key, value in overrides.items():
        if key not in fields:
            raise ModelError(
                f"model {name!r} has no option {key!r}; its options: {', '.join(fields)}"
            )
        if isinstance(value, list):
            overrides[key] = tuple(value)
    return entry.config(**overrides)


def create_model(
    name: str,
    in_channels: int = 1,
    num_classes: int = 10,
    input_size: tuple[int, int] = (28, 28),
    **config: Any,
) -> Classifier:
    """Build a registered model. `config` overrides fields of the model's config dataclass."""
    cfg = model_config(name, **config)
    return MODELS.build(name, in_channels, num_classes, tuple(input_size), cfg)


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
    "MODELS",
    "build_for_input",
    "Classifier",
    "count_parameters",
    "TASK_MODELS",
    "create_model",
    "create_task_model",
    "list_models",
    "model_config",
    "task_models",
]
