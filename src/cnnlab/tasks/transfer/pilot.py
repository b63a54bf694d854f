"""A guide that checks itself: before the full training, every strategy is tried on a small
budget, on the target's own training images only (a class-balanced part trains, the rest
scores), and the best of them is the one trained in full. The lecture's rule is a prior from
size and similarity; the pilot measures this target with this backbone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from cnnlab.data import ImageData
from cnnlab.tasks.transfer.backbones import Backbone
from cnnlab.tasks.transfer.strategies import STRATEGIES
from cnnlab.tasks.transfer.task import train_transfer


@dataclass
class PilotRow:
    strategy: str
    accuracy: float  # on the held-out part of the target's training images
    seconds: float
    cut: str = ""


@dataclass
class PilotResult:
    rows: list[PilotRow]
    winner: str
    guide: str
    train_images: int
    held_out: int
    notes: list[str] = field(default_factory=list)

    def row(self, strategy: str) -> PilotRow:
        return next(r for r in self.rows if r.strategy == strategy)

    def verdict(self) -> str:
        """One sentence: whether the pilot agreed with the guide's rule, and by how much."""
        w, g = self.row(self.winner), self.row(self.guide) if self.guide in self.names else None
        if g is None or self.winner == self.guide:
            return (f"the pilot agrees with the guide: {self.winner} "
                    f"({w.accuracy:.1%} on {self.held_out} held-out training images)")  # fmt: skip
        gap = 100 * (w.accuracy - g.accuracy)
        return (f"the pilot disagrees with the guide: {self.winner} {w.accuracy:.1%} against the "
                f"guide's {self.guide} {g.accuracy:.1%} (+{gap:.1f} points on {self.held_out} "
                "held-out training images)")  # fmt: skip

    @property
    def names(self) -> list[str]:
        return [r.strategy for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def pilot_split(data: ImageData, fraction: float, seed: int) -> ImageData:
    """The target with its training images split, class by class: `fraction` of each class
    trains, the rest becomes the test split (the real test split is not touched). Every class
    keeps at least one image on each side. Shapes: as `data`."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"pilot_fraction must be in (0, 1), got {fraction}")
    g = torch.Generator().manual_seed(seed)
    train, held = [], []
    for c in range(data.num_classes):
        idx = torch.nonzero(data.train_y == c)[:, 0]
        if len(idx) < 2:
            raise ValueError(f"the pilot needs 2 training images of each class; class "
                             f"{data.classes[c]!r} has {len(idx)}")  # fmt: skip
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = min(len(idx) - 1, max(1, round(fraction * len(idx))))
        train.append(idx[:k])
        held.append(idx[k:])
    tr, te = torch.cat(train).sort().values, torch.cat(held).sort().values
    return dataclasses.replace(
        data, train_x=data.train_x[tr], train_y=data.train_y[tr],
        test_x=data.train_x[te], test_y=data.train_y[te],
    )  # fmt: skip


def run_pilot(
    backbone: Backbone,
    data: ImageData,
    guide: str,
    epochs: int = 3,
    fraction: float = 0.75,
    strategies: list[str] | None = None,
    seed: int = 0,
    log=None,  # noqa: ANN001 (a callable taking one line, or None)
    **train_args: Any,
) -> PilotResult:
    """Train each strategy for `epochs` on `fraction` of each class's training images and
    score it on the rest; the winner is the most accurate (the guide's choice wins a tie,
    then the faster). `train_args` go to train_transfer (lr, batch_size, grid, ...)."""
    if epochs < 1:
        raise ValueError(f"pilot_epochs must be >= 1, got {epochs}")
    names = strategies or STRATEGIES.names()
    split = pilot_split(data, fraction, seed)
    rows = []
    for name in names:
        extra = {k: v for k, v in train_args.items() if k not in ("grid", "cut") or name == "early"}
        r = train_transfer(backbone, split, name, epochs=epochs, seed=seed, **extra)
        rows.append(PilotRow(name, float(r.accuracy), float(r.train_time_s), r.cut))
        if log is not None:
            cut = f" (cut after {r.cut})" if r.cut else ""
            log(f"pilot {name}{cut}: {r.accuracy:.1%} in {r.train_time_s:.1f} s")
    best = max(rows, key=lambda r: (round(r.accuracy, 6), r.strategy == guide, -r.seconds))
    return PilotResult(rows, best.strategy, guide, len(split.train_y), len(split.test_y))
