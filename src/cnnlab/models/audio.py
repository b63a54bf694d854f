"""Keyword spotting models over a log-mel spectrogram (B, 1, mels, frames), and their
contrast.

- `kws-cnn`: 2-D convolutions over time x mel (conv-BN-ReLU, max-pool), global average pool.
- `kws-ds-cnn`: depthwise-separable convolutions, after the DS-CNN of Zhang et al. (2017),
  "Hello Edge: Keyword Spotting on Microcontrollers": a strided conv, then blocks of a 3x3
  depthwise conv (one filter per channel) and a 1x1 pointwise conv; few parameters and MACs.
- `kws-tc`: 1-D temporal convolution, the mel bands as channels (after TC-ResNet, Choi et al.,
  2019): each filter spans every band and slides over time only.
- `kws-mlp`: the flattened spectrogram into an MLP, the contrast without convolution.

Every factory takes (in_channels, num_classes, (mels, frames), cfg).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.models.base import Classifier, check_positive
from cnnlab.nn.blocks import ConvNormAct


def _check(widths: tuple[int, ...], dropout: float) -> None:
    if not widths or min(widths) < 1:
        raise ValueError(f"widths must be channel counts >= 1, got {widths}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


class _Pooled(Classifier):
    """Conv stages -> global average pool -> dropout -> head."""

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        for _, block in self.blocks():
            x = block(x)
        return self.dropout(x.flatten(2).mean(dim=2))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [(f"stages.{i}", s) for i, s in enumerate(self.stages)]


@dataclass(frozen=True)
class KwsCNNConfig:
    """widths: channels of the conv stages (3x3 conv-BN-ReLU, then 2x2 max-pool but after the
    last); dropout before the head; norm: batch, group or none."""

    widths: tuple[int, ...] = (32, 64, 128, 128)
    dropout: float = 0.2
    norm: str = "batch"


class KwsCNN(_Pooled):
    def __init__(self, in_channels: int, num_classes: int, input_size: tuple[int, ...],
                 cfg: KwsCNNConfig) -> None:  # fmt: skip
        super().__init__()
        _check(cfg.widths, cfg.dropout)
        stages, width = [], in_channels
        for i, w in enumerate(cfg.widths):
            pool = [nn.MaxPool2d(2, ceil_mode=True)] if i < len(cfg.widths) - 1 else []
            stages.append(nn.Sequential(ConvNormAct(width, w, 3, norm=cfg.norm), *pool))
            width = w
        self.stages = nn.ModuleList(stages)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(width, num_classes)


@dataclass(frozen=True)
class KwsDSCNNConfig:
    """channels of every layer; blocks: depthwise-separable blocks after the strided first
    conv; dropout before the head; norm: batch, group or none."""

    channels: int = 64
    blocks: int = 4
    dropout: float = 0.2
    norm: str = "batch"


class KwsDSCNN(_Pooled):
    def __init__(self, in_channels: int, num_classes: int, input_size: tuple[int, ...],
                 cfg: KwsDSCNNConfig) -> None:  # fmt: skip
        super().__init__()
        check_positive("blocks", cfg.blocks)
        _check((cfg.channels,), cfg.dropout)
        c = cfg.channels
        n = cfg.norm
        stages = [ConvNormAct(in_channels, c, 3, stride=2, norm=n)]
        for _ in range(cfg.blocks):  # depthwise 3x3, then pointwise 1x1
            stages.append(nn.Sequential(ConvNormAct(c, c, 3, norm=n, groups=c),
                                        ConvNormAct(c, c, 1, norm=n)))  # fmt: skip
        self.stages = nn.ModuleList(stages)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(c, num_classes)


@dataclass(frozen=True)
class KwsTCConfig:
    """widths: channels of the 1-D conv stages over time (kernel 9, stride 2 but the first);
    dropout before the head; norm: batch, group or none."""

    widths: tuple[int, ...] = (64, 96, 128, 160)
    kernel: int = 9
    dropout: float = 0.2
    norm: str = "batch"


class KwsTC(_Pooled):
    def __init__(self, in_channels: int, num_classes: int, input_size: tuple[int, ...],
                 cfg: KwsTCConfig) -> None:  # fmt: skip
        super().__init__()
        _check(cfg.widths, cfg.dropout)
        check_positive("kernel", cfg.kernel)
        width = in_channels * input_size[0]  # every mel band of every input channel
        stages = []
        for i, w in enumerate(cfg.widths):
            stages.append(ConvNormAct(width, w, cfg.kernel, stride=1 if i == 0 else 2,
                                      spatial_dims=1, norm=cfg.norm))  # fmt: skip
            width = w
        self.stages = nn.ModuleList(stages)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward_features(x.flatten(1, 2))  # (B, C, F, T) -> (B, C*F, T)


@dataclass(frozen=True)
class KwsMLPConfig:
    """hidden: hidden layer sizes; dropout after each."""

    hidden: tuple[int, ...] = (256, 256)
    dropout: float = 0.2


class KwsMLP(Classifier):
    def __init__(self, in_channels: int, num_classes: int, input_size: tuple[int, ...],
                 cfg: KwsMLPConfig) -> None:  # fmt: skip
        super().__init__()
        _check(cfg.hidden, cfg.dropout)
        width = in_channels * input_size[0] * input_size[1]
        layers: list[nn.Module] = [nn.Flatten()]
        for h in cfg.hidden:
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU(inplace=True),
                       nn.Dropout(cfg.dropout)]  # fmt: skip
            width = h
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)
