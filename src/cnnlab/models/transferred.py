"""Transferred models: a backbone's features (whole, or cut after a block) with a new Linear
head, and the saved form that takes a target's images and adapts them to the backbone inside.

The strategies that build and train these (tasks/transfer/) choose what is frozen and cut; the
architecture lives here, so a transferred run folder rebuilds from model.json through the one
model registry, like every other run.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.errors import ModelError
from cnnlab.models.base import Classifier

# ITU-R BT.601 luma, the weights PIL uses for convert("L")
LUMA = (0.299, 0.587, 0.114)


def grid_pool(x: torch.Tensor, grid: int) -> torch.Tensor:
    """Average-pool a feature map to grid x grid cells and flatten, so the classifier still
    sees where a feature fired (a global average would throw the positions away).

    Shapes: (B, C, H, W) -> (B, C * min(grid, H) * min(grid, W)).
    """
    h, w = x.shape[-2:]
    return F.adaptive_avg_pool2d(x, (min(grid, h), min(grid, w))).flatten(1)


def adapt(
    x: torch.Tensor,
    input_shape: tuple[int, int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
) -> torch.Tensor:
    """Prepare images for a backbone: grey -> RGB (repeat) or RGB -> grey (luma), resize to
    its input size (bilinear, antialiased when shrinking), normalize with its mean/std.
    `x` is uint8 (0-255) or float already scaled to [0, 1].

    Shapes: (N, C, H, W) -> (N, *input_shape) float32.
    """
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    c_to, h_to, w_to = input_shape
    x = x.float().div(255) if x.dtype == torch.uint8 else x.float()
    c = x.shape[1]
    if c == 1 and c_to == 3:
        x = x.expand(-1, 3, -1, -1)  # (N, 3, H, W), a grey image has equal R, G and B
    elif c == 3 and c_to == 1:
        luma = torch.tensor(LUMA, dtype=x.dtype).view(1, 3, 1, 1)
        x = (x * luma).sum(dim=1, keepdim=True)  # (N, 1, H, W)
    elif c != c_to:
        raise ModelError(f"cannot adapt {c}-channel images to a {c_to}-channel backbone")
    if x.shape[2:] != (h_to, w_to):
        shrink = x.shape[2] > h_to or x.shape[3] > w_to
        x = F.interpolate(x, size=(h_to, w_to), mode="bilinear", antialias=shrink)
    m = torch.tensor(mean, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s  # (N, C', H', W')


class TransferModel(Classifier):
    """`features` (a whole backbone, or a Cut of its first blocks) and a new Linear `head`.

    frozen=True keeps `features` in eval mode even while the model trains: a frozen
    BatchNorm must use its stored running statistics, and must not update them from the new
    data (train() alone would do both). `freeze_bn` does the same for BatchNorm layers only.
    """

    def __init__(
        self,
        features: nn.Module,
        num_features: int,
        num_classes: int,
        frozen: bool = False,
        freeze_bn: bool = False,
    ) -> None:
        super().__init__()
        self.features = features
        self.head = nn.Linear(num_features, num_classes)
        self.frozen, self.freeze_bn = frozen, freeze_bn
        if frozen:
            self.features.requires_grad_(False)
        self.train()

    def train(self, mode: bool = True) -> TransferModel:
        super().train(mode)
        if self.frozen:
            self.features.eval()
        elif self.freeze_bn:
            for m in self.features.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen and x.dim() == 2:  # already the frozen features (transfer/features.py)
            return x  # (B, F)
        if isinstance(self.features, Classifier):  # a whole backbone: its end features
            return self.features.forward_features(x)  # (B, F)
        return self.features(x)  # (B, F), e.g. a Cut


class Cut(nn.Sequential):
    """Blocks 0..k of a backbone, then pooling: to a grid x grid map, flattened (grid > 0),
    or a global average (grid = 0). Shapes: (B, C, H, W) -> (B, F)."""

    def __init__(self, *blocks: nn.Module, grid: int = 4) -> None:
        super().__init__(*blocks)
        self.grid = grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = super().forward(x)  # (B, C_k, H_k, W_k)
        return grid_pool(h, self.grid) if self.grid else h.mean(dim=(2, 3))


def with_head(
    features: nn.Module, input_shape: tuple[int, ...], num_classes: int, **kw: Any
) -> TransferModel:
    """A TransferModel whose head size comes from a dummy forward of the features."""
    probe = TransferModel(features, 1, num_classes).eval()  # eval: BN statistics untouched
    with torch.no_grad():
        n = probe.forward_features(torch.zeros(2, *input_shape)).shape[1]  # (2, F)
    return TransferModel(features, int(n), num_classes, **kw)


def block_list(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The feature blocks of a classifier in forward order (its `blocks()`), the places where
    it may be cut; ModelError for a model that has none (an MLP)."""
    blocks = model.blocks() if isinstance(model, Classifier) else []
    if not blocks:
        raise ModelError(f"{type(model).__name__} has no list of conv blocks to cut; use the "
                         "head, finetune or retrain strategy")  # fmt: skip
    return blocks


