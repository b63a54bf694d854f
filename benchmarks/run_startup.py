"""What a short training costs beyond its training: a small `cnnlab train` run (1,000 glyph
images, an MLP, 5 epochs: well under a second of training) end to end in a fresh process,
this tree beside an earlier commit (the baseline, checked out in a temporary git worktree),
in alternating order; and the imports the baseline paid and this tree does not: lightning
(Fabric through the package that also imports the Trainer) and torchmetrics.

    python benchmarks/run_startup.py [--repeats 5] [--baseline d6a7e47]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import baseline_tree, command, machine, median, write_section
from _common import head as head_commit

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "--data", "glyphs", "--train_limit", "1000", "--model", "mlp", "--epochs",
         "5", "--batch_size", "32", "--precision", "32", "--progress", "false", "--seed",
         "3"]  # fmt: skip


def timed(argv: list[str], src: Path | None, cwd: str) -> float:
    env = dict(os.environ, CNNLAB_OFFLINE="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, cwd=cwd, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline", default="d6a7e47", help="git commit to compare with")
    args = ap.parse_args()
    ours, theirs = [], []
    with baseline_tree(args.baseline) as tree:
        tmp = str(tree.parent)
        for i in range(args.repeats):
            for src, out in ((None, ours), (tree / "src", theirs)):
                runs = Path(tmp) / f"runs-{i}-{len(out)}-{src is None}"
                argv = [sys.executable, "-m", "cnnlab.cli", *TRAIN, "--runs_dir", str(runs)]
                out.append(timed(argv, src, tmp))

        def fresh(code: str) -> list[float]:
            return [timed([sys.executable, "-c", code], None, tmp) for _ in range(args.repeats)]

        imports, torch_only = fresh("import torchmetrics"), fresh("import torch")
        old = fresh("import lightning.fabric")
        new = fresh("from cnnlab.engine.fabric import fabric_class; fabric_class()")
    head = head_commit()
    lines = [
        "## A short run end to end",
        "",
        f"Median wall time of {args.repeats} fresh processes, this tree (HEAD {head}) beside "
        f"commit {args.baseline} (Fabric from `lightning`, scores from torchmetrics), in "
        "alternating order. The run: `cnnlab train --data glyphs --train_limit 1000 --model mlp "
        "--epochs 5` (the crash tests' run; its training takes under a second).",
        "",
        f"Machine: {machine()}. Command: `{command()}`.",
        "",
        f"| what | this tree | {args.baseline} |",
        "|---|---:|---:|",
        f"| the short run, start to exit | {median(ours):.1f} s | {median(theirs):.1f} s |",
        f"| Fabric imported: `engine/fabric.py` / `import lightning.fabric` | {median(new):.1f} s "
        f"| {median(old):.1f} s |",
        f"| `python -c 'import torchmetrics'` | {median(imports):.1f} s | |",
        f"| `python -c 'import torch'` (the floor under both) | {median(torch_only):.1f} s | |",
    ]
    body = "\n".join(lines)
    write_section("run-startup", body)
    print(body)
    print("each run, this tree:", " ".join(f"{t:.1f}" for t in ours))
    print(f"each run, {args.baseline}:", " ".join(f"{t:.1f}" for t in theirs))


if __name__ == "__main__":
    main()
