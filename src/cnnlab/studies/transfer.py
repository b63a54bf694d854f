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
class PilotCase:
    """The pilot in one quadrant and seed: its held-out accuracy per strategy and its pick."""

    quadrant: str
    seed: int
    winner: str
    accuracies: dict[str, float]  # strategy -> accuracy on the held-out training images
    seconds: float  # the pilot's training time, all strategies


@dataclass
class TransferStudyResult:
    config: dict[str, Any]
    backbone: str  # the backbone's run folder
    backbone_accuracy: float  # on the source classes' test split
    source: str
    chance: dict[str, float] = field(default_factory=dict)  # per quadrant: 1 / classes
    quadrants: list[QuadrantInfo] = field(default_factory=list)
    runs: list[RunRow] = field(default_factory=list)
    pilots: list[PilotCase] = field(default_factory=list)

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

    def accuracy(self, quadrant: str, strategy: str, seed: int) -> float:
        """The test accuracy of one run (nan when it did not run)."""
        rs = [r.accuracy for r in self.runs
              if (r.quadrant, r.strategy, r.seed) == (quadrant, strategy, seed)]  # fmt: skip
        return rs[0] if rs else math.nan

    def pick_check(self, quadrant: str, within: float = 0.01) -> dict[str, Any]:
        """How the guide's rule and the pilot picked in `quadrant`, against the full runs.

        rule_gap / pilot_gap: the best strategy's mean accuracy minus the mean accuracy of
        what was picked (the pilot's pick per seed, as trained in full with that seed);
        rule_ok / pilot_ok: gap <= within. rule_seeds / pilot_seeds: in how many seeds the
        pick's full run was within `within` of that seed's best run; seeds: how many had a
        pilot. Pilot entries are nan / 0 when the study ran without --pilot.
        """
        best = self.cell(quadrant, self.winner(quadrant))["mean"]
        guide = self.info(quadrant).guide
        seeds = sorted({r.seed for r in self.runs if r.quadrant == quadrant})

        def seed_best(seed: int) -> float:
            return max(self.accuracy(quadrant, s, seed) for s in self.strategies)

        def ok(acc: float, seed: int) -> bool:
            return acc >= seed_best(seed) - within - 1e-9

        cases = [p for p in self.pilots if p.quadrant == quadrant]
        picked = [self.accuracy(quadrant, p.winner, p.seed) for p in cases]
        rule_gap = best - self.cell(quadrant, guide)["mean"]
        pilot_gap = best - float(np.mean(picked)) if picked else math.nan
        return {
            "rule_gap": rule_gap,
            "rule_ok": rule_gap <= within + 1e-9,
            "rule_seeds": sum(ok(self.accuracy(quadrant, guide, s), s) for s in seeds),
            "pilot_gap": pilot_gap,
            "pilot_ok": bool(pilot_gap <= within + 1e-9),
            "pilot_seeds": sum(ok(a, p.seed) for a, p in zip(picked, cases, strict=True)),
            "pilot_picks": [p.winner for p in cases],
            "seeds": len(cases) or len(seeds),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TransferStudyResult:
        """The inverse of to_dict (e.g. of a study's result.json), to redraw its figures."""
        return cls(
            d["config"], d["backbone"], d["backbone_accuracy"], d["source"], dict(d["chance"]),
            [QuadrantInfo(**q) for q in d["quadrants"]], [RunRow(**r) for r in d["runs"]],
            [PilotCase(**p) for p in d.get("pilots", [])],
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


def balanced_test(data: ImageData, limit: int | None) -> ImageData:
    """The first limit // classes test images of each class (all when limit is None); the
    training and validation splits unchanged. Shapes: as `data`."""
    from cnnlab.data.images import first_per_class

    if limit is None:
        return data
    return first_per_class(data, "test", max(1, limit // data.num_classes))


def _given_backbone(spec: str, log: Callable[[str], None]) -> tuple[Any, ImageData | None]:
    """The backbone named by `spec` and its source data (None: ImageNet, torchvision, or a
    run whose data is not on this machine)."""
    from cnnlab.core.errors import DataError
    from cnnlab.tasks.transfer.backbones import load_backbone
    from cnnlab.tasks.transfer.similarity import source_data

    backbone = load_backbone(spec)
    if spec.startswith(("imagenet:", "torchvision:")):
        return backbone, None
    try:
        return backbone, source_data(spec)
    except DataError as exc:
        log(f"source data of {spec} not found ({exc}): similarity not measured")
        return backbone, None


def run(
    cfg: TransferStudyConfig,
    data: ImageData | None = None,
    different: ImageData | None = None,
    log: Callable[[str], None] = lambda s: None,
    backbone: Any = None,
) -> TransferStudyResult:
    """Train the backbone (or take cfg.backbone), diagnose the four targets, train every
    strategy x seed in each (and the pilot per seed with cfg.pilot).

    `data` and `different` replace loading cfg.data and cfg.different, `backbone` (a
    Backbone) replaces loading cfg.backbone (tests pass tiny ones).
    Shapes: images (N, C, H, W) uint8; the different target is adapted to the backbone.
    """
    from cnnlab.tasks.transfer.backbones import load_backbone

    given, source = backbone is not None or cfg.backbone is not None, None
    if given and backbone is None:  # a wrong name fails before any data is loaded
        backbone, source = _given_backbone(str(cfg.backbone), log)
    data = data if data is not None else load_dataset(cfg.data, seed=0)
    targets = study_targets(cfg, data, different)
    if given:
        folder, backbone_acc = str(cfg.backbone or backbone.source), math.nan
        log(f"backbone: {backbone.source}")
    else:  # every class list is checked before the backbone trains
        source = select_classes(data, class_indices(cfg.source_classes, "source_classes"))
        if cfg.train_limit is not None:
            source = per_class_subset(source, max(1, cfg.train_limit // source.num_classes), 0)
        path, backbone_acc = _train_backbone(cfg, source)
        backbone, folder = load_backbone(path), str(path)
        log(f"backbone: {folder} ({cfg.backbone_model}, test accuracy {backbone_acc:.1%})")
    backbone = backbone.at(cfg.image_size)
    result = TransferStudyResult(
        asdict(cfg), folder, backbone_acc, source.source if source is not None else backbone.source
    )
    for quadrant in QUADRANTS:
        size, kind = quadrant.split(" + ")
        full = targets[kind]

        def target(seed: int, quadrant: str = quadrant) -> ImageData:
            return quadrant_target(cfg, targets, quadrant, seed)

        info = _diagnosis(cfg, backbone, target(0), source, quadrant)
        result.quadrants.append(info)
        result.chance[quadrant] = 1.0 / full.num_classes
        measures = (
            "similarity not measured"
            if math.isnan(info.proxy_a_distance)
            else f"PAD {info.proxy_a_distance:.2f}, gap {info.feature_gap:.2f}"
        )
        log(
            f"{quadrant}: {full.name}, {info.images_per_class} images/class, {measures} -> "
            f"measured {info.measured}, guide: {info.guide}"
        )
        small = size == "small"
        train_args = _train_args(cfg, small)
        for seed in range(cfg.seeds):
            if cfg.pilot:
                result.pilots.append(_pilot(cfg, backbone, target(seed), quadrant, info.guide,
                                            seed, train_args, log))  # fmt: skip
            for strategy in cfg.strategy_list:
                r = train_transfer(
                    backbone, target(seed), strategy, seed=seed,
                    epochs=cfg.small_epochs if small else cfg.epochs, **train_args,
                )  # fmt: skip
                result.runs.append(
                    RunRow(quadrant, strategy, seed, r.accuracy, r.train_time_s, r.cut)
                )
                log(
                    f"  {strategy:9s} seed {seed}: test acc {r.accuracy:6.1%} "
                    f"({r.train_time_s:.1f} s)"
                )
    return result


def study_targets(
    cfg: TransferStudyConfig, data: ImageData, different: ImageData | None = None
) -> dict[str, ImageData]:
    """The study's two target sets, "similar" (cfg.similar_classes of `data`) and "different"
    (cfg.different, or `different` when given), each tested on cfg.test_limit images.
    Shapes: images (N, C, H, W) uint8."""
    similar = select_classes(data, class_indices(cfg.similar_classes, "similar_classes"))
    different = different if different is not None else load_dataset(cfg.different, seed=0)
    if cfg.different_classes is not None:
        different = select_classes(
            different, class_indices(cfg.different_classes, "different_classes")
        )
    return {
        "similar": balanced_test(similar, cfg.test_limit),
        "different": balanced_test(different, cfg.test_limit),
    }


def quadrant_target(
    cfg: TransferStudyConfig, targets: dict[str, ImageData], quadrant: str, seed: int
) -> ImageData:
    """The training images one quadrant and seed trains on: cfg.small (small) or cfg.large
    (large; None: all) images of each class, drawn with `seed`."""
    size, kind = quadrant.split(" + ")
    per = cfg.small if size == "small" else cfg.large
    return targets[kind] if per is None else per_class_subset(targets[kind], per, seed)


def _train_args(cfg: TransferStudyConfig, small: bool) -> dict[str, Any]:
    return {"lr": cfg.lr, "batch_size": cfg.small_batch_size if small else cfg.batch_size,
            "train_size": cfg.train_size}  # fmt: skip


def repilot(
    result: TransferStudyResult,
    epochs: int = 3,
    fraction: float = 0.75,
    folds: int = 1,
    data: ImageData | None = None,
    different: ImageData | None = None,
    backbone: Any = None,
    log: Callable[[str], None] = lambda s: None,
) -> TransferStudyResult:
    """The study's pilots run again with other settings (epochs, fraction, folds) on the same
    targets and seeds, scored against the full runs already in `result` (which are not
    retrained). `data`, `different` and `backbone` replace loading them, as in run().
    Returns a copy of `result` with the new pilots and their settings in its config."""
    import dataclasses

    from cnnlab.tasks.transfer.backbones import load_backbone

    cfg = dataclasses.replace(
        TransferStudyConfig(**result.config),
        pilot=True, pilot_epochs=epochs, pilot_fraction=fraction, pilot_folds=folds,
    )  # fmt: skip
    backbone = (backbone if backbone is not None else load_backbone(result.backbone)).at(
        cfg.image_size
    )
    data = data if data is not None else load_dataset(cfg.data, seed=0)
    targets = study_targets(cfg, data, different)
    pilots = []
    for quadrant in [q.quadrant for q in result.quadrants]:
        log(f"{quadrant}:")
        seeds = sorted({r.seed for r in result.runs if r.quadrant == quadrant})
        for seed in seeds:
            target = quadrant_target(cfg, targets, quadrant, seed)
            args = _train_args(cfg, quadrant.startswith("small"))
            guide = result.info(quadrant).guide
            pilots.append(_pilot(cfg, backbone, target, quadrant, guide, seed, args, log))
    return dataclasses.replace(result, config=asdict(cfg), pilots=pilots)


def _diagnosis(
    cfg: TransferStudyConfig, backbone: Any, target: ImageData, source: ImageData | None,
    quadrant: str,
) -> QuadrantInfo:  # fmt: skip
    """The guide's measures for one target. Without source data the similarity cannot be
    measured: the guide's choice is then the lecture's rule for the quadrant built."""
    size, kind = quadrant.split(" + ")
    expected = GUIDE[(size, kind == "similar")]
    d = diagnose(
        backbone, target, source, small_below=cfg.small_below, similar_below=SIMILAR_BELOW,
        n=cfg.similarity_n,
    )  # fmt: skip
    sim = d.similarity
    return QuadrantInfo(
        quadrant=quadrant, target=target.name, images_per_class=d.images_per_class,
        measured=d.quadrant, proxy_a_distance=sim.proxy_a_distance if sim else math.nan,
        feature_gap=sim.feature_gap if sim else math.nan,
        guide=d.strategy if sim else expected, expected=expected,
    )  # fmt: skip


def _pilot(
    cfg: TransferStudyConfig, backbone: Any, target: ImageData, quadrant: str, guide: str,
    seed: int, train_args: dict[str, Any], log: Callable[[str], None],
) -> PilotCase:  # fmt: skip
    from cnnlab.tasks.transfer.pilot import run_pilot

    p = run_pilot(backbone, target, guide, epochs=cfg.pilot_epochs, fraction=cfg.pilot_fraction,
                  strategies=list(cfg.strategy_list), seed=seed, folds=cfg.pilot_folds,
                  **train_args)  # fmt: skip
    accs = {r.strategy: r.accuracy for r in p.rows}
    log(f"  pilot seed {seed}: " + ", ".join(f"{k} {v:.0%}" for k, v in accs.items())
        + f" -> {p.winner}")  # fmt: skip
    return PilotCase(quadrant, seed, p.winner, accs, sum(r.seconds for r in p.rows))
