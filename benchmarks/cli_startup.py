"""How fast the command line answers: help, the version, bad input and listings, each in a
fresh process (`python -m cnnlab.cli ...`, what the `cnnlab` script runs), against the same
commands of an earlier commit (the baseline, checked out in a temporary git worktree) and
against the floor: Python doing nothing, and Python importing torch.

Goals (issue 18): `cnnlab --help` and a bad-input error under 0.5 s, `cnnlab models` under 1.5 s.

    python benchmarks/cli_startup.py [--repeats 7] [--baseline eaa7527]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import baseline_tree, command, machine, median, write_section
from _common import head as head_commit

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    ("cnnlab --help", ["--help"]),
    ("cnnlab --version", ["--version"]),
    ("cnnlab trian (misspelt command)", ["trian"]),
    ("cnnlab train --epochs 0 (out of range)", ["train", "--epochs", "0"]),
    ("cnnlab train --help", ["train", "--help"]),
    ("cnnlab predict no-such-run x.png", ["predict", "no-such-run", "x.png"]),
    ("cnnlab study init --bogus 1 (unknown option)", ["study", "init", "--bogus", "1"]),
    ("cnnlab models", ["models"]),
    ("cnnlab datasets", ["datasets"]),
]
FLOOR = [("python -c pass", "pass"), ("python -c 'import torch'", "import torch")]


def timed(argv: list[str], src: Path | None) -> tuple[float, int]:
    env = dict(os.environ, CNNLAB_OFFLINE="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, cwd=tempfile.gettempdir())
    return time.perf_counter() - t0, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--baseline", default="eaa7527", help="git commit to compare with")
    args = ap.parse_args()
    with baseline_tree(args.baseline) as tree:
        rows = _measure(args.repeats, tree / "src")
    head = head_commit()
    lines = [
        "## Command-line start-up",
        "",
        f"Median wall time of {args.repeats} fresh processes per command, this tree (HEAD "
        f"{head} plus any uncommitted change) beside commit {args.baseline} (before the lazy "
        "imports), in alternating order; exit codes in brackets. The floor rows are Python "
        "alone. Goals: `--help` and a bad-input error under 0.5 s, `cnnlab models` under "
        "1.5 s.",
        "",
        f"Machine: {machine()}. Command: `{command()}`.",
        "",
        f"| command | this tree | {args.baseline} |",
        "|---|---:|---:|",
        *rows,
    ]
    write_section("cli-startup", "\n".join(lines))
    print("\n".join(rows))


def _measure(repeats: int, baseline_src: Path) -> list[str]:
    rows = []
    for label, argv in CASES:
        ours, theirs, rc = [], [], {}
        for _ in range(repeats):
            for side, src, out in (("ours", None, ours), ("base", baseline_src, theirs)):
                t, code = timed([sys.executable, "-m", "cnnlab.cli", *argv], src)
                out.append(t)
                rc[side] = code
        # plain text, not code: the bad-input rows are wrong on purpose (the docs test
        # parses every command written as code)
        rows.append(f"| {label} | {median(ours):.2f} s [{rc['ours']}] | "
                    f"{median(theirs):.2f} s [{rc['base']}] |")  # fmt: skip
    for label, code in FLOOR:
        t = median([timed([sys.executable, "-c", code], None)[0] for _ in range(repeats)])
        rows.append(f"| floor: `{label}` | {t:.2f} s | |")
    return rows


if __name__ == "__main__":
    main()
