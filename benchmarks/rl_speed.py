"""How fast an agent trains, and where the time goes: environment steps per second of the whole
DQN loop (acting + learning) on MinAtar Breakout for q-cnn and q-mlp, one environment and four
side by side, with the time per environment step of each part (the run's ms/ columns: acting
forward, the game, storing, sampling a batch, the learning step). Each setting is a fresh
`cnnlab rl` process of --steps environment steps (the first --learning_starts of random play
count too); the medians of --repeats runs are written to docs/rl.md.

    python benchmarks/rl_speed.py [--steps 12000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import command, machine, median, write_section

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [  # (label, options)
    ("q-cnn, 1 env", ["--model", "q-cnn"]),
    ("q-cnn, 4 envs", ["--model", "q-cnn", "--num_envs", "4"]),
    ("q-mlp, 1 env", ["--model", "q-mlp"]),
    ("q-mlp, 4 envs", ["--model", "q-mlp", "--num_envs", "4"]),
]
PARTS = ("act", "env", "store", "sample", "learn")


def one(options: list[str], steps: int, tmp: Path) -> dict[str, float]:
    """The last evaluation's row of one run: steps/s and the ms/ parts."""
    runs = tmp / f"r{len(list(tmp.iterdir()))}"
    subprocess.run([sys.executable, "-m", "cnnlab.cli", "rl", "--env", "minatar-breakout",
                    "--steps", str(steps), "--eval_every", str(steps // 2),
                    "--learning_starts", "1000", "--eval_episodes", "1", "--test_episodes", "1",
                    "--progress", "false", "--runs_dir", str(runs), "--name", "r", *options],
                   check=True, capture_output=True)  # fmt: skip
    row = list(csv.DictReader((runs / "r" / "metrics.csv").open()))[-1]
    return {k: float(v) for k, v in row.items() if k == "img_per_s" or k.startswith("ms/")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, options in SETTINGS:
            got = [one(options, args.steps, Path(tmp)) for _ in range(args.repeats)]
            speed = median([g["img_per_s"] for g in got])
            parts = [median([g[f"ms/{p}"] for g in got]) for p in PARTS]
            rows.append(f"| {label} | {speed:,.0f} | " + " | ".join(f"{v:.3f}" for v in parts)
                        + f" | {sum(parts):.2f} |")  # fmt: skip
            print(rows[-1], flush=True)
    body = "\n".join([
        "## Throughput: where a DQN step's time goes",
        "",
        f"MinAtar Breakout, {args.steps:,} environment steps per run (learning from step "
        f"1,000, batch 32, one learning step per environment step, or per 4 with 4 envs), "
        f"the second half's figures, median of {args.repeats} runs. Milliseconds per "
        "environment step.",
        "",
        f"Machine: {machine()}. Command: `{command()}`.",
        "",
        "| setting | env steps/s | acting | game | storing | sampling | learning | total |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])  # fmt: skip
    write_section("rl-speed", body, ROOT / "docs" / "rl.md")


if __name__ == "__main__":
    main()
