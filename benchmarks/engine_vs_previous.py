"""The engine's epoch beside the previous commit's loop: same model, data and precision, each
run in a fresh process with its own checkout on PYTHONPATH, in alternating order.

The baseline is checked out with `git worktree` (default: 418636f, the last commit before the
engine restructure of issue 17, whose classifier had its own Fabric loop). Each run trains
`--model` for 2 epochs on Fashion-MNIST; the figure is the second epoch (training and
validation, from metrics.csv's `time`), so start-up and the first epoch's warm-up stay out.

    python benchmarks/engine_vs_previous.py [--baseline 418636f] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import command, machine, median, write_section

ROOT = Path(__file__).resolve().parents[1]
RUN = """
import json, sys, tempfile
from rich.console import Console
import cnnlab
with tempfile.TemporaryDirectory() as tmp:
    r = cnnlab.train(data="fashion-mnist", model=sys.argv[1], epochs=2, progress=False,
                     precision=sys.argv[2], runs_dir=tmp, console=Console(quiet=True))
h = r.history
print(json.dumps({"epoch": h[1]["time"] - h[0]["time"], "img_per_s": h[1]["img_per_s"],
                  "acc": r.test.accuracy, "file": cnnlab.__file__}))
"""


def one(src: Path, model: str, precision: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", RUN, model, precision], env=env, check=True,
                         stdout=subprocess.PIPE, text=True, cwd=src).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default="418636f")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", default="cnn-bn")
    ap.add_argument("--precision", default="auto")
    args = ap.parse_args()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline],
                       cwd=ROOT, check=True, capture_output=True)  # fmt: skip
        try:
            sides = {"previous": base / "src", "engine": ROOT / "src"}
            runs: dict[str, list[dict]] = {k: [] for k in sides}
            for i in range(args.repeats):
                order = list(sides) if i % 2 == 0 else list(reversed(sides))
                for name in order:
                    r = one(sides[name], args.model, args.precision)
                    assert Path(r["file"]).resolve().is_relative_to(sides[name].resolve())
                    runs[name].append(r)
                    print(f"repeat {i + 1} {name}: {r['epoch']:.2f} s, {r['img_per_s']:.0f} "
                          f"img/s, test {r['acc']:.2%}", flush=True)  # fmt: skip
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                           check=False, capture_output=True)  # fmt: skip
    prev, eng = (median([r["epoch"] for r in runs[k]]) for k in ("previous", "engine"))
    paired = median([(e["epoch"] / p["epoch"] - 1) * 100
                     for p, e in zip(runs["previous"], runs["engine"], strict=True)])  # fmt: skip
    rows = "\n".join(
        f"| {name} ({args.baseline if name == 'previous' else head}) | "
        f"{median([r['epoch'] for r in runs[name]]):.2f} | "
        f"{median([r['img_per_s'] for r in runs[name]]):,.0f} | "
        f"{', '.join(format(r['epoch'], '.2f') for r in runs[name])} |"
        for name in ("previous", "engine")
    )

    def accs(name: str) -> str:
        return ", ".join(sorted({f"{r['acc']:.2%}" for r in runs[name]}))

    body = f"""## The engine's epoch beside the previous loop

`{args.model}` on Fashion-MNIST (54,000 training images, 6,000 validation), 2 epochs per run,
precision `{args.precision}`, each run a fresh process on its own checkout, {args.repeats}
pairs in alternating order. The figure is epoch 2 (training + validation), median of the
repeats.

| loop (commit) | s / epoch 2 (median) | img/s (median) | all repeats (s) |
|---|---|---|---|
{rows}

The engine's epoch against the previous loop's: **{paired:+.1f} %** (median of each pair's
ratio; the ratio of the medians is {(eng / prev - 1) * 100:+.1f} %). Goal: within 3 %. Test
accuracy of every run: previous {accs("previous")}, engine {accs("engine")} (the same seed
gives the same weights through both loops).

Machine: {machine()}. Command: `{command()}`
"""
    write_section("engine-vs-previous", body)


if __name__ == "__main__":
    main()
