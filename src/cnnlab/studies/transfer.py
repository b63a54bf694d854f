"""The four-quadrant transfer study: every strategy in every case of the lecture's guide.

One backbone is trained on the source classes (Fashion-MNIST 0-4 by default) and saved as a
real run folder. Four targets are built from data on this machine: similar (Fashion-MNIST
5-9) or different (generated glyphs), each small (`small` images per class, a seed-dependent
class-balanced subset) or large (all, or `large` per class). For each target the guide's
diagnosis is measured (size, proxy A-distance, feature gap); then each strategy is trained
once per seed. The result holds per-cell accuracies and times, the guide's choice per
quadrant and the measured winner; figures and tables only read it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.data import ImageData, load_dataset
from cnnlab.studies.configs import TransferStudyConfig, class_indices
from cnnlab.tasks.transfer.guide import GUIDE, SIMILAR_BELOW, diagnose
from cnnlab.tasks.transfer.strategies import select_classes
from cnnlab.tasks.transfer.task import train_transfer

QUADRANTS = ("small + similar", "small + different", "large + similar", "large + different")


@dataclass
class QuadrantInfo:
    """One target: the quadrant the study built it for and what the guide measured."""

    quadrant: str  # the intended case, e.g. "small + similar"
    target: str  # dataset name with its classes
    images_per_class: int
    measured: str  # the quadrant diagnose() placed it in
    proxy_a_distance: float
    feature_gap: float
    guide: str  # the strategy diagnose() names
    expected: str  # the strategy the guide names for the intended quadrant


@dataclass
class RunRow:
    quadrant: str
    strategy: str
    seed: int
    accuracy: float  # on the target's test split
    seconds: float  # training time
    cut: str = ""


@dataclass
class TransferStudyResult:
    config: dict[str, Any]
    backbone: str  # the backbone's run folder
    backbone_accuracy: float  # on the source classes' test split
    source: str
    chance: dict[str, float] = field(default_factory=dict)  # per quadrant: 1 / classes
    quadrants: list[QuadrantInfo] = field(default_factory=list)
    runs: list[RunRow] = field(default_factory=list)

    @property
    def strategies(self) -> list[str]:
        return list(dict.fromkeys(r.strategy for r in self.runs))

    def info(self, quadrant: str) -> QuadrantInfo:
        return next(q for q in self.quadrants if q.quadrant == quadrant)

    def cell(self, quadrant: str, strategy: str) -> dict[str, float]:
        """Mean and std (over seeds) of test accuracy, and the mean training seconds."""
        rs = [r for r in self.runs if r.quadrant == quadrant and r.strategy == strategy]
        if not rs:
            return {"mean": math.nan, "std": math.nan, "seconds": math.nan, "seeds": 0}
        acc = np.array([r.accuracy for r in rs])
        return {
            "mean": float(acc.mean()),
            "std": float(acc.std()),
            "seconds": float(np.mean([r.seconds for r in rs])),
            "seeds": len(rs),
        }

    def winner(self, quadrant: str) -> str:
        """The strategy with the best mean test accuracy in `quadrant`."""
        return max(self.strategies, key=lambda s: self.cell(quadrant, s)["mean"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TransferStudyResult:
        """The inverse of to_dict (e.g. of a study's result.json), to redraw its figures."""
        return cls(
            d["config"], d["backbone"], d["backbone_accuracy"], d["source"], dict(d["chance"]),
            [QuadrantInfo(**q) for q in d["quadrants"]], [RunRow(**r) for r in d["runs"]],
        )  # fmt: skip


def per_class_subset(data: ImageData, per_class: int, seed: int) -> ImageData:
    """`per_class` random training images of each class (all of a class that has fewer);
    validation and test splits unchanged. Shapes: as `data`."""
    import dataclasses

    gen = torch.Generator().manual_seed(seed)
    keep = []
    for c in range(data.num_classes):
        idx = torch.nonzero(data.train_y == c)[:, 0]  # (n_c,)
        keep.append(idx[torch.randperm(len(idx), generator=gen)[:per_class]])
    pick = torch.cat(keep).sort().values
    return dataclasses.replace(data, train_x=data.train_x[pick], train_y=data.train_y[pick])


def _train_backbone(cfg: TransferStudyConfig, source: ImageData) -> tuple[Path, float]:
    from rich.console import Console

    from cnnlab.tasks.classify.api import train

    res = train(
        data=source, model=cfg.backbone_model, epochs=cfg.backbone_epochs, runs_dir=cfg.out,
        name="backbone", progress=False, console=Console(quiet=True), seed=0,
    )  # fmt: skip
    return Path(res.run_dir), res.test.accuracy if res.test is not None else math.nan


def run(
    cfg: TransferStudyConfig,
    data: ImageData | None = None,
    different: ImageData | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> TransferStudyResult:
    """Train the backbone, diagnose the four targets, train every strategy x seed in each.

    `data` and `different` replace loading cfg.data and cfg.different (tests pass tiny sets).
    Shapes: images (N, C, H, W) uint8; the different target is adapted to the backbone.
    """
    from cnnlab.tasks.transfer.backbones import load_backbone

    data = data if data is not None else load_dataset(cfg.data, seed=0)
    # every class list is checked before the backbone trains
    source = select_classes(data, class_indices(cfg.source_classes, "source_classes"))
    similar = select_classes(data, class_indices(cfg.similar_classes, "similar_classes"))
    different = different if different is not None else load_dataset(cfg.different, seed=0)
    if cfg.different_classes is not None:
        different = select_classes(
            different, class_indices(cfg.different_classes, "different_classes")
        )
    if cfg.train_limit is not None:
        source = per_class_subset(source, max(1, cfg.train_limit // source.num_classes), 0)
    folder, backbone_acc = _train_backbone(cfg, source)
    backbone = load_backbone(folder)
    log(f"backbone: {folder} ({cfg.backbone_model}, test accuracy {backbone_acc:.1%})")
    result = TransferStudyResult(asdict(cfg), str(folder), backbone_acc, source.source)
    targets = {"similar": similar, "different": different}
    for quadrant in QUADRANTS:
        size, kind = quadrant.split(" + ")
        full = targets[kind]
        per = cfg.small if size == "small" else cfg.large

        def target(seed: int, full: ImageData = full, per: int | None = per) -> ImageData:
            return full if per is None else per_class_subset(full, per, seed)

        d = diagnose(
            backbone, target(0), source, small_below=cfg.small_below,
            similar_below=SIMILAR_BELOW, n=cfg.similarity_n,
        )  # fmt: skip
        sim = d.similarity
        info = QuadrantInfo(
            quadrant=quadrant, target=full.name, images_per_class=d.images_per_class,
            measured=d.quadrant, proxy_a_distance=sim.proxy_a_distance if sim else math.nan,
            feature_gap=sim.feature_gap if sim else math.nan, guide=d.strategy,
            expected=GUIDE[(size, kind == "similar")],
        )  # fmt: skip
        result.quadrants.append(info)
        result.chance[quadrant] = 1.0 / full.num_classes
        log(
            f"{quadrant}: {full.name}, {d.images_per_class} images/class, PAD "
            f"{info.proxy_a_distance:.2f}, gap {info.feature_gap:.2f} -> measured "
            f"{d.quadrant}, guide: {d.strategy}"
        )
        small = size == "small"
        for strategy in cfg.strategy_list:
            for seed in range(cfg.seeds):
                r = train_transfer(
                    backbone, target(seed), strategy, seed=seed, lr=cfg.lr,
                    epochs=cfg.small_epochs if small else cfg.epochs,
                    batch_size=cfg.small_batch_size if small else cfg.batch_size,
                )  # fmt: skip
                result.runs.append(
                    RunRow(quadrant, strategy, seed, r.accuracy, r.train_time_s, r.cut)
                )
                log(
                    f"  {strategy:9s} seed {seed}: test acc {r.accuracy:6.1%} "
                    f"({r.train_time_s:.1f} s)"
                )
    return result
