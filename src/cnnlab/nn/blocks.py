"""Conv-norm-activation and residual blocks with `spatial_dims` 1, 2 or 3, so text and audio
(1-D), images (2-D) and volumes (3-D) share them."""

from __future__ import annotations

import torch
from torch import nn


def conv_nd(spatial_dims: int) -> type[nn.Module]:
    return {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[_dims(spatial_dims)]


def pool_nd(spatial_dims: int, kind: str = "max") -> type[nn.Module]:
    table = {
        "max": {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d},
        "avg": {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d},
    }
    return table[kind][_dims(spatial_dims)]


def norm_nd(spatial_dims: int, norm: str, channels: int) -> nn.Module:
    """'batch', 'group' (8 groups or fewer), or 'none'."""
    if norm == "batch":
        return {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[_dims(spatial_dims)](
            channels
        )
    if norm == "group":
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'group' or 'none', got {norm!r}")


class _GradInInputFormat(torch.autograd.Function):
    """Identity whose backward returns the gradient in the channels-last format of its input."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return grad.contiguous(memory_format=torch.channels_last)


class Flatten(nn.Flatten):
    """nn.Flatten (same order, same output) that hands a channels-last input its gradient
    back channels-last. nn.Flatten returns it in NCHW order, and the ReLU or max-pool before
    it then takes PyTorch's slow mixed-format backward: 0.70 ms instead of 0.04 ms for a
    256x128x3x3 ReLU on 2 cores, 3-4 % of a cnn-bn training step."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            x.requires_grad
            and x.dim() == 4
            and x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous()
        ):
            x = _GradInInputFormat.apply(x)
        return super().forward(x)


def _dims(spatial_dims: int) -> int:
    if spatial_dims not in (1, 2, 3):
        raise ValueError(f"spatial_dims must be 1, 2 or 3, got {spatial_dims}")
    return spatial_dims


class ConvNormAct(nn.Sequential):
    """conv (no bias when a norm follows) -> norm -> ReLU. Keeps the size for stride 1.
    groups=in_channels makes the conv depthwise (one filter per channel)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        spatial_dims: int = 2,
        norm: str = "batch",
        act: bool = True,
        groups: int = 1,
    ) -> None:
        conv = conv_nd(spatial_dims)(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding=kernel_size // 2,
            bias=norm == "none",
            groups=groups,
        )
        layers = [conv, norm_nd(spatial_dims, norm, out_channels)]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    """Two 3x3 conv-norm layers with an identity (or 1x1 projection) shortcut, as in ResNet.

    Shapes: (B, C_in, *S) -> (B, C_out, *S / stride).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        spatial_dims: int = 2,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(in_channels, out_channels, 3, stride, spatial_dims, norm),
            ConvNormAct(out_channels, out_channels, 3, 1, spatial_dims, norm, act=False),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = ConvNormAct(
                in_channels, out_channels, 1, stride, spatial_dims, norm, act=False
            )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class DoubleConv(nn.Sequential):
    """Two 3x3 conv-norm-ReLU layers: the unit of each U-Net level (Ronneberger et al. 2015).

    Shapes: (B, C_in, *S) -> (B, C_out, *S).
    """

    def __init__(
        self, in_channels: int, out_channels: int, spatial_dims: int = 2, norm: str = "batch"
    ) -> None:
        super().__init__(
            ConvNormAct(in_channels, out_channels, 3, 1, spatial_dims, norm),
            ConvNormAct(out_channels, out_channels, 3, 1, spatial_dims, norm),
        )
