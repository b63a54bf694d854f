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
    for line in _task_of(ns.run).predict(Path(ns.run), ns.files, topk=ns.topk, out=ns.out):
        console.print(line, highlight=False)
    return 0


def _task_of(run: str | Path) -> Any:
    """The Task class of a run folder, by its model.json."""
    from cnnlab.engine.runs import read_meta
    from cnnlab.tasks import TASKS

    return TASKS.get(read_meta(Path(run)).task).factory


def report(ns: Any) -> int:
    console.print(f"report: {_task_of(ns.run).report(Path(ns.run))}")
    return 0
