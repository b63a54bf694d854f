"""Networks that say where an object is: a camera image (B, 3, H, W) in, (B, 4) out: the
position on the table, x and y scaled to [-1, 1] over the workspace, then (sin 2yaw, cos 2yaw)
of the grasp yaw (a gripper closes alike at yaw and yaw + 180 degrees, so the doubled angle).

- `locate-cnn`: conv-BN-ReLU stages with max-pooling, flattened into dense layers (a plain
  convolutional regressor; flattening, not global pooling, keeps where things are).
- `locate-coordconv`: the same with two coordinate channels (x and y in [-1, 1]) given to
  every convolution, after Liu et al. (2018), "An intriguing failing of convolutional neural
  networks and the CoordConv solution" (NeurIPS).
- `locate-heatmap`: a small U-Net-like network that draws a heat map of where the object is;
  the soft-argmax of the map (its expected pixel position) goes through a small dense layer to
  the table's coordinates, and the yaw is read from the features the map weights.
- `locate-mlp`: the flattened pixels through dense layers (the classifier's MLP; the
  contrast: no convolution).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cnnlab.models.base import Classifier, check_positive
from cnnlab.models.mlp import MLPConfig

OUTPUTS = 4  # x, y, sin 2yaw, cos 2yaw


def coords_like(x: torch.Tensor) -> torch.Tensor:
    """Two channels (B, 2, H, W): the column and the row of each pixel, in [-1, 1]."""
    b, _, h, w = x.shape
    kw = {"device": x.device, "dtype": x.dtype}
    ys = torch.linspace(-1, 1, h, **kw).view(1, 1, h, 1).expand(b, 1, h, w)
    xs = torch.linspace(-1, 1, w, **kw).view(1, 1, 1, w).expand(b, 1, h, w)
    return torch.cat([xs, ys], 1)


class CoordConv(nn.Module):
    """A convolution that also sees where it is: coordinate channels appended to its input."""

    def __init__(self, cin: int, cout: int, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin + 2, cout, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([x, coords_like(x)], 1))


def _stage(cin: int, cout: int, coords: bool) -> nn.Sequential:
    conv = CoordConv(cin, cout) if coords else nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


@dataclass(frozen=True)
class LocateCNNConfig:
    """widths: channels of the stages (each: two 3x3 conv-BN-ReLU, then 2x2 max-pooling);
    hidden: units of the dense layer; pool: how the last stage's maps reach it, "flatten"
    (every position its own weights: where things are is kept) or "avg" (global average
    pooling: translation-invariant, the setting where Liu et al. find plain convolutions fail
    at coordinates)."""

    widths: tuple[int, ...] = (16, 32, 64, 128)
    hidden: int = 256
    pool: str = "flatten"


class LocateCNN(Classifier):
    coords = False

    def __init__(self, in_channels: int, outputs: int, input_size: tuple[int, ...],
                 cfg: LocateCNNConfig) -> None:  # fmt: skip
        super().__init__()
        if not cfg.widths or min(cfg.widths) < 1:
            raise ValueError(f"widths must be channel counts >= 1, got {cfg.widths}")
        check_positive("hidden", cfg.hidden)
        stages, c = [], in_channels
        for w in cfg.widths:
            stages.append(nn.Sequential(_stage(c, w, self.coords), _stage(w, w, self.coords),
                                        nn.MaxPool2d(2)))  # fmt: skip
            c = w
        if cfg.pool not in ("flatten", "avg"):
            raise ValueError(f"pool must be flatten or avg, got {cfg.pool!r}")
        self.stages = nn.Sequential(*stages)
        with torch.no_grad():
            n = self.stages(torch.zeros(1, in_channels, *input_size)).numel()
        pool: list[nn.Module] = [nn.AdaptiveAvgPool2d(1)] if cfg.pool == "avg" else []
        n = c if cfg.pool == "avg" else n
        self.hidden = nn.Sequential(*pool, nn.Flatten(), nn.Linear(n, cfg.hidden),
                                    nn.ReLU(inplace=True))  # fmt: skip
        self.head = nn.Linear(cfg.hidden, outputs)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(self.stages(x))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [(f"stage{i + 1}", s) for i, s in enumerate(self.stages)]


class LocateCoordConv(LocateCNN):
    coords = True


@dataclass(frozen=True)
class LocateMLPConfig(MLPConfig):
    """hidden: units of each dense layer on the flattened pixels (the classifier's MLP, wider
    by default: its input is 3 x 64 x 64 pixels)."""

    hidden: tuple[int, ...] = (512, 256)


@dataclass(frozen=True)
class LocateHeatmapConfig:
    """widths: channels of the encoder's levels (the decoder mirrors them back to full
    resolution); hidden: units of the dense layers that map the soft-argmax to the table and
    read the yaw."""

    widths: tuple[int, ...] = (16, 32, 64)
    hidden: int = 64


class LocateHeatmap(Classifier):
    """Encoder-decoder with skips (a small U-Net), one heat-map channel at full resolution."""

    def __init__(self, in_channels: int, outputs: int, input_size: tuple[int, ...],
                 cfg: LocateHeatmapConfig) -> None:  # fmt: skip
        super().__init__()
        if len(cfg.widths) < 2 or min(cfg.widths) < 1:
            raise ValueError(f"widths must be >= 2 channel counts >= 1, got {cfg.widths}")
        check_positive("hidden", cfg.hidden)
        if outputs != OUTPUTS:
            raise ValueError(f"locate-heatmap predicts {OUTPUTS} numbers, not {outputs}")
        ws, c = cfg.widths, in_channels
        self.down = nn.ModuleList()
        for w in ws:
            self.down.append(nn.Sequential(_stage(c, w, False), _stage(w, w, False)))
            c = w
        self.up = nn.ModuleList()
        for w_skip, w_low in zip(reversed(ws[:-1]), reversed(ws[1:]), strict=True):
            self.up.append(nn.Sequential(_stage(w_low + w_skip, w_skip, False),
                                         _stage(w_skip, w_skip, False)))  # fmt: skip
        self.heat = nn.Conv2d(ws[0], 1, 1)
        self.to_table = nn.Sequential(nn.Linear(2, cfg.hidden), nn.Tanh(),
                                      nn.Linear(cfg.hidden, 2))  # fmt: skip
        self.yaw = nn.Sequential(nn.Linear(ws[0], cfg.hidden), nn.ReLU(inplace=True))
        self.head = nn.Linear(cfg.hidden, 2)

    def heatmap(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The heat map's logits (B, 1, H, W) and the full-resolution features (B, C, H, W)."""
        skips = []
        for i, level in enumerate(self.down):
            x = level(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for level, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = level(torch.cat([x, skip], 1))
        return self.heat(x), x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits, feats = self.heatmap(x)
        b = len(x)
        p = logits.float().flatten(1).softmax(1).view_as(logits)  # (B, 1, H, W), sums to 1
        grid = coords_like(p)  # (B, 2, H, W): column, row in [-1, 1]
        uv = (p * grid).sum((2, 3))  # soft-argmax: the expected pixel position (B, 2)
        pooled = (p.to(feats.dtype) * feats).sum((2, 3))  # the features where the map points
        yaw = self.head(self.yaw(pooled))
        return torch.cat([self.to_table(uv).to(yaw.dtype), yaw], 1).view(b, OUTPUTS)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        logits, feats = self.heatmap(x)
        p = logits.flatten(1).softmax(1).view_as(logits)
        return self.yaw((p * feats).sum((2, 3)))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        return [(f"level{i + 1}", lvl) for i, lvl in enumerate(self.down[:1])]
