"""Self-contained HTML reports (inline CSS, PNGs as data: URIs, no CDN) and the run report."""

from __future__ import annotations

import base64
import csv
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader

from cnnlab.core.errors import RunError
from cnnlab.core.io import atomic_write

TEMPLATE = "report.html.j2"
RUN_FIGURES = {
    "curves.png": "Training curves",
    "confusion.png": "Confusion matrix",
    "mistakes.png": "Worst mistakes",
    "input-example.png": "Inside the model",  # the input of its feature maps
}
NO_VALUE = "—"


@dataclass
class Table:
    """A table: header names and rows of cells (cells are shown with str, floats with .6g)."""

    headers: list[str]
    rows: list[list[str | float | int]]
    caption: str = ""


@dataclass
class Image:
    """A PNG image with a caption, embedded in the page as a data: URI."""

    caption: str
    png: bytes


@dataclass
class Section:
    """One titled part of a report; `text` is plain text, paragraphs split by blank lines."""

    title: str
    text: str = ""
    tables: list[Table] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)


def _cell(value: str | float | int) -> dict[str, Any]:
    num = isinstance(value, int | float) and not isinstance(value, bool)
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return {"text": text, "num": num}


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def _version() -> str:
    try:
        return version("cnnlab")
    except PackageNotFoundError:
        return ""


def render_report(title: str, sections: list[Section], subtitle: str = "") -> str:
    """The whole report as one HTML string; all text is escaped, images are inlined."""
    env = Environment(
        loader=PackageLoader("cnnlab.viz", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    view = [
        {
            "title": s.title,
            "anchor": f"section-{i}",
            "paragraphs": _paragraphs(s.text),
            "tables": [
                {
                    "headers": t.headers,
                    "caption": t.caption,
                    "rows": [[_cell(c) for c in row] for row in t.rows],
                }
                for t in s.tables
            ],
            "images": [
                {"caption": im.caption, "b64": base64.b64encode(im.png).decode("ascii")}
                for im in s.images
            ],
        }
        for i, s in enumerate(sections, start=1)
    ]
    return env.get_template(TEMPLATE).render(
        title=title,
        subtitle=subtitle,
        sections=view,
        version=_version(),
        timestamp=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
    )


def write_report(path: Path, title: str, sections: list[Section], subtitle: str = "") -> Path:
    """Render the report and write it to `path` atomically."""
    path = Path(path)
    atomic_write(path, render_report(title, sections, subtitle))
    return path


# ---- the report of one training run folder ------------------------------------------------


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} is corrupt ({exc}); re-run the training or remove it") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} does not hold a JSON object; it was not written by cnnlab")
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RunError(f"{path} is corrupt ({exc}); fix or remove it") from None
    return data if isinstance(data, dict) else {}


def _read_metrics(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as f:
        for raw in csv.DictReader(f):
            row = {}
            for key, value in raw.items():
                try:
                    row[key] = float(value)
                except (TypeError, ValueError):
                    continue  # empty cells: the metric was not logged that epoch
            rows.append(row)
    return rows


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def _name(value: Any) -> str:
    """A config entry as a name: a string itself, or the `name` of a dict."""
    if isinstance(value, dict):
        return str(value.get("name", value.get("source", "")))
    return "" if value is None else str(value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _flatten(cfg: dict[str, Any], prefix: str = "") -> list[list[str | float | int]]:
    rows: list[list[str | float | int]] = []
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(_flatten(value, prefix=f"{name}."))
        else:
            rows.append([name, "{}" if isinstance(value, dict) else _value(value)])
    return rows


def _figure(folder: Path, name: str, caption: str) -> list[Image]:
    path = folder / "figures" / name
    return [Image(caption, path.read_bytes())] if path.is_file() else []


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
            ["model", _name(meta.get("model")) or _name(cfg.get("model")) or NO_VALUE],
            ["parameters", NO_VALUE if params is None else f"{int(params):,}"],
            ["data source", res.get("data_source") or _name(meta.get("data"))
             or _name(cfg.get("data")) or NO_VALUE],
            ["epochs run", epochs_text],
            ["best epoch", NO_VALUE if best is None else str(int(best))],
            ["train time", NO_VALUE if seconds is None else _duration(float(seconds))],
            ["test accuracy", _pct(test["accuracy"]) if "accuracy" in test else NO_VALUE],
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
    images = _figure(folder, "curves.png", "loss and accuracy per epoch (train and validation)")
    text = ""
    if rows:
        last = rows[-1]
        parts = [f"{k} {_pct(v) if k.endswith('/acc') else f'{v:.4f}'}"
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
        [str(c["class"]), _pct(c["precision"]), _pct(c["recall"]), _pct(c["f1"]),
         int(c["support"])]
        for c in per_class
    ]  # fmt: skip
    k = len(per_class)
    rows.append(
        ["macro average"]
        + [_pct(sum(c[m] for c in per_class) / k) for m in ("precision", "recall", "f1")]
        + [sum(int(c["support"]) for c in per_class)]
    )
    caption = "on the test set; support = number of test samples of the class"
    table = Table(["class", "precision", "recall", "F1", "support"], rows, caption=caption)
    return Section("Per-class metrics", tables=[table])


def _mistakes(folder: Path, results: dict[str, Any]) -> Section | None:
    images = _figure(folder, "mistakes.png", "the most confident wrong predictions on the test set")
    mistakes = results.get("mistakes") or []
    tables = []
    if mistakes:
        rows: list[list[str | float | int]] = [
            [int(m["index"]), str(m["true"]), str(m["pred"]), _pct(m["confidence"])]
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
    from cnnlab.viz.inside import report_parts

    parts = report_parts(folder)
    if parts is None:  # no weights yet, or no conv layer (an MLP)
        return None
    text, images = parts
    return Section("Inside the model", text, images=[Image(c, png) for c, png in images])


def run_report(folder: Path) -> Path:
    """Build `folder/report.html` from a training run folder and return its path.

    Reads config.yaml, metrics.csv, model.json, results.json, figures/*.png and, for the
    kernels and feature maps, the weights; missing parts are left out (without results.json
    the report says there are no test results).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder} is not a folder; give a run folder written by `cnnlab train`")
    cfg = _read_yaml(folder / "config.yaml")
    meta = _read_json(folder / "model.json") or {}
    results = _read_json(folder / "results.json")
    rows = _read_metrics(folder / "metrics.csv")
    res = results or {}

    confusion = _figure(folder, "confusion.png", "rows = true class, each row normalised to 100%")
    config_section = (
        Section("Configuration", tables=[Table(["key", "value"], _flatten(cfg))])
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
    ]
    model = _name(meta.get("model")) or _name(cfg.get("model"))
    data = res.get("data_source") or _name(meta.get("data")) or _name(cfg.get("data"))
    subtitle = " on ".join(x for x in (model, data) if x)
    return write_report(
        folder / "report.html",
        f"Run {folder.name}",
        [s for s in sections if s is not None],
        subtitle=subtitle,
    )
