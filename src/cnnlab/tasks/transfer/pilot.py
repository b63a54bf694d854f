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

# the defaults: 4-fold cross-validation picked the best strategy (within a point) in every case
# of the ImageNet study, one 75/25 split in 9 of 12 (docs/transfer.md, "The pilot,
# cross-validated"); FRACTION is the share that trains in one split (folds=1)
FOLDS, FRACTION = 4, 0.75


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
    train_images: int  # per pilot run (with folds: the mean over the folds)
    held_out: int  # images scored, all runs together (with folds: every training image)
    notes: list[str] = field(default_factory=list)
    folds: int = 1  # 1: one split by fraction; k: k-fold cross-validation

    def row(self, strategy: str) -> PilotRow:
        return next(r for r in self.rows if r.strategy == strategy)

    def verdict(self) -> str:
        """One sentence: whether the pilot agreed with the guide's rule, and by how much."""
        w, g = self.row(self.winner), self.row(self.guide) if self.guide in self.names else None
        on = f"{self.held_out} held-out training images" + (
            f", {self.folds} folds" if self.folds > 1 else ""
        )
        if g is None or self.winner == self.guide:
            return f"the pilot agrees with the guide: {self.winner} ({w.accuracy:.1%} on {on})"
        gap = 100 * (w.accuracy - g.accuracy)
        return (f"the pilot disagrees with the guide: {self.winner} {w.accuracy:.1%} against the "
                f"guide's {self.guide} {g.accuracy:.1%} (+{gap:.1f} points on {on})")  # fmt: skip

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


def pilot_folds(data: ImageData, folds: int, seed: int) -> list[ImageData]:
    """k-fold cross-validation splits of the training images, class by class: in split i the
    i-th part of every class scores (as the test split) and the other parts train, so every
    training image is scored once. Each class needs at least `folds` images.
    Shapes: each split as `data`."""
    if folds < 2:
        raise ValueError(f"pilot_folds must be >= 2 for cross-validation, got {folds}")
    g = torch.Generator().manual_seed(seed)
    parts: list[list[torch.Tensor]] = [[] for _ in range(folds)]
    for c in range(data.num_classes):
        idx = torch.nonzero(data.train_y == c)[:, 0]
        if len(idx) < folds:
            raise ValueError(f"{folds} pilot folds need {folds} training images of each "
                             f"class; class {data.classes[c]!r} has {len(idx)} (use fewer "
                             "folds)")  # fmt: skip
        idx = idx[torch.randperm(len(idx), generator=g)]
        for i, part in enumerate(torch.tensor_split(idx, folds)):
            parts[i].append(part)
    splits = []
    for i in range(folds):
        te = torch.cat(parts[i]).sort().values
        tr = torch.cat([t for j in range(folds) if j != i for t in parts[j]]).sort().values
        splits.append(dataclasses.replace(
            data, train_x=data.train_x[tr], train_y=data.train_y[tr],
            test_x=data.train_x[te], test_y=data.train_y[te],
        ))  # fmt: skip
    return splits


def run_pilot(
    backbone: Backbone,
    data: ImageData,
    guide: str,
    epochs: int = 3,
    fraction: float = FRACTION,
    strategies: list[str] | None = None,
    seed: int = 0,
    log=None,  # noqa: ANN001 (a callable taking one line, or None)
    folds: int = FOLDS,
    **train_args: Any,
) -> PilotResult:
    """Train each strategy for `epochs` on `fraction` of each class's training images and
    score it on the rest (folds=1), or on k-1 of `folds` class-balanced parts and score it on
    the k-th, k times (folds >= 2: every training image is scored once; the accuracy is over
    all of them). The winner is the most accurate (the guide's choice wins a tie, then the
    faster). `train_args` go to train_transfer (lr, batch_size, grid, ...)."""
    if epochs < 1:
        raise ValueError(f"pilot_epochs must be >= 1, got {epochs}")
    if folds < 1:
        raise ValueError(f"pilot_folds must be >= 1 (1: one split by pilot_fraction, k >= 2: "
                         f"k-fold cross-validation), got {folds}")  # fmt: skip
    names = strategies or STRATEGIES.names()
    splits = [pilot_split(data, fraction, seed)] if folds == 1 else pilot_folds(data, folds, seed)
    rows = []
    for name in names:
        extra = {k: v for k, v in train_args.items() if k not in ("grid", "cut") or name == "early"}
        right, seconds, cut = 0, 0.0, ""
        for split in splits:
            r = train_transfer(backbone, split, name, epochs=epochs, seed=seed, **extra)
            right += round(float(r.accuracy) * len(split.test_y))  # accuracy is exactly k/N
            seconds, cut = seconds + float(r.train_time_s), r.cut
        acc = right / sum(len(s.test_y) for s in splits)
        rows.append(PilotRow(name, acc, seconds, cut))
        if log is not None:
            at = f" (cut after {cut})" if cut else ""
            log(f"pilot {name}{at}: {acc:.1%} in {seconds:.1f} s")
    best = max(rows, key=lambda r: (round(r.accuracy, 6), r.strategy == guide, -r.seconds))
    train_images = round(sum(len(s.train_y) for s in splits) / len(splits))
    held = sum(len(s.test_y) for s in splits)
    return PilotResult(rows, best.strategy, guide, train_images, held, folds=folds)
