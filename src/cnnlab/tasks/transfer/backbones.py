"""Backbones: a trained network to transfer from, with the input it expects.

A backbone is either a cnnlab run folder (`runs/NAME`) or a torchvision model by name
(`torchvision:resnet18`). Either way it is a Classifier (forward_features / head) with an
ordered list of named blocks, the places where the `early` strategy may cut it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.errors import ModelError, RunError
from cnnlab.models import Classifier
from cnnlab.models.cnn import BNCNN, VGG, SmallCNN
from cnnlab.models.resnet import ResNet

TORCHVISION = "torchvision:"
# a few names to suggest when a torchvision name is unknown (all small enough for a CPU)
SUGGESTED = ("resnet18", "resnet50", "mobilenet_v3_small", "efficientnet_b0", "convnext_tiny")
# ITU-R BT.601 luma, the weights PIL uses for convert("L")
LUMA = (0.299, 0.587, 0.114)

# cnnlab families: (attribute, expand) in forward order; expand=True lists a Sequential's
# children one by one so the cut can fall between any two of its layers
_CNNLAB_BLOCKS: dict[type, tuple[tuple[str, bool], ...]] = {
    BNCNN: (("body", True),),
    VGG: (("body", True),),
    SmallCNN: (("conv", True),),
    ResNet: (("stem", False), ("stages", True)),
}
# top-level layers of a torchvision net that end the feature extractor rather than build it
_NOT_BLOCKS = (nn.Identity, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten, nn.Dropout)


class TorchvisionClassifier(Classifier):
    """A torchvision classification model split into features and head: the head is the
    model's last nn.Linear, replaced by an Identity inside `net`."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        linears = [name for name, m in net.named_modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ModelError("this torchvision model has no Linear classifier to replace")
        path = linears[-1]
        parent = net.get_submodule(path.rpartition(".")[0]) if "." in path else net
        leaf = path.rpartition(".")[2]
        self.head = getattr(parent, leaf)
        setattr(parent, leaf, nn.Identity())
        self.net = net

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, F)


def block_list(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The feature layers of `model` in forward order, as (name, module): running them one
    after the other gives the map that the model's global pooling would see.

    Shapes: blocks map (B, C, H, W) -> (B, C', H', W').
    """
    for cls, spec in _CNNLAB_BLOCKS.items():
        if isinstance(model, cls):
            out: list[tuple[str, nn.Module]] = []
            for attr, expand in spec:
                mod = getattr(model, attr)
                if expand:
                    out += [(f"{attr}.{n}", m) for n, m in mod.named_children()]
                else:
                    out.append((attr, mod))
            return out
    if isinstance(model, TorchvisionClassifier):
        net = model.net
        if isinstance(getattr(net, "features", None), nn.Sequential):  # vgg, mobilenet, ...
            return [(f"features.{n}", m) for n, m in net.features.named_children()]
        if hasattr(net, "layer1"):  # the resnet family calls its children in order
            return [(n, m) for n, m in net.named_children() if not isinstance(m, _NOT_BLOCKS)]
    name = type(model).__name__
    raise ModelError(
        f"{name} has no list of conv blocks to cut; use the head, finetune or retrain strategy"
    )


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


def load_backbone(
    spec: str | Path, weights: str | None = None, image_size: int | None = None
) -> Backbone:
    """A backbone from a run folder ("runs/NAME") or "torchvision:NAME".

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
    return _run_backbone(Path(text), image_size)


def _run_backbone(folder: Path, image_size: int | None) -> Backbone:
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
        source=f"run {folder} ({meta.model} trained on {meta.data or 'unknown data'})",
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
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
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
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"weights file {path} does not fit torchvision:{name} ({first})") from None


def adapt_input(x: torch.Tensor, backbone: Backbone) -> torch.Tensor:
    """Prepare images for `backbone`: grey -> RGB (repeat) or RGB -> grey (luma), resize to
    its input size (bilinear, antialiased when shrinking), normalize with its mean/std.

    `x` is uint8 (0-255) or float already scaled to [0, 1].
    Shapes: (N, C, H, W) -> (N, C', H', W') float32 with (C', H', W') = backbone.input_shape.
    """
    return adapt(x, backbone.input_shape, backbone.mean, backbone.std)


def adapt(
    x: torch.Tensor,
    input_shape: tuple[int, int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
) -> torch.Tensor:
    """adapt_input for an input shape and mean/std given directly.

    Shapes: (N, C, H, W) -> (N, *input_shape) float32.
    """
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    c_to, h_to, w_to = input_shape
    x = x.float().div(255) if x.dtype == torch.uint8 else x.float()
    c = x.shape[1]
    if c == 1 and c_to == 3:
        x = x.expand(-1, 3, -1, -1)  # (N, 3, H, W), a grey image has equal R, G and B
    elif c == 3 and c_to == 1:
        luma = torch.tensor(LUMA, dtype=x.dtype).view(1, 3, 1, 1)
        x = (x * luma).sum(dim=1, keepdim=True)  # (N, 1, H, W)
    elif c != c_to:
        raise ModelError(f"cannot adapt {c}-channel images to a {c_to}-channel backbone")
    if x.shape[2:] != (h_to, w_to):
        shrink = x.shape[2] > h_to or x.shape[3] > w_to
        x = F.interpolate(x, size=(h_to, w_to), mode="bilinear", antialias=shrink)
    m = torch.tensor(mean, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s  # (N, C', H', W')
