"""Q-networks for a DQN agent: a game frame (B, C, H, W) in, one Q-value per action out.

- `q-cnn`: the network of the MinAtar paper (Young and Tian, 2019, "MinAtar: An Atari-Inspired
  Testbed for Thorough and Reproducible Reinforcement Learning Experiments"): one 3x3 conv with
  16 channels, stride 1, ReLU, a 128-unit hidden layer, the Q-values.
- `q-mlp`: the flattened frame through fully connected layers: the lecture's MLP-vs-CNN
  contrast, for an agent.
- `nature-cnn`: the network of Mnih et al. (2015), "Human-level control through deep
  reinforcement learning" (Nature): 8x8/4, 4x4/2, 3x3/1 convolutions with 32, 64, 64 channels,
  512 hidden units; for 84x84 Atari frames.

Each is a Classifier (the actions are its classes), so `cnnlab show features` and the feature
map code see its conv layers. Inputs are floats in [0, 1] (the task scales the frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.models.base import Classifier, check_positive


def _flat_size(body: nn.Module, in_channels: int, input_size: tuple[int, ...]) -> int:
    with torch.no_grad():
        return int(body(torch.zeros(1, in_channels, *input_size)).numel())


@dataclass(frozen=True)
class QCNNConfig:
    """channels: of the one 3x3 conv layer; hidden: units of the dense layer."""

    channels: int = 16
    hidden: int = 128


class QCNN(Classifier):
    def __init__(self, in_channels: int, actions: int, input_size: tuple[int, ...],
                 cfg: QCNNConfig) -> None:  # fmt: skip
        super().__init__()
        check_positive("channels", cfg.channels)
        check_positive("hidden", cfg.hidden)
        self.conv = nn.Sequential(nn.Conv2d(in_channels, cfg.channels, 3), nn.ReLU())
        n = _flat_size(self.conv, in_channels, input_size)
        self.hidden = nn.Sequential(nn.Flatten(), nn.Linear(n, cfg.hidden), nn.ReLU())
        self.head = nn.Linear(cfg.hidden, actions)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(self.conv(x))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [("conv", self.conv)]


@dataclass(frozen=True)
class QMLPConfig:
    """hidden: units of each fully connected layer."""

    hidden: tuple[int, ...] = (256, 256)


class QMLP(Classifier):
    def __init__(self, in_channels: int, actions: int, input_size: tuple[int, ...],
                 cfg: QMLPConfig) -> None:  # fmt: skip
        super().__init__()
        if not cfg.hidden or min(cfg.hidden) < 1:
            raise ValueError(f"hidden must be unit counts >= 1, got {cfg.hidden}")
        n = in_channels * int(torch.tensor(input_size).prod())
        layers: list[nn.Module] = [nn.Flatten()]
        for h in cfg.hidden:
            layers += [nn.Linear(n, h), nn.ReLU()]
            n = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(n, actions)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@dataclass(frozen=True)
class NatureCNNConfig:
    """widths: channels of the three convolutions; hidden: units of the dense layer."""

    widths: tuple[int, int, int] = (32, 64, 64)
    hidden: int = 512


class NatureCNN(Classifier):
    def __init__(self, in_channels: int, actions: int, input_size: tuple[int, ...],
                 cfg: NatureCNNConfig) -> None:  # fmt: skip
        super().__init__()
        a, b, c = cfg.widths
        check_positive("hidden", cfg.hidden)
        if min(input_size) < 36:
            raise ValueError(f"nature-cnn needs frames of at least 36x36 (it strides by 8 in "
                             f"all), got {input_size}; use q-cnn for small grids")  # fmt: skip
        self.convs = nn.Sequential(
            nn.Sequential(nn.Conv2d(in_channels, a, 8, stride=4), nn.ReLU()),
            nn.Sequential(nn.Conv2d(a, b, 4, stride=2), nn.ReLU()),
            nn.Sequential(nn.Conv2d(b, c, 3, stride=1), nn.ReLU()),
        )
        n = _flat_size(self.convs, in_channels, input_size)
        self.hidden = nn.Sequential(nn.Flatten(), nn.Linear(n, cfg.hidden), nn.ReLU())
        self.head = nn.Linear(cfg.hidden, actions)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(self.convs(x))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [(f"convs.{i}", m) for i, m in enumerate(self.convs)]
