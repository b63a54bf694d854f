"""The multilayer perceptron: images as vectors, every unit connected to every pixel."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.models.base import Classifier, check_positive


@dataclass(frozen=True)
class MLPConfig:
    """hidden: sizes of the hidden layers; dropout after each hidden layer."""

    hidden: tuple[int, ...] = (256, 128)
    dropout: float = 0.0


class MLP(Classifier):
    """Flatten -> [Linear -> ReLU -> Dropout] per hidden size -> Linear head."""

    def __init__(
        self, in_channels: int, num_classes: int, input_size: tuple[int, int], cfg: MLPConfig
    ) -> None:
        super().__init__()
        check_positive("num_classes", num_classes)
        if not 0.0 <= cfg.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {cfg.dropout}")
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_channels * input_size[0] * input_size[1]
        for h in cfg.hidden:
            check_positive("hidden size", h)
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            if cfg.dropout:
                layers.append(nn.Dropout(cfg.dropout))
            width = h
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (B, hidden[-1])
