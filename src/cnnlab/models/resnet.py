"""A ResNet for small images: a 3x3 stem and stages of residual blocks."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.models.base import Classifier, check_positive
from cnnlab.nn import ConvNormAct, ResidualBlock


@dataclass(frozen=True)
class ResNetConfig:
    """depths: residual blocks per stage; width: channels of the first stage, doubled at
    each later stage (which also halves the resolution)."""

    depths: tuple[int, ...] = (1, 1, 1)
    width: int = 32
    dropout: float = 0.0


class ResNet(Classifier):
    """stem conv-BN-ReLU, stages of residual blocks, global average pool, Linear head."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        input_size: tuple[int, int],
        cfg: ResNetConfig,
    ) -> None:
        super().__init__()
        check_positive("num_classes", num_classes)
        check_positive("width", cfg.width)
        self.stem = ConvNormAct(in_channels, cfg.width)
        blocks: list[nn.Module] = []
        c = cfg.width
        for i, depth in enumerate(cfg.depths):
            check_positive("depth", depth)
            out = cfg.width * 2**i
            for j in range(depth):
                blocks.append(ResidualBlock(c, out, stride=2 if (i > 0 and j == 0) else 1))
                c = out
        self.stages = nn.Sequential(*blocks)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(cfg.dropout))
        self.head = nn.Linear(c, num_classes)

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [("stem", self.stem), *((f"stages.{n}", m) for n, m in self.stages.named_children())]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.stages(self.stem(x)))  # (B, width * 2**(stages-1))
