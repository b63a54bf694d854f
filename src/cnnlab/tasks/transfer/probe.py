"""Linear probes: how well a linear classifier separates the target's classes from the output
of one block. `early` uses them to choose its cut point from the target data, instead of a
fixed rule: the lecture says "somewhere earlier in the network" and leaves where to the data."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.models.transferred import grid_pool

LBFGS_STEPS = 60
L2 = 1e-3  # per-feature penalty: 100 images and 500 features would otherwise fit anything
MAX_PROBE = 1000  # images; more changes the choice little and costs time on large targets


@dataclass(frozen=True)
class ProbeResult:
    """Held-out accuracy of a linear probe on each candidate block, and the chosen one."""

    accuracies: dict[str, float]
    chosen: str


def probe_accuracy(
    feats: torch.Tensor, y: torch.Tensor, num_classes: int, gen: torch.Generator
) -> float:
    """Multinomial logistic regression (L-BFGS, float64, standardized features) trained on a
    random 70 % of the images and scored on the other 30 %.

    Written by hand rather than trained through the engine on purpose: one probe per candidate
    block is a convex fit on at most 1,000 feature vectors, done by one L-BFGS call in a
    fraction of a second; a run folder and an epoch loop per block would cost more than it.

    Shapes: feats (N, F), y (N,) int64 -> accuracy in [0, 1].
    """
    n = len(y)
    if n < 4:
        raise ValueError(f"a probe needs at least 4 images, got {n}")
    order = torch.randperm(n, generator=gen)
    k = max(2, int(0.7 * n))
    tr, te = order[:k], order[k:]
    x = feats.double()
    mu, sd = x[tr].mean(0), x[tr].std(0).clamp_min(1e-6)  # from the training part only
    x = (x - mu) / sd
    w = torch.zeros(x.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=LBFGS_STEPS, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x[tr] @ w + b, y[tr]) + L2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(((x[te] @ w + b).argmax(1) == y[te]).double().mean())


@torch.no_grad()
def choose_cut(
    blocks: list[tuple[str, nn.Module]],
    candidates: list[int],
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    grid: int = 4,
    seed: int = 0,
) -> ProbeResult:
    """Run the blocks on `x` once, probe the output of every candidate block, and choose the
    one whose probe scores best (the earliest among equals).

    Shapes: x (N, C, H, W) float, already adapted to the backbone; y (N,) int64.
    """
    if not candidates:
        raise ValueError("choose_cut needs at least one candidate block")
    if len(y) > MAX_PROBE:
        keep = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:MAX_PROBE]
        x, y = x[keep], y[keep]
    feats: dict[int, torch.Tensor] = {}
    h = x
    for i, (_, block) in enumerate(blocks[: max(candidates) + 1]):
        h = block.eval()(h)
        if i in candidates:
            feats[i] = grid_pool(h, grid)  # (N, F_i)
    # the same split for every candidate, so they are compared on the same held-out images
    acc = {
        blocks[i][0]: probe_accuracy(
            feats[i], y, num_classes, torch.Generator().manual_seed(seed + 1)
        )
        for i in candidates
    }
    best = max(candidates, key=lambda i: (acc[blocks[i][0]], -i))
    return ProbeResult(acc, blocks[best][0])
