"""The classifier contract: forward = forward_head(forward_features(x))."""

from __future__ import annotations

import torch
from torch import nn


class Classifier(nn.Module):
    """A model whose last layer, the head, maps a feature vector to class logits.

    Transfer learning, feature maps and probes use `forward_features`; `head` is the last
    linear layer, replaceable on its own.
    """

    head: nn.Linear

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, C, H, W) -> (B, F)."""
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Shapes: (B, F) -> (B, num_classes)."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        """The feature blocks in forward order, as (name, module): running them one after the
        other gives the map the model's pooling would see; transfer learning cuts between
        them. [] for a model without conv blocks (an MLP).
        Shapes: each block maps (B, C, H, W) -> (B, C', H', W')."""
        return []


def check_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
