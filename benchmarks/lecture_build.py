"""How long `cnnlab lecture` takes on this machine: a fresh quick book (median of repeated
builds, each into a new folder, in a fresh process), a rebuild where nothing changed (every
section kept), a rebuild with one section forced, and, beside them, the baseline a reader
would otherwise have: the book's own commands typed one by one, each in its own process.
With --full, also one full build (about an hour on 2 cores). Per-section seconds of the last
quick build go in a second table. Writes docs/lecture.md's generated section and the book's
screenshot (docs/figures/lecture/book.png, Debian's chromium through Playwright).

    python benchmarks/lecture_build.py [--repeats 3] [--full]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import command, machine, median, write_section

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "lecture.md"
CLI = [sys.executable, "-m", "cnnlab"]


def timed(argv: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: a section failed; its line is in the book
        raise SystemExit(f"{shlex.join(argv)} failed: {done.stderr.strip()[-300:]}")
    return time.perf_counter() - t0


def outcomes(book: Path) -> dict[str, dict]:
    """The kept outcome of every built section, in the lecture's order."""
    from cnnlab.lecture.builder import sections

    found = {}
    for s in sections():
        path = book / "sections" / s.key / "outcome.json"
        if path.is_file():
            found[s.key] = json.loads(path.read_text())["outcome"]
    return found


SHOT = ROOT / "docs" / "figures" / "lecture" / "book.png"


def screenshot(book: Path, first: str = "stride", last: str = "padding") -> None:
    """The book's sections `first` to `last` as they look in a browser, into SHOT."""
    from playwright.sync_api import sync_playwright

    SHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto((book / "index.html").resolve().as_uri())
        page.wait_for_load_state("load")
        top = page.locator(f"section#{first}").bounding_box()
        end = page.locator(f"section#{last}").bounding_box()
        clip = {"x": 0, "y": top["y"] - 10, "width": 1000,
                "height": min(end["y"] + end["height"] - top["y"] + 20, 2200)}  # fmt: skip
        page.screenshot(path=str(SHOT), clip=clip, full_page=True)
        browser.close()
    print(f"screenshot: {SHOT.relative_to(ROOT)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="also one full build (about an hour)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lecture-bench-"))
    try:
        fresh, books = [], []
        for i in range(args.repeats):
            cwd = work / f"run{i}"  # each book is lecture/ in its own folder, as a reader's is
            cwd.mkdir()
            fresh.append(timed([*CLI, "lecture", "--progress", "false"], cwd))
            books.append(cwd / "lecture")
            print(f"quick build {i + 1}: {fresh[-1]:.0f} s", flush=True)
        last = books[-1]
        kept = [timed([*CLI, "lecture", "--progress", "false"], last.parent)
                for _ in range(args.repeats)]  # fmt: skip
        forced = [timed([*CLI, "lecture", "--force", "pooling", "--progress", "false"],
                        last.parent) for _ in range(args.repeats)]  # fmt: skip
        sections = outcomes(last)
        screenshot(last)
        # the baseline: every command the book quotes, typed one by one (each a new process)
        cmds = [c for o in sections.values() for c in o["commands"]]
        base_dir = work / "typed"
        shutil.copytree(last, base_dir / "lecture")  # the commands write where the book did
        one_by_one = sum(timed([*CLI, *shlex.split(c)[1:]], base_dir) for c in cmds)
        print(f"commands one by one: {one_by_one:.0f} s", flush=True)
        rows = [
            ["quick book, fresh", f"{median(fresh):.0f} s", f"{len(sections)} sections, "
             f"{args.repeats} builds: " + ", ".join(f"{t:.0f}" for t in fresh) + " s"],
            ["quick book, nothing changed", f"{median(kept):.1f} s", "every section kept"],
            ["quick book, one section forced", f"{median(forced):.1f} s",
             "`--force pooling`"],
            ["baseline: the book's commands typed one by one", f"{one_by_one:.0f} s",
             f"{len(cmds)} commands, each in a new process (without the book's own checks, "
             "figures and page)"],
        ]  # fmt: skip
        if args.full:
            (work / "full").mkdir()
            t = timed([*CLI, "lecture", "--level", "full", "--progress", "false"], work / "full")
            rows.insert(1, ["full book, fresh", f"{t / 60:.0f} min", "one build"])
        per = [[k, o["verdict"] if not o["error"] else "not built", f"{o['seconds']:.1f} s"]
               for k, o in sections.items()]  # fmt: skip
        table = ["| build | time | note |", "|---|---|---|"]
        table += ["| " + " | ".join(r) + " |" for r in rows]
        table += ["", "| section | verdict | seconds (last quick build) |", "|---|---|---|"]
        table += ["| " + " | ".join(r) + " |" for r in per]
        write_section(
            "lecture-build",
            "\n".join(table) + f"\n\n*Generated by `{command()}`; {machine()}.*",
            DOC,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
