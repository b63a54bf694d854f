"""Building the book: which sections (chapters.SECTIONS, in the lecture's order), which of
them need to run (a kept outcome with a matching fingerprint is reused), running them, and
index.html. book.py holds the framework the section modules use; this module sits above them.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnnlab.core.errors import ConfigError
from cnnlab.core.io import atomic_write
from cnnlab.core.registry import did_you_mean
from cnnlab.core.version import VERSION
from cnnlab.lecture.book import (
    FORMAT,
    LEVELS,
    TINY,
    Outcome,
    Section,
    check_out,
    fingerprint,
    kept_outcome,
    run_section,
)


def sections() -> list[Section]:
    """Every section, in the lecture's order."""
    from cnnlab.lecture.chapters import SECTIONS

    return list(SECTIONS)


def select(names: Sequence[str] | None) -> list[Section]:
    """The sections named (all when None or empty), in the lecture's order; an unknown name
    fails in one line with the known ones."""
    every = sections()
    keys = [s.key for s in every]
    wanted = [n.strip() for name in names or [] for n in str(name).split(",") if n.strip()]
    for n in wanted:
        if n not in keys:
            raise ConfigError(
                f"unknown section {n!r}{did_you_mean(n, keys)}; the sections are {', '.join(keys)}"
            )
    return [s for s in every if not wanted or s.key in wanted]


@dataclass
class BuildResult:
    out: Path
    index: Path
    outcomes: dict[str, Outcome]
    built: list[str]  # sections run this time
    kept: list[str]  # sections reused from an earlier build
    seconds: float


def build(
    out: Path | str = "lecture",
    level: str = "quick",
    names: Sequence[str] | None = None,
    force: Sequence[str] | None = None,
    progress: Callable[[Section, int, int, float], None] | None = None,
    log: Callable[[str], None] = lambda s: None,
    runner: Callable[[list[str]], int] | None = None,
) -> BuildResult:
    """Build (or continue) the book in `out`: run the sections named (all by default) whose
    kept outcome is missing or stale, or named in `force`, then write index.html with every
    section built so far. `progress(section, done, total, seconds_left)` is called before
    each section runs; `runner` is cnnlab's `cnnlab.cli.main` (the sections run commands
    through it). Shapes: none (files)."""
    if level not in (*LEVELS, TINY):
        raise ConfigError(f"unknown --level {level!r}; use {' or '.join(LEVELS)}")
    chosen = select(names)
    forced = {s.key for s in select(force)} if force else set()
    shown_root = str(out).rstrip("/") or "."
    out = Path(out)
    if check_out(out):
        log(f"{out} was built by another cnnlab version or book format: rebuilding every section")
        shutil.rmtree(out / "sections", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    book = out.resolve()
    atomic_write(out / "book.json", json.dumps({"format": FORMAT, "cnnlab": VERSION}))
    t0 = time.perf_counter()
    outcomes: dict[str, Outcome] = {}
    todo: list[Section] = []
    kept: list[str] = []
    for s in chosen:
        old = (
            None
            if s.key in forced
            else kept_outcome(book / "sections" / s.key, fingerprint(s, level))
        )
        if old is None:
            todo.append(s)
        else:
            outcomes[s.key] = old
            kept.append(s.key)
    col = 1 if level == "full" else 0
    left = sum(s.seconds[col] for s in todo)
    for i, s in enumerate(todo):
        if progress is not None:
            progress(s, i, len(todo), left)
        outcomes[s.key] = run_section(s, book, shown_root, level, runner)
        left -= s.seconds[col]
        write_index(out, level)  # a stopped build still leaves a readable book
    index = write_index(out, level)
    return BuildResult(out, index, outcomes, [s.key for s in todo], kept, time.perf_counter() - t0)


def built_outcomes(out: Path) -> dict[str, tuple[Section, Outcome]]:
    """Every section of the book in `out` that has an outcome, in the lecture's order."""
    found = {}
    for s in sections():
        path = Path(out) / "sections" / s.key / "outcome.json"
        try:
            found[s.key] = (s, Outcome(**json.loads(path.read_text())["outcome"]))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return found


def write_index(out: Path, level: str) -> Path:
    from cnnlab.lecture.render import render_book

    path = Path(out) / "index.html"
    built = built_outcomes(out)
    missing = [s.title for s in sections() if s.key not in built]
    atomic_write(path, render_book(built, level, missing))
    return path
