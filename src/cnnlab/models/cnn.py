"""Plain convolutional classifiers: the course's small CNN, conv-BN-ReLU stacks and VGG."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.models.base import Classifier, check_positive
from cnnlab.nn import ConvNormAct, Flatten


@dataclass(frozen=True)
class SmallCNNConfig:
    """Two conv + max-pool stages and a hidden dense layer, as in the course notebooks."""

    channels: tuple[int, int] = (32, 64)
    hidden: int = 128
    dropout: float = 0.25


class SmallCNN(Classifier):
    """conv3x3-ReLU-pool, conv3x3-ReLU-pool, flatten, Linear-ReLU-Dropout, Linear head."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        input_size: tuple[int, int],
        cfg: SmallCNNConfig,
    ) -> None:
        super().__init__()
        check_positive("num_classes", num_classes)
        c1, c2 = cfg.channels
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        h, w = input_size[0] // 4, input_size[1] // 4
        if h < 1 or w < 1:
            raise ValueError(f"input_size must be at least 4x4 for cnn-small, got {input_size}")
        self.dense = nn.Sequential(
            Flatten(),
            nn.Linear(c2 * h * w, cfg.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(cfg.dropout),
        )
        self.head = nn.Linear(cfg.hidden, num_classes)

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [(f"conv.{n}", m) for n, m in self.conv.named_children()]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.conv(x))  # (B, hidden)


@dataclass(frozen=True)
class BNCNNConfig:
    """stem: channels of a stride-2 conv-BN-ReLU that first halves the image (0: none);
    widths: one stage per entry, max-pool between stages; convs_per_stage: conv-BN-ReLU
    layers in each stage, one number for all or one per stage; pool_before_norm: max-pool
    right after a stage's last conv, before its BN and ReLU (4x less BN/ReLU work);
    pool: "avg" (global average) or "flatten" (keep the last map's positions)."""

    stem: int = 16
    widths: tuple[int, ...] = (32, 64, 128)
    convs_per_stage: int | tuple[int, ...] = 1
    pool_before_norm: bool = False
    pool: str = "avg"
    dropout: float = 0.0


class BNCNN(Classifier):
    """[stem,] [conv-BN-ReLU x n, max-pool] per stage, global pool or flatten, Linear head."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        input_size: tuple[int, int],
        cfg: BNCNNConfig,
    ) -> None:
        super().__init__()
        check_positive("num_classes", num_classes)
        counts = cfg.convs_per_stage
        if isinstance(counts, int):
            counts = (counts,) * len(cfg.widths)
        if len(counts) != len(cfg.widths):
            raise ValueError(
                f"convs_per_stage has {len(counts)} entries for {len(cfg.widths)} widths; "
                "give one number, or one per stage"
            )
        for n in counts:
            check_positive("convs_per_stage", n)
        if cfg.pool not in ("avg", "flatten"):
            raise ValueError(f"pool must be 'avg' or 'flatten', got {cfg.pool!r}")
        layers: list[nn.Module] = []
        c, (h, w) = in_channels, input_size
        if cfg.stem < 0:
            raise ValueError(f"stem must be >= 0 channels, got {cfg.stem}")
        if cfg.stem:
            layers.append(ConvNormAct(c, cfg.stem, stride=2))
            c, h, w = cfg.stem, (h + 1) // 2, (w + 1) // 2
        for i, (width, n) in enumerate(zip(cfg.widths, counts, strict=True)):
            check_positive("width", width)
            pooled = i < len(cfg.widths) - 1
            for j in range(n):
                block = ConvNormAct(c, width)
                if pooled and j == n - 1 and cfg.pool_before_norm:
                    block.insert(1, nn.MaxPool2d(2))  # conv -> pool -> BN -> ReLU
                    pooled = False
                layers.append(block)
                c = width
            if pooled:
                layers.append(nn.MaxPool2d(2))
            if i < len(cfg.widths) - 1:
                h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(f"{len(cfg.widths)} stages pool {input_size} below 1x1; use fewer")
        self.body = nn.Sequential(*layers)
        if cfg.pool == "avg":
            self.pool = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(cfg.dropout)
            )
        else:
            self.pool = nn.Sequential(Flatten(), nn.Dropout(cfg.dropout))
            c = c * h * w
        self.head = nn.Linear(c, num_classes)

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [(f"body.{n}", m) for n, m in self.body.named_children()]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.body(x))  # (B, widths[-1]) or (B, widths[-1] * h * w)


@dataclass(frozen=True)
class VGGConfig:
    """layers: conv widths and "M" for a 2x2 max-pool, e.g. (32, "M", 64, "M")."""

    layers: tuple[int | str, ...] = (32, 32, "M", 64, 64, "M", 128, "M")
    batch_norm: bool = True
    hidden: int = 256
    dropout: float = 0.3


class VGG(Classifier):
    """3x3 conv stacks and max-pools from a list, then flatten and a dense classifier."""

    def __init__(
        self, in_channels: int, num_classes: int, input_size: tuple[int, int], cfg: VGGConfig
    ) -> None:
        super().__init__()
        check_positive("num_classes", num_classes)
        layers: list[nn.Module] = []
        c, (h, w) = in_channels, input_size
        for item in cfg.layers:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            elif isinstance(item, int) and item > 0:
                layers.append(ConvNormAct(c, item, norm="batch" if cfg.batch_norm else "none"))
                c = item
            else:
                raise ValueError(f'vgg layers take positive ints and "M", got {item!r}')
        if h < 1 or w < 1:
            raise ValueError(f"vgg layers {cfg.layers} pool {input_size} below 1x1; use fewer 'M'")
        self.body = nn.Sequential(*layers)
        self.dense = nn.Sequential(
            Flatten(),
            nn.Linear(c * h * w, cfg.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(cfg.dropout),
        )
        self.head = nn.Linear(cfg.hidden, num_classes)

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [(f"body.{n}", m) for n, m in self.body.named_children()]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.body(x))  # (B, hidden)


@dataclass(frozen=True)
class PlainCNNConfig(VGGConfig):
    """A deep plain CNN: eight conv-ReLU layers, no BatchNorm and no skip connections, so
    the scale of the initial weights decides whether signals survive the depth (init study)."""

    layers: tuple[int | str, ...] = (8, 8, 8, "M", 16, 16, 16, "M", 32, 32, "M")
    batch_norm: bool = False
    hidden: int = 64
    dropout: float = 0.0
