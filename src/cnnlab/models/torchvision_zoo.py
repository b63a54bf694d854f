"""torchvision's classification models as cnnlab classifiers (features, head and blocks), so
they can be transfer backbones and be rebuilt from a run's model.json."""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.models.base import Classifier

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

    def blocks(self) -> list[tuple[str, nn.Module]]:
        net = self.net
        if isinstance(getattr(net, "features", None), nn.Sequential):  # vgg, mobilenet, ...
            return [(f"features.{n}", m) for n, m in net.features.named_children()]
        if hasattr(net, "layer1"):  # the resnet family calls its children in order
            return [(n, m) for n, m in net.named_children() if not isinstance(m, _NOT_BLOCKS)]
        return []


def torchvision_classifier(name: str) -> TorchvisionClassifier:
    """torchvision model `name` (untrained weights) as a TorchvisionClassifier."""
    import torchvision.models as tvm

    return TorchvisionClassifier(tvm.get_model(name))
