"""Inside a trained classifier: where each conv layer's feature map is taken, the maps of an
image, and the "Inside the model" section of the run report (drawn with viz/inside.py).

Feature maps are taken with forward hooks, one per Conv2d, at the point the next layer sees
them: after the conv's own BatchNorm and ReLU when it sits in a ConvNormAct block, after the
ReLU right behind it in a plain Sequential (cnn-small), else the conv output itself. Maps are
kept in channel order, so channel i of the first layer is the response to kernel i of
`plot_kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from cnnlab.core.errors import DataError, ModelError
from cnnlab.nn.blocks import ConvNormAct
from cnnlab.viz.inside import EXAMPLE, plot_feature_overview, plot_kernels

_SHORT = {"BatchNorm2d": "BN", "GroupNorm": "GroupNorm", "MaxPool2d": "max-pool"}


@dataclass
class ConvTap:
    """Where the feature map of one Conv2d is taken, and how to describe it."""

    name: str  # the conv's module name, e.g. body.0.0
    conv: nn.Conv2d
    tap: nn.Module  # the module whose output is recorded
    label: str  # e.g. "conv 1->16 3x3 stride 2 -> BN -> ReLU"


def _describe(conv: nn.Conv2d) -> str:
    kh, kw = conv.kernel_size
    text = f"conv {conv.in_channels}->{conv.out_channels} {kh}x{kw}"
    if conv.stride != (1, 1):
        text += f" stride {conv.stride[0] if conv.stride[0] == conv.stride[1] else conv.stride}"
    if conv.dilation != (1, 1):
        text += f" dilation {conv.dilation[0]}"
    if conv.groups != 1:
        text += f" groups {conv.groups}"
    return text


def conv_taps(model: nn.Module) -> list[ConvTap]:
    """One ConvTap per Conv2d, in the model's module order (the forward order of our models)."""
    parent_of: dict[int, tuple[nn.Module, list[nn.Module]]] = {}
    for module in model.modules():
        children = list(module.children())
        for child in children:
            parent_of[id(child)] = (module, children)
    taps = []
    for name, conv in model.named_modules():
        if not isinstance(conv, nn.Conv2d):
            continue
        parent, siblings = parent_of.get(id(conv), (None, []))
        tap: nn.Module = conv
        after: list[nn.Module] = []
        if isinstance(parent, ConvNormAct):
            tap, after = parent, siblings[siblings.index(conv) + 1 :]
        elif isinstance(parent, nn.Sequential):
            i = siblings.index(conv)
            nxt = siblings[i + 1] if i + 1 < len(siblings) else None
            if isinstance(nxt, nn.ReLU | nn.LeakyReLU | nn.GELU | nn.SiLU | nn.Tanh):
                tap, after = nxt, [nxt]
        steps = [_SHORT.get(type(m).__name__, type(m).__name__) for m in after
                 if not isinstance(m, nn.Identity)]  # fmt: skip
        taps.append(ConvTap(name, conv, tap, " -> ".join([_describe(conv), *steps])))
    return taps


def feature_maps(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The feature map after every Conv2d (see the module docstring for where), in eval mode
    (the model's mode is restored afterwards), keyed by the conv's module name.

    Shapes: x (B, C, H, W) normalized as in training -> {name: (B, C_out, H', W') float32}.
    """
    taps = conv_taps(model)
    maps: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            # clone: an in-place ReLU later in the model would change a kept reference
            maps.setdefault(name, output.detach().float().clone())

        return record

    handles = [t.tap.register_forward_hook(hook(t.name)) for t in taps]
    was_training = model.training
    try:
        with torch.inference_mode():
            model.eval()(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return {t.name: maps[t.name] for t in taps if t.name in maps}


def first_conv(model: nn.Module, what: str = "model") -> ConvTap:
    """The first Conv2d of the model, or ModelError when it has none (an MLP)."""
    taps = conv_taps(model)
    if not taps:
        raise ModelError(
            f"{what} has no convolutional layer; kernels and feature maps need a CNN "
            "(cnn-small, cnn-bn, vgg, resnet)"
        )
    return taps[0]


def report_parts(folder: Path, per_layer: int = 8) -> tuple[str, list[tuple[str, bytes]]] | None:
    """Text and (caption, PNG) images for the run report: the first conv layer's kernels and
    the feature maps of figures/input-example.png. None when the run has no weights or no
    conv layer (an MLP)."""
    from PIL import Image

    from cnnlab.core.errors import CnnlabError
    from cnnlab.data.loader import normalize
    from cnnlab.engine.runs import load_model
    from cnnlab.tasks.classify.inputs import load_image_file
    from cnnlab.viz.figures import fig_to_png

    folder = Path(folder)
    if not (folder / "model.safetensors").is_file() or not (folder / "model.json").is_file():
        return None
    try:
        model, meta = load_model(folder)
    except CnnlabError as exc:
        return f"The model could not be loaded: {exc}", []
    taps = conv_taps(model)
    if not taps:
        return None
    first = taps[0]
    images = [(
        f"the {first.conv.out_channels} learned kernels of the first conv layer ({first.name}),"
        " each patch scaled to its own range"
        + (": colour shows the R, G, B weights" if first.conv.in_channels == 3 else
           ": black = most negative weight, white = most positive"),
        fig_to_png(plot_kernels(first.conv.weight, title=f"{first.name}: {first.label}")),
    )]  # fmt: skip
    text = (
        "What the network computes. The kernels are the weights of the first convolutional "
        "layer; the feature maps are each conv layer's output for one test image, taken after "
        "the layer's BatchNorm and ReLU where it has them, channels in order. All maps of a "
        "layer share one colour scale. `cnnlab show features RUN IMAGE` draws every channel "
        "for any image, `cnnlab show kernels RUN` the kernels alone."
    )
    example = folder / "figures" / EXAMPLE
    if not example.is_file():
        return (
            text + "\n\nNo input example is stored in this run (figures/" + EXAMPLE + ").",
            images,
        )
    try:
        x = load_image_file(example, meta)  # (C, H, W) uint8, converted as predict does
        with Image.open(example) as im:
            label = im.text.get("label", "") if hasattr(im, "text") else ""
    except DataError as exc:
        return f"{text}\n\nThe input example could not be read: {exc}", images
    batch = normalize(torch.from_numpy(x.copy())[None], meta.mean, meta.std)  # (1, C, H, W)
    maps = feature_maps(model, batch)
    with torch.inference_mode():
        probs = model(batch).softmax(1)[0]
    k = int(probs.argmax())
    caption = (
        f"feature maps of the first test image{f' (true class {label})' if label else ''}; "
        f"the model predicts {meta.classes[k]} ({float(probs[k]):.0%}); first {per_layer} "
        "channels of each conv layer"
    )
    shown = x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0)
    labels = {t.name: t.label for t in taps}
    fig = plot_feature_overview(maps, labels, image=shown, per_layer=per_layer)
    images.append((caption, fig_to_png(fig)))
    return text, images
