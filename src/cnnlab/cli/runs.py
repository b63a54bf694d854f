"""cnnlab predict / report: use a finished run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnlab.cli.common import console, parser_for


def register(sub: Any) -> dict:
    p = parser_for(help="top-k classes of image files (PNG/JPEG, any size and colour mode)")
    p.add_argument("run", type=str, help="run folder written by cnnlab train")
    p.add_argument("files", nargs="+", help="image files (or .npy arrays)")
    p.add_argument("--topk", type=int, default=3)
    p.add_argument(
        "--out", type=str | None, default=None,
        help="segmentation runs: where to write the mask (default FILE-mask.png / .nii.gz)",
    )  # fmt: skip
    sub.add_subcommand("predict", p, help="classify images with a trained run")
    r = parser_for(help="(re)write the HTML report of a run folder")
    r.add_argument("run", type=str)
    sub.add_subcommand("report", r, help="write runs/<name>/report.html")
    return {"predict": predict, "report": report}


def predict(ns: Any) -> int:
    from cnnlab.engine.runs import read_meta
    from cnnlab.tasks.classify.predict import predict as predict_api

    if read_meta(ns.run).task == "segment":
        return predict_masks(ns)

    if ns.topk < 1:
        raise ValueError(f"topk must be >= 1, got {ns.topk}")
    for p in predict_api(ns.run, ns.files, topk=ns.topk):
        tops = "  ".join(f"{c} {prob:.1%}" for c, prob in p.top)
        console.print(f"{p.source}: {tops}", highlight=False)
    return 0


def predict_masks(ns: Any) -> int:
    """A segmentation run: one mask file per input (sliding windows for large inputs)."""
    from cnnlab.core.errors import ConfigError
    from cnnlab.engine.runs import load_model
    from cnnlab.tasks.segment.predict import predict_mask

    if ns.out is not None and len(ns.files) > 1:
        raise ConfigError("--out names one output file; give one input FILE or leave --out out")
    model = load_model(ns.run)
    for f in ns.files:
        p = predict_mask(model, f, out=ns.out)
        for note in p.notes:
            console.print(note, highlight=False)
        shape = "x".join(str(s) for s in p.shape)
        how = "sliding windows" if p.windowed else "one pass"
        top = ", ".join(f"{c} {n / sum(p.counts.values()):.1%}" for c, n in p.counts.items())
        extra = f" (overlay {p.overlay})" if p.overlay else ""
        console.print(f"{p.source} ({shape}, {how}) -> {p.mask}{extra}: {top}", highlight=False)
    return 0


def report(ns: Any) -> int:
    from cnnlab.engine.runs import read_meta
    from cnnlab.tasks import TASKS

    task = read_meta(ns.run).task
    # a transfer run is a classifier: its report is the classifier's
    entry = TASKS.get("classify" if task == "transfer" else task)
    console.print(f"report: {entry.factory.report(Path(ns.run))}")
    return 0
