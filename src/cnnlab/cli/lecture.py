"""cnnlab lecture: the whole lecture as a book of runs measured on this machine."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentParser

from cnnlab.cli.common import console
from cnnlab.core.errors import ConfigError

PDF_SECONDS = 120  # chromium's limit for printing the book


def register(sub: Any) -> dict:
    p = ArgumentParser(
        description="build the lecture as an HTML book: every slide's point, the cnnlab command "
        "that shows it, and its figures and numbers measured on this machine now",
        exit_on_error=False,
    )
    p.add_argument(
        "--level",
        type=str,
        default="quick",
        help="quick (about 5 minutes on 2 cores, small budgets) or full (the budgets "
        "of docs/, about an hour)",
    )
    p.add_argument("--out", type=str, default="lecture", help="the book's folder (index.html)")
    p.add_argument(
        "--sections",
        type=str | None,
        default=None,
        help="comma-separated sections to build (default: all); see --list",
    )
    p.add_argument(
        "--force",
        type=str | None,
        default=None,
        help="comma-separated sections to rebuild even when their results are kept",
    )
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also print the book to book.pdf with chromium (a handout)",
    )
    p.add_argument("--list", action="store_true", help="list the sections and stop")
    p.add_argument("--progress", type=bool, default=True, help="show the progress bar")
    sub.add_subcommand("lecture", p, help="build the lecture as a book of runs on this machine")
    return {"lecture": run_lecture}


def run_lecture(ns: Any) -> int:
    from cnnlab.cli import common
    from cnnlab.lecture.book import LEVELS, check_out
    from cnnlab.lecture.builder import build, sections, select

    if ns.list:
        from cnnlab.cli.common import table

        rows = [
            [s.key, s.part, s.title, f"{s.seconds[0]:.0f} / {s.seconds[1]:.0f}"] for s in sections()
        ]
        console.print(
            table(
                ["section", "part", "slide", "seconds quick / full"],
                rows,
                "the lecture's sections, in order",
            )
        )
        return 0
    if ns.level not in LEVELS:
        raise ConfigError(f"unknown --level {ns.level!r}; use {' or '.join(LEVELS)}")
    names = [ns.sections] if ns.sections else None
    select(names)  # unknown names fail before anything is written
    force = [ns.force] if ns.force else None
    if force:
        select(force)
    out = Path(ns.out)
    check_out(out)  # a file, or a folder of other things: one line, nothing touched
    if ns.pdf:
        chromium()  # missing: one line before the build, not after it
    bar = _Progress(console) if ns.progress else None
    res = build(out, ns.level, names, force, progress=bar.update if bar else None,
                log=console.print, runner=common.MAIN)  # fmt: skip
    if bar:
        bar.stop()
    failed = {k: o.error for k, o in res.outcomes.items() if o.error}
    console.print(
        f"book: {res.index.resolve()}  ({len(res.built)} sections built in "
        f"{res.seconds:.0f} s, {len(res.kept)} kept from the last build)",
        highlight=False,
    )
    for key, err in failed.items():
        console.print(f"  {key}: not built: {err}", highlight=False)
    if ns.pdf:
        pdf = print_pdf(res.index, out / "book.pdf")
        console.print(f"pdf: {pdf.resolve()}", highlight=False)
    return 1 if failed else 0


class _Progress:
    """Sections done of all, the one running, and the time left (from each section's
    expected time at this level)."""

    def __init__(self, con: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[left]}"),
            console=con,
            transient=True,
        )
        self.task = None
        self.t0 = time.perf_counter()

    def update(self, section: Any, done: int, total: int, left: float) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("", total=total, left="")
        self.bar.update(
            self.task,
            completed=done,
            description=f"lecture: {section.key}",
            left=f"about {max(left, 0) / 60:.0f} min left",
        )

    def stop(self) -> None:
        if self.task is not None:
            self.bar.stop()


def chromium() -> str:
    """The chromium (or chrome) program on PATH; missing: one line saying how to get it."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise ConfigError(
        "--pdf needs chromium: apt-get install chromium (or drop --pdf; the HTML "
        "book prints from any browser)"
    )


def print_pdf(index: Path, pdf: Path) -> Path:
    """index.html printed to `pdf` by headless chromium (written whole or not at all)."""
    tmp = pdf.with_name(f".{pdf.name}.tmp")
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        f"--print-to-pdf={tmp.resolve()}",
        index.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_SECONDS)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"chromium did not print the book within {PDF_SECONDS} s") from None
    if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"chromium could not print the book: {last}")
    tmp.replace(pdf)
    return pdf
