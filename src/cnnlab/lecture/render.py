"""The book's index.html: every built section in the lecture's order, its figures referenced
from its own folder (the book folder is the book: no network, nothing from a CDN)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader

from cnnlab.core.version import VERSION
from cnnlab.viz.report import duration

TITLE = "Deep Learning: Convolutional Neural Networks, measured on this machine"


def machine() -> str:
    from cnnlab.engine.precision import cpu_model

    return f"{cpu_model()}, {os.cpu_count()} cores"


def section_view(section: Any, outcome: Any) -> dict[str, Any]:
    """What the template (and the web app's Lecture tab) shows of one section."""
    return {
        "key": section.key,
        "title": section.title,
        "part": section.part,
        "point": section.point,
        "claim": section.claim,
        "live": section.live,
        "measured": outcome.measured,
        "verdict": outcome.verdict,
        "because": outcome.because,
        "error": outcome.error,
        "commands": outcome.commands,
        "notes": outcome.notes,
        "tables": outcome.tables,
        "seconds": duration(outcome.seconds),
        "figures": [
            {"src": f"sections/{section.key}/{f}", "caption": c} for f, c in outcome.figures
        ],
    }


def render_book(built: dict[str, tuple[Any, Any]], level: str, missing: list[str]) -> str:
    """The book as one HTML string; `built`: key -> (Section, Outcome), in the lecture's
    order; `missing`: the titles of the sections not built yet, listed at the end."""
    env = Environment(
        loader=PackageLoader("cnnlab.lecture", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    views = [section_view(s, o) for s, o in built.values()]
    parts: list[dict[str, Any]] = []
    for v in views:
        if not parts or parts[-1]["name"] != v["part"]:
            parts.append({"name": v["part"], "sections": []})
        parts[-1]["sections"].append(v)
    held = sum(v["verdict"] == "holds" and not v["error"] for v in views)
    differs = sum(v["verdict"] == "differs" and not v["error"] for v in views)
    subtitle = (
        f"{len(views)} sections built ({level}): the lecture's claim holds in {held}, "
        f"differs in {differs}; every figure below was produced on this machine by the "
        "command shown above it."
    )
    return env.get_template("book.html.j2").render(
        title=TITLE,
        subtitle=subtitle,
        parts=parts,
        sections=views,
        level=level,
        missing=missing,
        version=VERSION,
        machine=machine(),
        timestamp=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    )
