"""cnnlab predict / report: use a finished run folder."""

from __future__ import annotations

from typing import Any

from cnnlab.cli.common import console, parser_for


def register(sub: Any) -> dict:
    p = parser_for(help="top-k classes of image files (PNG/JPEG, any size and colour mode)")
    p.add_argument("run", type=str, help="run folder written by cnnlab train")
    p.add_argument("files", nargs="+", help="image files (or .npy arrays)")
    p.add_argument("--topk", type=int, default=3)
    sub.add_subcommand("predict", p, help="classify images with a trained run")
    r = parser_for(help="(re)write the HTML report of a run folder")
    r.add_argument("run", type=str)
    sub.add_subcommand("report", r, help="write runs/<name>/report.html")
    return {"predict": predict, "report": report}


def predict(ns: Any) -> int:
    from cnnlab.train.predict import predict as predict_api

    if ns.topk < 1:
        raise ValueError(f"topk must be >= 1, got {ns.topk}")
    for p in predict_api(ns.run, ns.files, topk=ns.topk):
        tops = "  ".join(f"{c} {prob:.1%}" for c, prob in p.top)
        console.print(f"{p.source}: {tops}", highlight=False)
    return 0


def report(ns: Any) -> int:
    from cnnlab.train.runs import read_meta
    from cnnlab.viz.report import run_report

    read_meta(ns.run)
    console.print(f"report: {run_report(ns.run)}")
    return 0
