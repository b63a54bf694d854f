"""The web app's Lecture tab: the book that `cnnlab lecture` built, read from its folder (each
section's outcome.json), and the one guard for the book's files (nothing outside the folder
is served).

    book("lecture")  -> {"built": True, "folder": "lecture", "sections": [...], "missing": [...]}
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

# The explainer's settings that show a section's slide (the numbers of the section's own
# `cnnlab explain` command); any other section with live="explainer" opens the default.
EXPLAINER = {"op": "conv", "size": 5, "kernel": 3, "stride": 1, "padding": 0, "dilation": 1,
             "channels": 1, "seed": 0}  # fmt: skip
EXPLAIN_FOR = {
    "conv-layer": {},
    "colour": {"channels": 3},
    "stride": {"size": 7, "stride": 2},
    "padding": {"padding": 1},
    "pooling": {"op": "max", "size": 6, "kernel": 2, "stride": 2},
}

# What a section's live="draw" / "text" / "audio" opens in the Try-a-model tab: a run of one
# of `tasks`, or, when there is none, the command that trains one.
TRY_FOR = {
    "draw": {
        "kind": "image model",
        "tasks": ["classify", "transfer"],
        "what": "draw a piece of clothing (or upload a picture) and see what an image model "
        "says, with every conv layer's feature maps",
        "command": "cnnlab train --model cnn-bn --epochs 3",
    },
    "text": {
        "kind": "text model",
        "tasks": ["text"],
        "what": "type a text and see the classes a text model gives it, each token coloured "
        "by its share",
        "command": "cnnlab text",
    },
    "audio": {
        "kind": "keyword model",
        "tasks": ["keywords"],
        "what": "give a keyword model a WAV file of one spoken word and see the words it "
        "hears, with the log-mel spectrogram",
        "command": "cnnlab keywords --model kws-cnn",
    },
}

# What /lecture/files/ serves: the book's pages, figures and records, nothing else.
SERVED = {".html", ".png", ".gif", ".jpg", ".jpeg", ".svg", ".webp", ".pdf", ".json", ".csv",
          ".log", ".txt"}  # fmt: skip


def live_with(key: str, live: str) -> dict[str, Any] | None:
    """How the page opens a section's live part: the explainer with settings, or the
    Try-a-model tab with the run tasks that fit and the command that trains one."""
    if live == "explainer":
        return {"tab": "explain", "settings": EXPLAINER | EXPLAIN_FOR.get(key, {})}
    if live in TRY_FOR:
        return {"tab": "try"} | TRY_FOR[live]
    return None


def book(folder: str | Path) -> dict[str, Any]:
    """The book in `folder` as the Lecture tab shows it: every built section (in the
    lecture's order) as `section_view` gives it, each figure with its URL under
    /lecture/files/ and the section's live part; the titles of the sections not built. A
    missing or empty folder is a book with nothing built (`built` false)."""
    from cnnlab.lecture.builder import built_outcomes, sections
    from cnnlab.lecture.render import section_view

    folder = Path(folder)
    found = built_outcomes(folder) if folder.is_dir() else {}
    views = []
    for section, outcome in found.values():
        v = section_view(section, outcome)
        for f in v["figures"]:
            f["url"] = "/lecture/files/" + f["src"]
        v["live_with"] = live_with(section.key, section.live)
        views.append(v)
    return {
        "built": bool(views),
        "folder": str(folder),
        "index": (folder / "index.html").is_file(),
        "sections": views,
        "missing": [s.title for s in sections() if s.key not in found],
    }


def resolve_file(folder: str | Path, name: str) -> Path | None:
    """The file `name` (a relative path such as sections/stride/conv-stride2.gif) inside the
    book's folder, or None: an absolute path, a `..`, a link or anything else that leads
    outside the folder, a kind of file the book does not hold, or no such file."""
    root = Path(folder).resolve()
    parts = PurePosixPath(name.replace("\\", "/"))
    if not name or parts.is_absolute() or ".." in parts.parts or ":" in name:
        return None
    path = (root / parts).resolve()
    if root not in path.parents or path.suffix.lower() not in SERVED or not path.is_file():
        return None
    return path
