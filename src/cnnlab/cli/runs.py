"""cnnlab predict / report: use a finished run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from cnnlab.cli.common import console, parser_for
from cnnlab.core.errors import ConfigError
from cnnlab.core.io import check_run_folder


def register(sub: Any) -> dict:
    p = parser_for(help="top-k classes of image files (PNG/JPEG, any size and colour mode)")
    p.add_argument("run", type=str, help="run folder (or last, last:PREFIX: the newest run)")
    p.add_argument("files", nargs="*", help="image files (or .npy arrays)")
    p.add_argument("--topk", type=int, default=3, help="how many classes to list per image")
    p.add_argument("--example", action="store_true",
                   help="predict the sample images that ship for the run's dataset")  # fmt: skip
    p.add_argument(
        "--invert", type=Literal["false", "true", "auto"], default="false",
        help="invert the images (true), or those whose background is the opposite of the "
        "training images' (auto: a dark shoe photographed on white paper)",
    )  # fmt: skip
    p.add_argument(
        "--out", type=str | None, default=None,
        help="segmentation runs: where to write the mask (default FILE-mask.png / .nii.gz)",
    )  # fmt: skip
    sub.add_subcommand("predict", p, help="classify images with a trained run")
    r = parser_for(help="(re)write the HTML report of a run folder")
    r.add_argument("run", type=str, help="run folder (or last, last:PREFIX: the newest run)")
    sub.add_subcommand("report", r, help="write runs/<name>/report.html")
    return {"predict": predict, "report": report}


def predict(ns: Any) -> int:
    files = list(ns.files) + (_examples(Path(ns.run)) if ns.example else [])
    if not files:
        raise ConfigError("give image files to predict, or --example for the sample images")
    _check_order(ns.run, files)
    check_run_folder(Path(ns.run))  # before torch is imported: a wrong path answers at once
    task = _task_of(ns.run)
    for line in task.predict(Path(ns.run), files, topk=ns.topk, out=ns.out, invert=ns.invert):
        console.print(line, highlight=False)
    return 0


def _examples(run: Path) -> list[str]:
    """The shipped sample images for the dataset the run was trained on."""
    from cnnlab.data.examples import EXAMPLES, examples_for
    from cnnlab.engine.runs import read_config

    data = str(read_config(run).get("data", ""))
    found = examples_for(Path(data).name if "/" in data else data)
    if not found:
        have = sorted({e.dataset for e in EXAMPLES})
        raise ConfigError(
            f"no sample images for {run}'s data {data!r}; they exist for {', '.join(have)}. "
            "Give your own image files instead"
        )
    return [str(e.path) for e in found]


def _check_order(run: str, files: list[str]) -> None:
    """The run folder comes first: `cnnlab predict IMAGE RUN` is said to be swapped."""
    from cnnlab.core.io import is_run

    folders = [f for f in files if is_run(Path(f))]
    if Path(run).is_file() and folders:
        raise ConfigError(
            f"the run folder comes first: cnnlab predict {folders[0]} {run} (you gave the "
            "image first)"
        )


def _task_of(run: str | Path) -> Any:
    """The Task class of a run folder, by its model.json."""
    from cnnlab.engine.runs import read_meta
    from cnnlab.tasks import TASKS

    return TASKS.get(read_meta(Path(run)).task).factory


def report(ns: Any) -> int:
    check_run_folder(Path(ns.run))
    console.print(f"report: {_task_of(ns.run).report(Path(ns.run))}")
    return 0
