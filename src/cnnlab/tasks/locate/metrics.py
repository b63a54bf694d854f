"""The numbers of locating: where positions are scaled from, the model's
outputs decoded to cm and degrees, the yaw's 180-degree periodic error, the loss, and the
training images' colour jitter."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from cnnlab.data.tabletop import LocateData


def frame(data: LocateData) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where positions are scaled from: the centre and half extents (cm) of the area objects
    lie in. The tabletop's workspace is known; a folder's is the training positions' range."""
    if data.name == "tabletop":
        from cnnlab.data.tabletop_sim import HALF_CM

        return (0.0, 0.0), HALF_CM
    y = data.y["train"][:, :2]
    lo, hi = y.min(0), y.max(0)
    half = np.maximum((hi - lo) / 2, 1.0)
    return tuple(float(v) for v in (lo + hi) / 2), tuple(float(v) for v in half)  # type: ignore[return-value]


def decode(out: torch.Tensor, centre: tuple[float, ...], half: tuple[float, ...]) -> torch.Tensor:
    """The model's outputs (B, 4) as (B, 3): x cm, y cm, yaw rad in [-pi/2, pi/2)."""
    pos = out[:, :2].float() * torch.tensor(half) + torch.tensor(centre)
    yaw = torch.atan2(out[:, 2].float(), out[:, 3].float()) / 2
    return torch.cat([pos, yaw[:, None]], 1)


def yaw_error_deg(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """The angle between two grasp yaws (rad, 180-degree periodic), in degrees in [0, 90]."""
    d = torch.remainder(pred - true + math.pi / 2, math.pi) - math.pi / 2
    return d.abs() * 180 / math.pi


def jitter(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Small per-image changes of brightness, contrast and colour balance (float images in
    [0, 1], (B, 3, H, W)); positions do not move."""
    b = len(x)
    gain = 1 + (torch.rand(b, 3, 1, 1, generator=g) - 0.5) * 0.2
    bright = (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.2
    mean = x.mean((1, 2, 3), keepdim=True)
    contrast = 1 + (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.3
    return ((x - mean) * contrast + mean + bright).mul(gain).clamp_(0, 1)


def locate_loss(
    out: torch.Tensor,
    y: torch.Tensor,
    centre: tuple[float, ...],
    half: tuple[float, ...],
    yaw_weight: float,
) -> tuple[torch.Tensor, dict]:
    """The loss of a batch and its summed statistics. Shapes: out (B, 4) (x, y scaled to
    [-1, 1], sin 2yaw, cos 2yaw), y (B, 3) (x cm, y cm, yaw rad)."""
    pos = out[:, :2] * torch.tensor(half) + torch.tensor(centre)
    loss = F.smooth_l1_loss(pos, y[:, :2], beta=1.0)
    n = len(y)
    stats: dict[str, Any] = {"n": n, "err": (pos.detach() - y[:, :2]).norm(dim=1).sum()}
    if yaw_weight > 0:
        target = torch.stack([torch.sin(2 * y[:, 2]), torch.cos(2 * y[:, 2])], 1)
        loss = loss + yaw_weight * F.mse_loss(out[:, 2:], target)
        pred = torch.atan2(out[:, 2].detach(), out[:, 3].detach()) / 2
        stats["yaw"] = yaw_error_deg(pred, y[:, 2]).sum()
    stats["loss"] = loss.detach() * n
    return loss, stats
