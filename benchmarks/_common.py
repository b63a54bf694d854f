"""Shared by the benchmark scripts: machine description, medians, and writing a section of
docs/benchmarks.md between markers so each script owns its own table."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"


def head() -> str:
    """The short hash of the commit checked out."""
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip


@contextmanager
def baseline_tree(commit: str) -> Iterator[Path]:
    """An earlier commit checked out in a temporary git worktree (removed afterwards); yields
    the worktree's folder, whose src/ a process runs with PYTHONPATH."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
                       check=True, capture_output=True)  # fmt: skip
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip


def cpu() -> str:
    """The CPU's model name and its vector units ("AMD EPYC (AVX-512 with bf16)"): one EPYC
    model name covers CPUs with and without AVX-512, whose kernels differ 2x in speed."""
    name, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name == "unknown CPU":
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    for flag, kind in (("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 with bf16"),
                       ("avx512f", "AVX-512"), ("avx2", "AVX2, no AVX-512")):  # fmt: skip
        if flag in flags:
            return f"{name} ({kind})"
    return name


def machine() -> str:
    import torch

    return (
        f"{cpu()}, {os.cpu_count()} cores visible, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), Python {platform.python_version()}, "
        f"{date.today().isoformat()}"
    )


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def command() -> str:
    return "python " + " ".join([Path(sys.argv[0]).as_posix().split("/main/")[-1], *sys.argv[1:]])


def write_section(name: str, body: str, doc: Path | str | None = None) -> None:
    """Replace (or append) the block between <!-- begin:name --> and <!-- end:name --> of
    `doc` (default docs/benchmarks.md)."""
    doc = DOCS if doc is None else Path(doc)
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text() if doc.exists() else ("# Benchmarks\n\n" if doc == DOCS else "")
    block = f"<!-- begin:{name} -->\n{body.strip()}\n<!-- end:{name} -->"
    pattern = re.compile(
        rf"<!-- begin:{re.escape(name)} -->.*?<!-- end:{re.escape(name)} -->", re.S
    )
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block + "\n"
    )
    tmp = doc.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(doc)
    print(f"wrote section {name!r} of {doc}")


def timed(fn, calls: int) -> Any:
    """Milliseconds of each of `calls` calls of fn() after a warm-up (a twentieth of them,
    at least 3)."""
    import time

    import numpy as np

    for _ in range(max(3, calls // 20)):
        fn()
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return np.array(out) * 1e3
