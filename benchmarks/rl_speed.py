"""How fast an agent trains, and where the time goes: environment steps per second of the whole
DQN loop (acting + learning) on MinAtar Breakout for q-cnn and q-mlp, one environment and four
side by side, with the time per environment step of each part (the run's ms/ columns: acting
forward, the game, storing, sampling a batch, the learning step); two runs at once with one
thread each (what `cnnlab study rl --jobs 2` does), their steps/s summed; and the Nature DQN
network on ALE Pong (84x84 frames, --ale_steps steps). Each setting is a fresh `cnnlab rl`
process of --steps environment steps (the first --learning_starts of random play count too);
the medians of --repeats runs are written to docs/rl.md.

    python benchmarks/rl_speed.py [--steps 12000] [--ale_steps 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import command, machine, median, write_section

ROOT = Path(__file__).resolve().parents[1]
BREAKOUT = ["--env", "minatar-breakout", "--learning_starts", "1000"]
PONG = ["--env", "ale-pong", "--model", "nature-cnn", "--learning_starts", "500", "--buffer",
        "10000"]  # fmt: skip
SETTINGS = [  # (label, options, processes at once, ALE)
    ("q-cnn, 1 env", [*BREAKOUT, "--model", "q-cnn"], 1, False),
    ("q-cnn, 4 envs", [*BREAKOUT, "--model", "q-cnn", "--num_envs", "4"], 1, False),
    ("q-cnn, 4 envs, 2 runs at once (1 thread each, steps/s summed)",
     [*BREAKOUT, "--model", "q-cnn", "--num_envs", "4"], 2, False),
    ("q-mlp, 1 env", [*BREAKOUT, "--model", "q-mlp"], 1, False),
    ("q-mlp, 4 envs", [*BREAKOUT, "--model", "q-mlp", "--num_envs", "4"], 1, False),
    ("nature-cnn on ALE Pong, 1 env", PONG, 1, True),
    ("nature-cnn on ALE Pong, 4 envs", [*PONG, "--num_envs", "4"], 1, True),
]  # fmt: skip
PARTS = ("act", "env", "store", "sample", "learn")


def one(options: list[str], steps: int, tmp: Path, at_once: int = 1) -> dict[str, float]:
    """The last evaluation's row of one run: steps/s and the ms/ parts; `at_once` runs side by
    side (one thread each): their steps/s summed, their parts averaged."""
    procs, folders = [], []
    env = dict(os.environ, OMP_NUM_THREADS="1") if at_once > 1 else None
    for _ in range(at_once):
        runs = tmp / f"r{len(list(tmp.iterdir()))}"
        runs.mkdir()
        folders.append(runs / "r")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "cnnlab.cli", "rl", "--steps", str(steps), "--eval_every",
             str(steps // 2), "--eval_episodes", "1", "--test_episodes", "1", "--progress",
             "false", "--runs_dir", str(runs), "--name", "r", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env))  # fmt: skip
    for p in procs:
        if p.wait():
            raise SystemExit(f"a run failed: {p.stderr.read().decode().strip()}")
    rows = [list(csv.DictReader((f / "metrics.csv").open()))[-1] for f in folders]
    got = {k: median([float(r[k]) for r in rows]) for k in rows[0] if k.startswith("ms/")}
    got["img_per_s"] = sum(float(r["img_per_s"]) for r in rows)
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12_000)
    ap.add_argument("--ale_steps", type=int, default=3_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, options, at_once, ale in SETTINGS:
            steps = args.ale_steps if ale else args.steps
            got = [one(options, steps, Path(tmp), at_once) for _ in range(args.repeats)]
            speed = median([g["img_per_s"] for g in got])
            parts = [median([g[f"ms/{p}"] for g in got]) for p in PARTS]
            rows.append(f"| {label} | {speed:,.0f} | " + " | ".join(f"{v:.3f}" for v in parts)
                        + f" | {sum(parts):.2f} |")  # fmt: skip
            print(rows[-1], flush=True)
    body = "\n".join([
        "## Throughput: where a DQN step's time goes",
        "",
        f"MinAtar Breakout, {args.steps:,} environment steps per run (learning from step "
        f"1,000, batch 32, one learning step per environment step, or per 4 with 4 envs); "
        f"ALE Pong, {args.ale_steps:,} steps (84x84x4 frames, learning from step 500); the "
        f"second half's figures, median of {args.repeats} runs. Milliseconds per environment "
        "step.",
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
