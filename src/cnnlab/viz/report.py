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
NO_VALUE = "—"


@dataclass
class Table:
    """A table: header names and rows of cells (cells are shown with str, floats with .6g)."""

    headers: list[str]
    rows: list[list[str | float | int]]
    caption: str = ""

    def markdown(self) -> str:
        """The table as Markdown (table.md of studies, generated sections of docs/)."""
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "---|" * len(self.headers)]
        lines += ["| " + " | ".join(_cell(c)["text"] for c in row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"


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


def read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} is corrupt ({exc}); re-run the training or remove it") from None
    if not isinstance(data, dict):
        raise RunError(f"{path} does not hold a JSON object; it was not written by cnnlab")
    return data


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RunError(f"{path} is corrupt ({exc}); fix or remove it") from None
    return data if isinstance(data, dict) else {}


def read_metrics(path: Path) -> list[dict[str, float]]:
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


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def name_of(value: Any) -> str:
    """A config entry as a name: a string itself, or the `name` of a dict."""
    if isinstance(value, dict):
        return str(value.get("name", value.get("source", "")))
    return "" if value is None else str(value)


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return str(value)


def flatten(cfg: dict[str, Any], prefix: str = "") -> list[list[str | float | int]]:
    rows: list[list[str | float | int]] = []
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(flatten(value, prefix=f"{name}."))
        else:
            rows.append([name, "{}" if isinstance(value, dict) else value_text(value)])
    return rows


def figure(folder: Path, name: str, caption: str) -> list[Image]:
    path = folder / "figures" / name
    return [Image(caption, path.read_bytes())] if path.is_file() else []
