"""cnnlab segment: train a segmentation model (U-Net / FCN, 2-D or 3-D) into a run folder."""

from __future__ import annotations

from typing import Any

from cnnlab.cli.common import config_from, console, given, parser_for, table
from cnnlab.tasks.segment.run import SegmentConfig

RESUMABLE = ("epochs", "progress", "patience", "max_time")


def register(sub: Any) -> dict:
    p = parser_for(
        SegmentConfig, "train a segmentation model; writes runs/<name>/ (see docs/segmentation.md)"
    )
    p.add_argument(
        "--resume", type=str | None, default=None,
        help="continue the run folder RUN (its config; --epochs may extend it)",
    )  # fmt: skip
    p.add_argument(
        "--stop_after", type=int | None, default=None,
        help="pause after this many epochs of this call; --resume continues",
    )  # fmt: skip
    sub.add_subcommand("segment", p, help="segment images or volumes (U-Net, FCN)")
    return {"segment": run}


def run(ns: Any) -> int:
    from cnnlab.tasks.segment.run import segment

    if ns.resume:
        # the saved config rules; only options typed now override it
        overrides = {k: v for k, v in ns.as_dict().items() if k in RESUMABLE and given(k)}
        result = segment(resume=ns.resume, stop_after=ns.stop_after, console=console, **overrides)
    else:
        cfg = config_from(ns, SegmentConfig)
        result = segment(cfg, stop_after=ns.stop_after, console=console)
    if not result.test:
        console.print(f"paused; continue with: cnnlab segment --resume {result.run_dir}")
        return 0
    t = result.test
    classes = [k[4:] for k in t if k.startswith("iou/")]

    def f(v: float) -> str:
        return "—" if v != v else f"{v:.3f}"

    rows = [[c, f(t[f"iou/{c}"]), f(t[f"dice/{c}"])] for c in classes]
    rows.append(["mean", f(t["miou"]), f(t["mdice"])])
    rows.append(["all background", f(t["baseline_miou"]), f(t["baseline_mdice"])])
    console.print(table(["class", "IoU", "Dice"], rows, title="test split"))
    console.print(
        f"mIoU {t['miou']:.3f}  mean Dice {t['mdice']:.3f}  pixel accuracy {t['pixel_acc']:.3f}"
        f"  ({result.train_time_s:.0f} s of training)",
        highlight=False,
    )
    console.print(f"report: {result.run_dir / 'report.html'}", highlight=False)
    return 0
