"""cnnlab transfer: place a target in the guide's four cases, name the strategy, and run it."""

from __future__ import annotations

from typing import Any, Literal

from cnnlab.cli.common import console, parser_for, table
from cnnlab.core.errors import ConfigError, DataError
from cnnlab.core.io import check_name
from cnnlab.core.registry import did_you_mean

# the pilot's defaults, as tasks.transfer.pilot's FOLDS and FRACTION (written here so that the
# command line starts without torch): 4 folds, measured in docs/transfer.md ("The pilot,
# cross-validated"); one split: 75 % of each class trains
PILOT_FOLDS, PILOT_FRACTION = 4, 0.75


def register(sub: Any) -> dict:
    p = parser_for(
        help="measure which of the transfer guide's four cases a target is in (small/large x "
        "similar/different to the backbone's data), then train the strategy it names"
    )
    p.add_argument(
        "--from",
        type=str,
        required=True,
        help="RUN folder, imagenet:efficientnet-lite0 (offline) or torchvision:NAME",
    )
    p.add_argument("--data", type=str, required=True, help="target dataset name or folder")
    p.add_argument(
        "--classes",
        type=str | None,
        default=None,
        help="keep these target classes only, e.g. 5,6,7,8,9",
    )
    p.add_argument(
        "--strategy",
        type=str,
        default="auto",
        help="auto (the guide's choice), head, early, finetune or retrain",
    )
    p.add_argument("--explain", action="store_true", help="stop after the diagnosis")
    p.add_argument(
        "--pilot",
        action="store_true",
        help="try every strategy on a small budget first, scored on the training images by "
        "cross-validation (--pilot_folds), then train the winner in full; says where it "
        "differs from the guide",
    )
    p.add_argument("--pilot_epochs", type=int, default=3, help="epochs of each pilot run")
    p.add_argument(
        "--pilot_fraction",
        type=float | None,
        default=None,
        help="with --pilot_folds 1: share of each class's training images the pilot trains on, "
        "the rest scores it (default 0.75)",
    )
    p.add_argument(
        "--pilot_folds",
        type=int,
        default=PILOT_FOLDS,
        help=f"k >= 2: k-fold cross-validation, every training image scored once (default "
        f"{PILOT_FOLDS}; about {PILOT_FOLDS - 1} times the cost of one split); 1: one held-out "
        "part (see --pilot_fraction)",
    )
    p.add_argument(
        "--source",
        type=str | None,
        default=None,
        help="the backbone's source data (default: a run's own, from its config)",
    )
    p.add_argument("--epochs", type=int, default=5, help="passes over the target's training set")
    p.add_argument("--lr", type=float, default=3e-3, help="learning rate of the new head")
    p.add_argument("--batch_size", type=int, default=32, help="images per step")
    p.add_argument("--cut", type=str | None, default=None, help="block to cut after (early)")
    p.add_argument(
        "--train_limit",
        type=int | None,
        default=None,
        help="keep this many target training images (class-balanced)",
    )
    p.add_argument(
        "--image_size",
        type=int | None,
        default=None,
        help="resize images for the backbone to this side (torchvision: 224)",
    )
    p.add_argument(
        "--train_size",
        type=int | None,
        default=None,
        help="finetune and retrain: resize to this side instead (they run the backbone "
        "backward on every step; default: --image_size, an ImageNet network: 128)",
    )
    p.add_argument("--grid", type=int, default=4, help="early: pool its map to grid x grid")
    p.add_argument("--runs_dir", type=str, default="runs", help="where the run folder goes")
    p.add_argument("--name", type=str | None, default=None, help="run folder name")
    p.add_argument("--save", type=bool, default=True, help="write the trained model as a run")
    p.add_argument("--devices", type=int, default=1, help="processes (CPU) or GPUs: DDP when > 1")
    p.add_argument("--num_nodes", type=int, default=1, help="machines taking part")
    p.add_argument("--accelerator", type=str, default="auto", help="auto, cpu, cuda")
    p.add_argument("--precision", type=Literal["auto", "32", "bf16"], default="32",
                   help="32, bf16 or auto")  # fmt: skip
    p.add_argument(
        "--seed", type=int, default=0, help="seeds the split, the similarity measure and training"
    )
    p.add_argument(
        "--weights", type=str | None, default=None, help="torchvision weights file, or 'random'"
    )
    sub.add_subcommand("transfer", p, help="diagnose the transfer case and run its strategy")
    return {"transfer": run_transfer}


