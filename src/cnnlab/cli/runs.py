"""cnnlab predict / report: use a finished run folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from cnnlab.cli.common import console, parser_for
from cnnlab.core.errors import ConfigError
from cnnlab.core.io import check_run_folder


def register(sub: Any) -> dict:
    p = parser_for(help="a trained run on files: top-k classes (classifiers, text, keywords), a "
                   "mask (segmentation), a reconstruction (autoencoders)")  # fmt: skip
    p.add_argument("run", type=str, help="run folder (or last, last:PREFIX: the newest run), or "
                   "a classifier exported by cnnlab export (MODEL.onnx)")  # fmt: skip
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
    p.add_argument(
        "--noise", type=str | None, default=None,
        help="autoencoder runs: corrupt the input first (SIGMA, gaussian:SIGMA, "
        "salt-pepper:AMOUNT; default: the run's training noise; none: feed it as it is)",
    )  # fmt: skip
    p.add_argument("--text", type=str, action="append", default=None,
                   help="text runs: a text to classify (repeatable)")  # fmt: skip
    p.add_argument(
        "--runtime", type=Literal["auto", "onnxruntime", "torch"], default="auto",
        help="what runs a classifier: onnxruntime on RUN/model.onnx (auto: when onnxruntime is "
        "installed; the file is exported on first use and again after the weights change), "
        "or PyTorch",
    )  # fmt: skip
    sub.add_subcommand("predict", p, help="use a trained run on your files (classes, masks, "
                       "reconstructions)")  # fmt: skip
    r = parser_for(help="(re)write the HTML report of a run folder")
    r.add_argument("run", type=str, help="run folder (or last, last:PREFIX: the newest run)")
    sub.add_subcommand("report", r, help="write runs/<name>/report.html")
    return {"predict": predict, "report": report}


def predict(ns: Any) -> int:
    if ns.topk < 1:
        raise ConfigError(f"--topk must be >= 1, got {ns.topk}")
    if ns.run.lower().endswith(".onnx"):  # an exported model: onnxruntime, no torch
        return _predict_onnx(ns, Path(ns.run), list(ns.files))
    _check_order(ns.run, list(ns.files))
    run = check_run_folder(Path(ns.run))  # before torch is imported: a wrong path answers at once
    kind = _run_task(run)
    if ns.text or kind == "text":
        return _predict_text(ns, run)
    if kind == "keywords":
        return _predict_sound(ns, run)
    no_sound(run, kind, list(ns.files))
    files = list(ns.files) + (_examples(run) if ns.example else [])
    if not files:
        raise ConfigError("give image files to predict, or --example for the sample images")
    if ns.noise is not None and kind != "autoencode":
        raise ConfigError(f"--noise is for autoencoder runs; {run} is a {kind or 'image'} run")
    onnx = _onnx_for(run, ns, files, kind)
    if onnx is not None:
        return _predict_onnx(ns, onnx, files, examples=False)
    task = _task_of(run)
    options = {"noise": ns.noise} if ns.noise is not None else {}
    for line in task.predict(run, files, topk=ns.topk, out=ns.out, invert=ns.invert, **options):
        console.print(line, highlight=False)
    return 0


def _run_task(run: Path) -> str | None:
    """The task named in a run's model.json, read without torch (None when unreadable)."""
    import json

    try:
        return json.loads((run / "model.json").read_text()).get("task")
    except (OSError, ValueError, AttributeError):
        return None  # a damaged model.json is reported by the task's own loading


def no_sound(run: Path, kind: str | None, files: list[str]) -> None:
    from cnnlab.data.wav import is_sound_file

    sound = [f for f in files if is_sound_file(f)]
    if sound:
        raise ConfigError(f"{sound[0]} is a sound file and {run} is a {kind or 'image'} run: "
                          "sound files go to keyword runs (cnnlab keywords)")  # fmt: skip


def _predict_sound(ns: Any, run: Path) -> int:
    from cnnlab.tasks.keywords.saved import example_clips, predict_lines

    files = list(ns.files) + (example_clips(run) if ns.example else [])
    for line in predict_lines(run, files, ns.topk):
        console.print(line, highlight=False, markup=False)
    return 0


def _predict_text(ns: Any, run: Path) -> int:
    task = _task_of(run)
    if task.name != "text":
        raise ConfigError(f"--text is for text runs; {run} is a {task.name} run: give image files")
    for line in task.predict(run, list(ns.files), topk=ns.topk, text=ns.text):
        console.print(line, highlight=False, markup=False)
    return 0


def _not_a_classifier(ns: Any) -> None:
    """None (predict uses PyTorch), or one line when --runtime onnxruntime was asked for."""
    if ns.runtime == "onnxruntime":
        raise ConfigError("--runtime onnxruntime is for classifier runs; this run's predict "
                          "uses PyTorch (leave --runtime out)")  # fmt: skip


def _onnx_for(run: Path, ns: Any, files: list[str], kind: str | None = None) -> Path | None:
    """The ONNX file that predicts for classifier run `run`: RUN/model.onnx when it is newer
    than the weights (no torch is imported then), else exported now; None: use PyTorch.
    `kind`, the task read from model.json, keeps another task's export (a segmentation or
    autoencoder model.onnx from `cnnlab export`) out of the classifier's path."""
    from cnnlab.export.onnx_predict import fresh_export, has_onnxruntime

    if ns.runtime == "torch":
        return None
    if kind not in ("classify", "transfer", None):
        return _not_a_classifier(ns)
    if not has_onnxruntime():
        if ns.runtime == "onnxruntime":
            raise ConfigError("--runtime onnxruntime: onnxruntime is not installed; "
                              "pip install 'cnnlab[export]'")  # fmt: skip
        return None
    found = fresh_export(run)
    if found is not None:
        return found
    from cnnlab.engine.runs import read_meta

    meta = read_meta(run)
    if meta.task != "classify":
        return _not_a_classifier(ns)
    from cnnlab.export.onnx_export import export_for_predict
    from cnnlab.tasks.classify.inputs import prepare

    prepare(files, meta, ns.invert)  # a bad input is refused before anything is written
    path, message = export_for_predict(run)
    print(message, file=sys.stderr)  # stdout stays one line per input, for scripts
    return path


def _predict_onnx(ns: Any, model: Path, files: list[str], examples: bool = True) -> int:
    from cnnlab.export.onnx_predict import load_onnx, predict_onnx

    if ns.example and examples:
        files += _examples(model, load_onnx(model)[1].dataset)
    if not files:
        raise ConfigError("give image files to predict, or --example for the sample images")
    for p in predict_onnx(model, files, topk=ns.topk, invert=ns.invert):
        console.print(f"{p.source}: " + "  ".join(f"{c} {prob:.1%}" for c, prob in p.top),
                      highlight=False)  # fmt: skip
        for note in p.notes:
            console.print(f"  note: {note}", highlight=False)
    return 0


def _examples(run: Path, data: str | None = None) -> list[str]:
    """The shipped sample images for the dataset the run (or exported model) was trained on."""
    from cnnlab.data.examples import EXAMPLES, examples_for

    if data is None:
        from cnnlab.core.io import read_config

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
