"""The lecture as a book of runs: every section of the lecture, in the slides' order, built on
this machine by running the cnnlab commands that show it.

A section is a `Section` (what the slide says, what we say, the lecture's claim) with a `run`
function that gets a `Context`: it runs cnnlab commands through `ctx.cli` (in this process,
their output kept in the section's log; the commands are recorded as the book shows them),
writes its figures into its own folder and returns an `Outcome`: figures, tables, the measured
figure beside the claim and the verdict (holds / differs, because ...).

Each section keeps its outcome in `sections/KEY/outcome.json` with a fingerprint (the book's
format, cnnlab's version, the section's own version, the level, the data found): a stopped
build continues where it stopped, a rebuild reruns only the sections whose fingerprint
changed, and `force` reruns the ones named.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnlab.core.errors import ConfigError, DataError
from cnnlab.core.io import atomic_write
from cnnlab.core.version import VERSION

FORMAT = 1  # bump when outcome.json or the book's layout changes: every section is rebuilt
LEVELS = ("quick", "full")
TINY = "tiny"  # the test suite's level: every section on the smallest budget that still runs
VERDICTS = ("holds", "differs", "shown")  # shown: a section that demonstrates, claims nothing


class SectionFailed(Exception):
    """A command of a section failed; the book shows the line and the build goes on."""


@dataclass
class Outcome:
    """What one section produced on this machine."""

    measured: str  # our figure, one sentence: "CNN 88.1 % against MLP 84.0 % ..."
    verdict: str  # one of VERDICTS
    because: str = ""  # why it differs (or what it rests on)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file in the folder, caption)
    tables: list[dict[str, Any]] = field(default_factory=list)  # {"headers", "rows", "caption"}
    notes: list[str] = field(default_factory=list)  # e.g. "embedded data: ..."
    commands: list[str] = field(default_factory=list)  # filled from ctx.cli
    seconds: float = 0.0
    error: str = ""  # one line when a command failed

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {self.verdict!r}")

    def table(self, headers: list[str], rows: list[list[Any]], caption: str = "") -> None:
        self.tables.append(
            {
                "headers": list(headers),
                "rows": [[str(c) for c in r] for r in rows],
                "caption": caption,
            }
        )


@dataclass
class Context:
    """What a section's run gets: its folder, the level, and cnnlab's command line."""

    folder: Path  # the section's own folder (sections/KEY), empty at the start of a run
    level: str  # quick or full
    shown_root: str  # how the book's folder is written in the commands shown ("lecture")
    book_root: Path
    runner: Callable[[list[str]], int] | None = None  # cnnlab's main(argv), given by the CLI
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def quick(self) -> bool:
        return self.level != "full"

    def pick(self, quick: Any, full: Any, tiny: Any = None) -> Any:
        """The budget of this level (the test suite's tiny level falls back to quick's)."""
        if self.level == TINY and tiny is not None:
            return tiny
        return quick if self.quick else full

    def cli(self, *argv: str | Path) -> str:
        """Run `cnnlab ARGV...` in this process; the output goes to the section's log.log and
        is returned. The command is recorded as shown in the book (the book's folder written
        as the user typed it). Raises SectionFailed with cnnlab's one-line error.
        The command line sits above this package, so its `main` comes in as `runner`."""
        if self.runner is None:
            raise SectionFailed("no command runner: build the book with runner=cnnlab.cli.main")
        args = [str(a) for a in argv]
        shown = [a.replace(str(self.book_root), self.shown_root) for a in args]
        self.commands.append("cnnlab " + shlex.join(shown))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            rc = self.runner(args)
        text = out.getvalue()
        with (self.folder / "log.log").open("a") as f:
            f.write(f"$ {self.commands[-1]}\n{text}\n")
        if rc != 0:
            lines = [ln for ln in text.splitlines() if ln.startswith("cnnlab: error:")]
            raise SectionFailed(lines[-1] if lines else f"`{self.commands[-1]}` exited with {rc}")
        return text

    def path(self, *parts: str) -> Path:
        """A path inside the section's folder."""
        return self.folder.joinpath(*parts)

    def data(self, name: str = "fashion-mnist") -> str:
        """`name`; when it is not on this machine (cnnlab then falls back to the embedded
        subset of Fashion-MNIST) a note says so."""
        if not available(name):
            self.notes.append(
                f"{name} was not found on this machine: this section ran on the "
                "embedded Fashion-MNIST subset, so its figures are rougher "
                "(install Debian's dataset-fashion-mnist for the full data)."
            )
        return name