def _classes(text: str) -> list[int]:
    try:
        return [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise ConfigError(f"--classes must be indices like 5,6,7, got {text!r}") from None


def _limit(data: Any, train_limit: int) -> Any:
    """The first train_limit // classes training images of each class (the split is already
    shuffled). Shapes: as `data`."""
    from cnnlab.data.images import first_per_class

    if train_limit < data.num_classes:
        raise ValueError(f"--train_limit must be >= {data.num_classes}, got {train_limit}")
    return first_per_class(data, "train", train_limit // data.num_classes)


def _target(ns: Any) -> Any:
    """The target data: --data, its --classes only (relabelled), --train_limit of them."""
    from cnnlab.data import load_dataset
    from cnnlab.tasks.transfer import select_classes

    if ns.classes:  # the limit counts the kept classes' images only
        target = select_classes(load_dataset(ns.data, seed=ns.seed), _classes(ns.classes))
        return _limit(target, ns.train_limit) if ns.train_limit is not None else target
    return load_dataset(ns.data, train_limit=ns.train_limit, seed=ns.seed)


def _diagnose(ns: Any, backbone: Any, target: Any) -> Any:
    """Place the target in the guide's four cases and print the measures behind it."""
    from cnnlab.data import load_dataset
    from cnnlab.tasks.transfer.guide import diagnose
    from cnnlab.tasks.transfer.similarity import source_data

    spec, source, note = ns["from"], None, ""
    if ns.source is not None:
        source = load_dataset(ns.source, seed=ns.seed)
    elif not spec.startswith(("torchvision:", "imagenet:")):
        try:
            source = source_data(spec)
        except DataError as exc:  # the run's data moved: still usable, by size only
            note = f"source data not found ({exc}); size-only rule"
    else:
        note = "no source data for an ImageNet backbone (give --source DATA); size-only rule"
    d = diagnose(backbone, target, source, seed=ns.seed)
    sim = d.similarity
    rows = [
        ["backbone", backbone.source],
        ["target", f"{target.name}: {target.num_classes} classes, {len(target.train_y)} train"],
        ["images per class", f"{d.images_per_class} -> {d.size}"],
        ["proxy A-distance", "-" if sim is None else f"{sim.proxy_a_distance:.2f}"],
        ["feature gap", "-" if sim is None else f"{sim.feature_gap:.2f}"],
        ["quadrant", d.quadrant],
        ["strategy (guide)", d.strategy],
    ]
    console.print(table(["measure", "value"], rows, "which case am I in?", text=(1,)))
    if note:
        console.print(note)
    console.print(d.text())
    return d


def _train_size(ns: Any, spec: str) -> int | None:
    """The side finetune and retrain train at: --train_size; without it --image_size, or for
    an ImageNet network the measured default (imagenet.TRAIN_SIDE)."""
    from cnnlab.tasks.transfer.imagenet import TRAIN_SIDE, is_imagenet

    if ns.train_size is not None:
        if ns.train_size < 8:
            raise ValueError(f"--train_size must be >= 8, got {ns.train_size}")
        return ns.train_size
    return TRAIN_SIDE if is_imagenet(spec) and ns.image_size is None else None


def _pilot(ns: Any, backbone: Any, target: Any, guide: str, train_size: int | None) -> Any:
    """Every strategy on a small budget on the target's training images; prints the table
    and whether it agrees with the guide. Returns the PilotResult."""
    from cnnlab.tasks.transfer.pilot import run_pilot

    extra: dict[str, Any] = {"cut": ns.cut} if ns.cut is not None else {}
    fraction = PILOT_FRACTION if ns.pilot_fraction is None else ns.pilot_fraction
    part = (f"{fraction:.0%} of each class's training images" if ns.pilot_folds == 1
            else f"{ns.pilot_folds} folds of the training images")  # fmt: skip
    console.print(f"pilot: every strategy for {ns.pilot_epochs} epoch(s) on {part} ...")
    p = run_pilot(
        backbone, target, guide, epochs=ns.pilot_epochs, fraction=fraction,
        seed=ns.seed, lr=ns.lr, batch_size=ns.batch_size, precision=ns.precision, grid=ns.grid,
        train_size=train_size, folds=ns.pilot_folds, **extra,
    )  # fmt: skip
    rows = [[r.strategy + (" *" if r.strategy == guide else ""), f"{r.accuracy:.1%}",
             f"{r.seconds:.1f}", r.cut or "-"] for r in p.rows]  # fmt: skip
    each = f" in each of {p.folds} folds" if p.folds > 1 else ""
    title = (f"pilot: {p.train_images} images train{each}, {p.held_out} score "
             "(* the guide's choice)")  # fmt: skip
    console.print(table(["strategy", "held-out accuracy", "seconds", "cut"], rows, title))
    console.print(p.verdict())
    return p


def run_transfer(ns: Any) -> int:
    from cnnlab.engine.task import first_process
    from cnnlab.tasks.transfer import STRATEGIES, load_backbone, train_transfer
    from cnnlab.tasks.transfer.backbones import sized_for

    if not first_process():  # a DDP worker re-runs this command: only the first one prints
        console.quiet = True

    spec = ns["from"]
    strategy = ns.strategy
    if strategy != "auto" and strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown --strategy {strategy!r}{did_you_mean(strategy, STRATEGIES.names())}; "
            f"use auto, {', '.join(STRATEGIES.names())}"
        )
    if ns.name is not None:
        check_name(ns.name)
    for name in ("epochs", "devices", "num_nodes", "pilot_epochs", "pilot_folds"):  # first
        if ns[name] < 1:
            raise ValueError(f"--{name} must be >= 1, got {ns[name]}")
    if ns.pilot and strategy != "auto":
        raise ConfigError("--pilot chooses the strategy itself; leave --strategy out (or drop "
                          "--pilot to train the one you name)")  # fmt: skip
    if ns.pilot_fraction is not None:
        if ns.pilot_folds != 1:
            raise ConfigError(
                f"--pilot_fraction is for one held-out part: add --pilot_folds 1 "
                f"(with --pilot_folds {ns.pilot_folds} every fold scores in turn)"
            )
        if not 0.0 < ns.pilot_fraction < 1.0:
            raise ValueError(f"--pilot_fraction must be in (0, 1), got {ns.pilot_fraction}")
    train_size = _train_size(ns, spec)
    backbone = load_backbone(spec, weights=ns.weights, image_size=ns.image_size)
    if ns.cut is not None:  # an unknown cut fails before anything is measured or trained
        names = [n for n, _ in backbone.blocks()]
        if ns.cut not in names:
            raise ConfigError(f"unknown --cut {ns.cut!r}; the blocks are: {', '.join(names)}")
    target = _target(ns)
    d = _diagnose(ns, backbone, target)
    sim = d.similarity
    if ns.explain:
        return 0
    chosen = d.strategy if strategy == "auto" else strategy
    pilot = None
    if ns.pilot:
        pilot = _pilot(ns, backbone, target, d.strategy, train_size)
        chosen = pilot.winner
    backbone = sized_for(backbone, chosen, train_size)  # the saved run keeps this side
    if ns.cut is not None and chosen != "early":
        raise ConfigError(f"--cut applies to the early strategy only, not {chosen}")
    extra: dict[str, Any] = {"cut": ns.cut} if ns.cut is not None else {}
    if chosen == "early":
        extra["grid"] = ns.grid
    console.print(f"training {chosen} for {ns.epochs} epoch(s) ...")
    r = train_transfer(
        backbone,
        target,
        chosen,
        epochs=ns.epochs,
        lr=ns.lr,
        batch_size=ns.batch_size,
        seed=ns.seed,
        devices=ns.devices,
        num_nodes=ns.num_nodes,
        accelerator=ns.accelerator,
        precision=ns.precision,
        **extra,
    )
    if r.accuracy is None:  # not the first process: it trained its share, the first reports
        return 0
    cut = f" (cut after {r.cut})" if r.cut else ""
    if r.note:
        console.print(r.note)
    console.print(
        f"{r.strategy}{cut}: test accuracy {r.accuracy:.1%} on {len(target.test_y)} images, "
        f"trained in {r.train_time_s:.{1 if r.train_time_s >= 1 else 3}f} s"
    )
    if not ns.save:
        return 0
    from cnnlab.tasks.transfer.saved import save_transfer_run

    options = {k: v for k, v in ns.as_dict().items() if k != "config"}
    options["strategy_used"] = chosen
    facts = {
        "images_per_class": d.images_per_class,
        "size": d.size,
        "quadrant": d.quadrant,
        "strategy": d.strategy,
        "proxy_a_distance": None if sim is None else sim.proxy_a_distance,
        "feature_gap": None if sim is None else sim.feature_gap,
    }
    if pilot is not None:
        facts["pilot"] = pilot.to_dict()
    name = ns.name or f"transfer-{chosen}-{target.name}"
    folder = save_transfer_run(ns.runs_dir, name, backbone, target, r, options, facts, grid=ns.grid)
    console.print(f"run: {folder}  report: {folder / 'report.html'}")
    console.print(f"predict with: cnnlab predict {folder} IMAGE.png")
    return 0
