"""U-Net (2-D and 3-D) and the same network without skip connections (`fcn`).

Read beside the lecture's U-Net diagram: the left, contracting path halves the size and
doubles the width at each level; the bottleneck is the lowest level; the right, expanding
path doubles the size back, and at each level the skip connection concatenates the
contracting path's feature map of the same size, so fine detail lost by pooling comes back.
`fcn` is the same encoder and decoder with the concatenation left out, so the value of the
skips can be measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.models.base import check_positive
from cnnlab.nn.blocks import ConvNormAct, DoubleConv, conv_nd, pool_nd


@dataclass(frozen=True)
class UNetConfig:
    """spatial_dims: 2 (images) or 3 (volumes); depth: number of down-steps (the input is
    padded to a multiple of 2**depth); base_width: channels of the first level, doubled at
    each down-step (None: 16 for 2-D, 8 for 3-D, where every voxel costs more); norm:
    "batch" or "group" (group norm suits the small batches of 3-D work); up: "transpose"
    (learned 2x2 transposed conv) or "upsample" ((bi/tri)linear upsampling + 1x1 conv);
    widths: the channels of every level, top to bottom (depth + 1 numbers; None: base_width
    doubled at each level); stem: 1 (the first level works at the input's size) or 2 (its
    first conv has stride 2, so every level works at half the size, and one thin conv at the
    input's size turns the upsampled top level and the input itself into the logits: most of
    a U-Net's cost is at full size, where there is the least to learn about classes)."""

    spatial_dims: int = 2
    depth: int = 3
    base_width: int | None = None
    norm: str = "batch"
    up: str = "transpose"
    widths: tuple[int, ...] | None = None
    stem: int = 1


@dataclass(frozen=True)
class FCNConfig(UNetConfig):
    """The U-Net's encoder and decoder without skip connections."""


class Up(nn.Module):
    """One expanding-path step: double the size and halve the channels.

    Shapes: (B, C_in, *S) -> (B, C_out, *2S).
    """

    def __init__(self, in_channels: int, out_channels: int, spatial_dims: int, up: str) -> None:
        super().__init__()
        conv = conv_nd(spatial_dims)
        self.up: nn.Module
        if up == "transpose":
            transpose = {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[spatial_dims]
            self.up = transpose(in_channels, out_channels, kernel_size=2, stride=2)
        else:
            # upsampling has no weights; the 1x1 conv does the channel halving instead
            mode = {2: "bilinear", 3: "trilinear"}[spatial_dims]
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode=mode, align_corners=False),
                conv(in_channels, out_channels, kernel_size=1),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(x)


class UNet(nn.Module):
    """U-Net: contracting path, bottleneck, expanding path with skip connections.

    Shapes: (B, in_channels, *S) -> (B, out_channels, *S), logits per pixel or voxel, for
    any spatial size S (padded to a multiple of 2**depth inside, cropped back).
    """

    skips = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size: tuple[int, ...],
        cfg: UNetConfig,
    ) -> None:
        super().__init__()
        if cfg.spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {cfg.spatial_dims}")
        if len(input_size) != cfg.spatial_dims:
            raise ValueError(
                f"input_size {tuple(input_size)} has {len(input_size)} axes but spatial_dims "
                f"is {cfg.spatial_dims}; give spatial_dims={len(input_size)} or a matching size"
            )
        check_positive("in_channels", in_channels)
        check_positive("out_channels", out_channels)
        check_positive("depth", cfg.depth)
        if cfg.norm not in ("batch", "group"):
            raise ValueError(f"norm must be 'batch' or 'group', got {cfg.norm!r}")
        if cfg.up not in ("transpose", "upsample"):
            raise ValueError(f"up must be 'transpose' or 'upsample', got {cfg.up!r}")
        if cfg.stem not in (1, 2):
            raise ValueError(f"stem must be 1 or 2, got {cfg.stem}")
        widths = self._widths(cfg)  # one per level, top to bottom
        dims, norm = cfg.spatial_dims, cfg.norm
        self.spatial_dims, self.depth, self.stem = dims, cfg.depth, cfg.stem

        # contracting path: level 0 keeps the input size (stem 2: half of it), each later
        # level pools first
        if cfg.stem == 1:
            first: nn.Module = DoubleConv(in_channels, widths[0], dims, norm)
        else:
            first = nn.Sequential(
                ConvNormAct(in_channels, widths[0], 3, 2, dims, norm),
                ConvNormAct(widths[0], widths[0], 3, 1, dims, norm),
            )
        self.down = nn.ModuleList([first])
        self.pool = pool_nd(dims)(2)
        for i in range(1, cfg.depth):
            self.down.append(DoubleConv(widths[i - 1], widths[i], dims, norm))
        # bottleneck: the lowest level, 2**depth times smaller than the input
        self.bottleneck = DoubleConv(widths[-2], widths[-1], dims, norm)
        # expanding path, bottom to top: up-step, [concatenate the skip], DoubleConv
        self.ups = nn.ModuleList()
        self.up_convs = nn.ModuleList()
        for i in reversed(range(cfg.depth)):
            self.ups.append(Up(widths[i + 1], widths[i], dims, cfg.up))
            merged = 2 * widths[i] if self.skips else widths[i]
            self.up_convs.append(DoubleConv(merged, widths[i], dims, norm))
        top = widths[0]
        self.out_up: nn.Module | None = None
        if cfg.stem == 2:
            # back to the input's size: up-step to half the top width, [concatenate the input
            # itself: its edges are exact where the features are at half size], one conv
            top = max(widths[0] // 2, 1)
            self.out_up = Up(widths[0], top, dims, cfg.up)
            merged = top + in_channels if self.skips else top
            self.out_conv = ConvNormAct(merged, top, 3, 1, dims, norm)
        # 1x1 conv: one logit per class at every pixel
        self.head = conv_nd(dims)(top, out_channels, kernel_size=1)

    @staticmethod
    def _widths(cfg: UNetConfig) -> list[int]:
        if cfg.widths is not None:
            widths = [int(w) for w in cfg.widths]
            if len(widths) != cfg.depth + 1:
                raise ValueError(f"widths needs depth + 1 = {cfg.depth + 1} numbers (one per "
                                 f"level, top to bottom), got {len(widths)}")  # fmt: skip
            for w in widths:
                check_positive("widths", w)
            return widths
        width = cfg.base_width if cfg.base_width is not None else {2: 16, 3: 8}[cfg.spatial_dims]
        check_positive("base_width", width)
        return [width * 2**i for i in range(cfg.depth + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[2:]
        x = inp = self._pad(x)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)  # (B, widths[i], *S / 2**i), kept for the expanding path
        x = self.bottleneck(self.pool(x))  # (B, widths[-1], *S / 2**depth)
        for up, conv, skip in zip(self.ups, self.up_convs, reversed(skips), strict=True):
            x = up(x)
            if self.skips:
                x = torch.cat([skip, x], dim=1)  # the skip connection: (B, 2 * w, *S')
            x = conv(x)
        if self.out_up is not None:  # stem 2: from half size back to the input's
            x = self.out_up(x)
            if self.skips:
                x = torch.cat([inp, x], dim=1)
            x = self.out_conv(x)
        x = self.head(x)  # (B, out_channels, *padded S)
        crop = (slice(None), slice(None), *(slice(0, s) for s in size))
        return x[crop]

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        """Zero-pad each axis at its end to a multiple of 2**depth (stem 2: 2**(depth + 1)).
        Zero, not reflect: reflect padding fails when the padding is as large as the axis."""
        m = 2 ** (self.depth + self.stem - 1)
        extra = [(-s) % m for s in x.shape[2:]]
        if not any(extra):
            return x
        pad: list[int] = []
        for e in reversed(extra):  # F.pad takes the last axis first
            pad += [0, e]
        return F.pad(x, pad)


class FCN(UNet):
    """The U-Net without skip connections: the decoder sees only the bottleneck's features.

    Shapes: (B, in_channels, *S) -> (B, out_channels, *S).
    """

    skips = False