@dataclass(frozen=True)
class Section:
    """One section of the book, after one slide (or a run of slides) of the lecture."""

    key: str  # the name for --sections and --force, and the folder's name
    title: str  # the slide's heading
    point: str  # what the slide shows, in one or two of our own sentences
    claim: str  # the lecture's (or the course's) claim that the section measures
    run: Callable[[Context], Outcome]
    part: str = "CNNs"  # the lecture's part: "Applications of CNNs", "MLP vs CNNs", "CNNs"
    seconds: tuple[float, float] = (10.0, 60.0)  # expected seconds (quick, full), for the ETA
    live: str = ""  # the web app's live part for this section: explainer, draw, text, audio
    version: int = 1  # bump when the section's run changes: its outcome is rebuilt
    data: tuple[str, ...] = ()  # datasets whose presence changes the outcome


# ---- small helpers the section modules share --------------------------------------------


def opts(**kw: Any) -> list[str]:
    """`--name value` for every option that is not None, in the order given."""
    return [a for k, v in kw.items() if v is not None for a in (f"--{k}", str(v))]


def copy(ctx: Context, src: str | Path, dst: str) -> str:
    """A file a command wrote (inside the section's folder) under a short name; returns it."""
    shutil.copyfile(ctx.path(str(src)), ctx.path(dst))
    return dst


def results(ctx: Context, *parts: str) -> dict[str, Any]:
    """A JSON file a command wrote inside the section's folder."""
    return json.loads(ctx.path(*parts).read_text())


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def available(name: str) -> bool:
    """Whether dataset `name` is on this machine (or generated here), without downloading."""
    from cnnlab.data.datasets import DATASETS, locate

    if name in DATASETS:
        spec = DATASETS.get(name).factory
        return spec.generate is not None or locate(name, spec, None, download=False)[0] is not None
    if name == "tweets":
        from cnnlab.data.text import find_tweets

        return find_tweets() is not None
    return True


def fingerprint(section: Section, level: str) -> dict[str, Any]:
    """What a kept outcome must match to be reused."""
    return {
        "format": FORMAT,
        "cnnlab": VERSION,
        "section": section.key,
        "version": section.version,
        "level": level,
        "data": {d: available(d) for d in section.data},
    }


def check_out(out: Path) -> bool:
    """Whether `out` can hold the book: True when it holds a book of another format or
    version (to be rebuilt). A file, or a folder with other things in it, fails in one line
    and nothing in it is touched."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; name a folder for the book (it is made)")
    if not out.is_dir() or not any(out.iterdir()):
        return False
    meta = out / "book.json"
    if not meta.is_file():
        raise ConfigError(
            f"--out {out} holds other files and no book.json; name an empty or "
            "new folder (nothing in it was changed)"
        )
    try:
        kept = json.loads(meta.read_text())
    except (OSError, ValueError):
        return True
    return kept.get("format") != FORMAT or kept.get("cnnlab") != VERSION


def kept_outcome(folder: Path, fp: dict[str, Any]) -> Outcome | None:
    """The section's outcome from an earlier build, when it matches `fp` and its figures are
    still there; None otherwise."""
    path = folder / "outcome.json"
    try:
        kept = json.loads(path.read_text())
        if kept.get("fingerprint") != fp:
            return None
        outcome = Outcome(**kept["outcome"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if outcome.error or not all((folder / f).is_file() for f, _ in outcome.figures):
        return None
    return outcome


def run_section(
    section: Section, book: Path, shown_root: str, level: str,
    runner: Callable[[list[str]], int] | None,
) -> Outcome:  # fmt: skip
    """Run one section into book/sections/KEY (emptied first) and keep its outcome there."""
    folder = book / "sections" / section.key
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ctx = Context(folder, level, shown_root, book, runner)
    t0 = time.perf_counter()
    try:
        outcome = section.run(ctx)
    except SectionFailed as exc:
        outcome = Outcome(measured="", verdict="shown", error=str(exc))
    except (ConfigError, DataError, ValueError) as exc:
        outcome = Outcome(measured="", verdict="shown", error=" ".join(str(exc).split()))
    outcome.commands = ctx.commands + [c for c in outcome.commands if c not in ctx.commands]
    outcome.notes = ctx.notes + outcome.notes
    outcome.seconds = time.perf_counter() - t0
    missing = [f for f, _ in outcome.figures if not (folder / f).is_file()]
    if missing and not outcome.error:
        outcome.error = f"the section did not write {', '.join(missing)}"
    data = {"fingerprint": fingerprint(section, level), "outcome": dataclasses.asdict(outcome)}
    atomic_write(folder / "outcome.json", json.dumps(data, indent=1))
    return outcome
