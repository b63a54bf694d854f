"""fp32 vs bf16 autocast for cnnlab's training on this CPU, and what `--precision auto` picks.

The same run (cnn-bn of the fast recipe, full Fashion-MNIST, batch 256, SGD, channels-last)
with `precision="32"` and `precision="bf16"`, each in a fresh process, in alternating order.
The table gives seconds per training epoch (median over epochs, then over repeats) and the
test accuracy after the last epoch, beside the quick measurement that `auto` makes
(cnnlab/engine/precision.py) and its answer.

    python benchmarks/precision.py [--epochs 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from _common import command, machine, median, write_section

MODEL_ARGS = {"pool": "flatten", "pool_before_norm": True}


def one(precision: str, epochs: int) -> dict:
    from rich.console import Console

    import cnnlab

    data = cnnlab.load_dataset("fashion-mnist", val_fraction=0.0)
    data.val_x, data.val_y = data.test_x, data.test_y
    with tempfile.TemporaryDirectory() as tmp:
        r = cnnlab.train(
            data=data, model="cnn-bn", model_args=MODEL_ARGS, epochs=epochs, optimizer="sgd",
            lr=0.2, augment="none", precision=precision, runs_dir=tmp, progress=False,
            console=Console(quiet=True),
        )  # fmt: skip
    n = len(data.train_y) // 256 * 256
    return {
        "epoch_s": median([n / row["img_per_s"] for row in r.history]),
        "acc": r.history[-1]["val/acc"],
        "images": len(data.train_y),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="pairs of runs, order alternating")
    ap.add_argument("--one", choices=["32", "bf16"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.epochs)))
        return
    from cnnlab.engine.precision import cpu_bf16_is_faster, cpu_flags, measure_bf16_speedup

    flags = cpu_flags().split()
    native = [f for f in ("avx512_bf16", "amx_bf16") if f in flags] or ["none"]
    env = {k: v for k, v in os.environ.items() if k != "CNNLAB_BF16"}
    runs: dict[str, list[dict]] = {"32": [], "bf16": []}
    for i in range(args.repeats):
        for p in ("32", "bf16") if i % 2 == 0 else ("bf16", "32"):
            cmd = [sys.executable, __file__, "--one", p, "--epochs", str(args.epochs)]
            out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, env=env)
            runs[p].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"repeat {i + 1}: fp32 {runs['32'][-1]['epoch_s']:.2f} s/epoch, "
              f"bf16 {runs['bf16'][-1]['epoch_s']:.2f} s/epoch", flush=True)  # fmt: skip
    probe = [measure_bf16_speedup() for _ in range(3)]
    auto = "bf16" if cpu_bf16_is_faster() else "fp32"
    fp32_s = median([r["epoch_s"] for r in runs["32"]])
    bf16_s = median([r["epoch_s"] for r in runs["bf16"]])
    faster = "bf16" if bf16_s < fp32_s else "fp32"

    def row(name: str, key: str, s: float) -> str:
        each = ", ".join(f"{r['epoch_s']:.2f}" for r in runs[key])
        accs = ", ".join(f"{r['acc']:.2%}" for r in runs[key])
        return f"| {name} | {s:.2f} | {each} | {accs} |"

    body = f"""## fp32 or bf16 on this CPU

`cnn-bn` `{json.dumps(MODEL_ARGS)}` on the full Fashion-MNIST ({runs["32"][0]["images"]:,} training
images), batch 256, SGD, channels-last, {args.epochs} epochs; each run a fresh process,
{args.repeats} pairs in alternating order. The CPU's bf16 flags: {", ".join(native)}.

| precision | s / epoch (median) | each repeat | test accuracy after epoch {args.epochs} |
|---|---|---|---|
{row("fp32 (`--precision 32`)", "32", fp32_s)}
{row("bf16 autocast (`--precision bf16`)", "bf16", bf16_s)}

On this CPU **{faster}** trains faster: bf16 takes **{bf16_s / fp32_s:.2f}x** the time of fp32
per epoch. `--precision auto` measures one conv-BN-ReLU training step both ways when it
first runs on a CPU with avx512_bf16 but no AMX (here: fp32 {
        ", ".join(f"{f * 1e3:.1f}" for f, _ in probe)
    } ms, bf16 {
        ", ".join(f"{b * 1e3:.1f}" for _, b in probe)
    } ms in three measurements of about 0.2 s)
and picks **{auto}**{" — the faster one" if auto == faster else " — not the faster one"}.

Machine: {machine()}. Command: `{command()}`
"""
    write_section("precision", body)


if __name__ == "__main__":
    main()