class InputAdapter(nn.Module):
    """Target-normalized images -> the backbone's input (channels, size, its mean/std).

    Shapes: (B, C_t, H_t, W_t) -> (B, C_b, H_b, W_b).
    """

    def __init__(
        self,
        target_mean: tuple[float, ...],
        target_std: tuple[float, ...],
        backbone_input: tuple[int, int, int],
        backbone_mean: tuple[float, ...],
        backbone_std: tuple[float, ...],
    ) -> None:
        super().__init__()
        self.register_buffer("t_mean", torch.tensor(target_mean).view(1, -1, 1, 1), False)
        self.register_buffer("t_std", torch.tensor(target_std).view(1, -1, 1, 1), False)
        self.shape = tuple(backbone_input)
        self.mean, self.std = tuple(backbone_mean), tuple(backbone_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pixels = x * self.t_std + self.t_mean  # back to [0, 1]
        return adapt(pixels, self.shape, self.mean, self.std)


class TransferredClassifier(Classifier):
    """InputAdapter, then the TransferModel a strategy built and trained."""

    def __init__(self, adapter: InputAdapter, model: TransferModel) -> None:
        super().__init__()
        self.adapter, self.model = adapter, model

    @property
    def head(self) -> nn.Linear:  # type: ignore[override]
        return self.model.head  # a property, so the weights are stored once

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(self.adapter(x))  # (B, F)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.model.head(features)


@dataclass(frozen=True)
class TransferredConfig:
    """What model.json stores to rebuild a transferred model (weights come from the run)."""

    backbone: dict[str, Any]  # Backbone.spec: {"run": {...}} or {"torchvision": name}
    backbone_input: tuple[int, int, int]
    backbone_mean: tuple[float, ...]
    backbone_std: tuple[float, ...]
    target_mean: tuple[float, ...]
    target_std: tuple[float, ...]
    strategy: str
    cut: str = ""
    grid: int = 4


def features_for(backbone: Classifier, strategy: str, cut: str = "", grid: int = 4) -> nn.Module:
    """What a strategy keeps of `backbone`: all of it, or (early) its blocks up to `cut`."""
    if strategy != "early":
        return backbone
    blocks = block_list(backbone)
    names = [n for n, _ in blocks]
    if cut not in names:
        raise ModelError(f"unknown cut point {cut!r}; the blocks are: {', '.join(names)}")
    return Cut(*(m for _, m in blocks[: names.index(cut) + 1]), grid=grid)


def build_transferred(
    in_channels: int,
    num_classes: int,
    input_size: tuple[int, ...],
    cfg: TransferredConfig,
    backbone: Classifier | None = None,
) -> TransferredClassifier:
    """Rebuild a transferred model from its config with fresh weights (a run's weights
    replace them). `backbone` is the backbone's architecture, built by the registry from
    cfg.backbone. Shapes: (B, C, H, W) -> (B, num_classes)."""
    if backbone is None:
        raise ModelError("a transferred model needs its backbone's architecture")
    features = features_for(copy.deepcopy(backbone.eval()), cfg.strategy, cfg.cut, cfg.grid)
    model = with_head(features, tuple(cfg.backbone_input), num_classes,
                      frozen=cfg.strategy in ("head", "early"))  # fmt: skip
    adapter = InputAdapter(
        cfg.target_mean, cfg.target_std, cfg.backbone_input, cfg.backbone_mean, cfg.backbone_std
    )
    return TransferredClassifier(adapter, model).eval()
