"""The report of a classification run folder (report.html): summary, curves, per-class
metrics, the confusion matrix, the worst mistakes, inside the model, the configuration. Built
from the files of the run folder with the viz/report primitives."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cnnlab.core.errors import RunError
from cnnlab.tasks.classify.inside import report_parts
from cnnlab.viz.report import (
    NO_VALUE,
    Image,
    Section,
    Table,
    duration,
    figure,
    flatten,
    name_of,
    pct,
    read_json,
    read_metrics,
    read_yaml,
    write_report,
)

RUN_FIGURES = {
    "curves.png": "Training curves",
    "confusion.png": "Confusion matrix",
    "mistakes.png": "Worst mistakes",
    "input-example.png": "Inside the model",  # the input of its feature maps
}


def _summary(cfg: dict, meta: dict, results: dict | None, rows: list[dict]) -> Section:
    res = results or {}
    test = res.get("test", {})
    epochs = res.get("epochs_run", len(rows) or None)
    planned = cfg.get("epochs")
    best = res.get("best_epoch")
    if best is None and any("val/acc" in r for r in rows):
        best = max((r for r in rows if "val/acc" in r), key=lambda r: r["val/acc"]).get("epoch")
    seconds = res.get("train_time_s", rows[-1].get("time") if rows else None)
    params = res.get("parameters", meta.get("extra", {}).get("parameters"))
    epochs_text = NO_VALUE if epochs is None else str(int(epochs))
    if epochs is not None and isinstance(planned, int) and planned != int(epochs):
        epochs_text += f" of {planned} planned"
    table = Table(
        ["", "value"],
        [
            ["model", name_of(meta.get("model")) or name_of(cfg.get("model")) or NO_VALUE],
            ["parameters", NO_VALUE if params is None else f"{int(params):,}"],
            ["data source", res.get("data_source") or name_of(meta.get("data"))
             or name_of(cfg.get("data")) or NO_VALUE],
            ["epochs run", epochs_text],
            ["best epoch", NO_VALUE if best is None else str(int(best))],
            ["train time", NO_VALUE if seconds is None else duration(float(seconds))],
            ["test accuracy", pct(test["accuracy"]) if "accuracy" in test else NO_VALUE],
            ["test loss", f"{test['loss']:.4f}" if "loss" in test else NO_VALUE],
        ],
    )  # fmt: skip
    text = ""
    if results is None:
        text = (
            "This run has no test results yet (no results.json in the run folder): it is "
            "still training, was interrupted, or was never evaluated. The numbers below come "
            "from the training log only."
        )
    return Section("Summary", text, tables=[table])


def _curves(folder: Path, rows: list[dict[str, float]]) -> Section | None:
    images = figure(folder, "curves.png", "loss and accuracy per epoch (train and validation)")
    text = ""
    if rows:
        last = rows[-1]
        parts = [f"{k} {pct(v) if k.endswith('/acc') else f'{v:.4f}'}"
                 for k, v in last.items() if k.startswith(("train/", "val/"))]  # fmt: skip
        if parts:
            text = f"Last epoch ({int(last.get('epoch', len(rows)))}): " + ", ".join(parts) + "."
    if not images and not text:
        return None
    return Section("Training curves", text, images=images)


def _per_class(results: dict[str, Any]) -> Section | None:
    per_class = results.get("test", {}).get("per_class") or []
    if not per_class:
        return None
    rows: list[list[str | float | int]] = [
        [str(c["class"]), pct(c["precision"]), pct(c["recall"]), pct(c["f1"]),
         int(c["support"])]
        for c in per_class
    ]  # fmt: skip
    k = len(per_class)
    rows.append(
        ["macro average"]
        + [pct(sum(c[m] for c in per_class) / k) for m in ("precision", "recall", "f1")]
        + [sum(int(c["support"]) for c in per_class)]
    )
    caption = "on the test set; support = number of test samples of the class"
    table = Table(["class", "precision", "recall", "F1", "support"], rows, caption=caption)
    return Section("Per-class metrics", tables=[table])


def _mistakes(folder: Path, results: dict[str, Any]) -> Section | None:
    images = figure(folder, "mistakes.png", "the most confident wrong predictions on the test set")
    mistakes = results.get("mistakes") or []
    tables = []
    if mistakes:
        rows: list[list[str | float | int]] = [
            [int(m["index"]), str(m["true"]), str(m["pred"]), pct(m["confidence"])]
            for m in mistakes
        ]
        tables.append(Table(["test index", "true", "predicted", "confidence"], rows))
    if not images and not tables:
        if "mistakes" in results:
            return Section("Worst mistakes", "No mistakes on the test set.")
        return None
    return Section("Worst mistakes", tables=tables, images=images)


def _other_figures(folder: Path) -> Section | None:
    paths = sorted(p for p in (folder / "figures").glob("*.png") if p.name not in RUN_FIGURES)
    if not paths:
        return None
    images = [Image(re.sub(r"[_-]+", " ", p.stem), p.read_bytes()) for p in paths]
    return Section("Other figures", images=images)


def _inside(folder: Path) -> Section | None:
    """Learned first-layer kernels and the feature maps of the stored test image."""
    parts = report_parts(folder)
    if parts is None:  # no weights yet, or no conv layer (an MLP)
        return None
    text, images = parts
    return Section("Inside the model", text, images=[Image(c, png) for c, png in images])


GLOSSARY = [
    ("loss", "cross-entropy: how little probability the model gives the true class (0 is "
     "perfect; ln 10 = 2.30 is a uniform guess over 10 classes)"),
    ("train loss vs val loss", "the train loss is measured with label smoothing, on augmented "
     "images and over an epoch of changing weights; the val loss on plain images with the "
     "epoch's end weights. Train above val is therefore normal; val rising while train falls "
     "is overfitting"),
    ("label smoothing", "the target gives the true class 1 - s and spreads s over all classes, "
     "so the model is not pushed to infinite confidence; its loss cannot reach 0"),
    ("val / test", "validation images (held out of training) choose the best epoch; test "
     "images are looked at once, at the end: the test accuracy is the honest number"),
    ("best epoch", "the epoch with the lowest val loss; its weights are the ones saved"),
    ("precision / recall / F1", "of the images predicted as a class, the share that are it; "
     "of the images of a class, the share found; their harmonic mean"),
    ("confusion matrix", "row = true class, column = predicted class, each row as percentages"),
    ("img/s", "training images per second, augmentation and the optimizer step included"),
    ("bf16-mixed", "matrix products in bfloat16 (half the bits, faster on CPUs with AMX), "
     "weights and sums in float32"),
]  # fmt: skip


def _glossary() -> Section:
    return Section("Glossary", tables=[Table(["term", "meaning"], [list(r) for r in GLOSSARY])])


def run_report(folder: Path) -> Path:
    """Build `folder/report.html` from a training run folder and return its path.

    Reads config.yaml, metrics.csv, model.json, results.json, figures/*.png and, for the
    kernels and feature maps, the weights; missing parts are left out (without results.json
    the report says there are no test results).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder} is not a folder; give a run folder written by `cnnlab train`")
    cfg = read_yaml(folder / "config.yaml")
    meta = read_json(folder / "model.json") or {}
    results = read_json(folder / "results.json")
    rows = read_metrics(folder / "metrics.csv")
    res = results or {}

    confusion = figure(folder, "confusion.png", "rows = true class, each row normalised to 100%")
    config_section = (
        Section("Configuration", tables=[Table(["key", "value"], flatten(cfg))])
        if cfg
        else Section("Configuration", "No config.yaml in the run folder.")
    )
    sections = [
        _summary(cfg, meta, results, rows),
        _curves(folder, rows),
        _per_class(res),
        Section("Confusion matrix", images=confusion) if confusion else None,
        _mistakes(folder, res),
        _inside(folder),
        config_section,
        _other_figures(folder),
        _glossary(),
    ]
    model = name_of(meta.get("model")) or name_of(cfg.get("model"))
    data = res.get("data_source") or name_of(meta.get("data")) or name_of(cfg.get("data"))
    subtitle = " on ".join(x for x in (model, data) if x)
    return write_report(
        folder / "report.html",
        f"Run {folder.name}",
        [s for s in sections if s is not None],
        subtitle=subtitle,
    )
