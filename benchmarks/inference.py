"""Inference speed of cnnlab's models on this CPU: eager PyTorch fp32 (`cnnlab predict RUN
--runtime torch`, and the Python API's `cnnlab.predict`), channels-last, torch.compile, and
onnxruntime on the file `cnnlab export` writes (what `cnnlab predict` runs by default, on
RUN/model.onnx), side by side in one process.

For each model and path: latency of one image (p50 and p99 over `--calls` calls) and of a
batch of 256 (p50 over `--calls // 10` calls, and images per second from it). Untrained
weights: speed does not depend on their values. Preprocessing (reading and resizing files)
is the same for every path and is not timed. Then the whole command as a user runs it: `cnnlab
predict RUN IMAGE` as a fresh process, on a cnn-bn run, with each runtime (median of
`--processes` runs; the first default call, which exports RUN/model.onnx, timed apart).

    python benchmarks/inference.py [--calls 300] [--models mlp,cnn-bn,unet] [--processes 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import command, machine, write_section

# (task, model, input (C, H, W), outputs): the data each was built for
MODELS = {
    "mlp": ("classify", "mlp", (1, 28, 28), 10),
    "cnn-bn": ("classify", "cnn-bn", (1, 28, 28), 10),
    "unet": ("segment", "unet", (1, 64, 64), 11),
}
BIG = 256


def timed(fn, x, calls: int) -> list[float]:
    for _ in range(max(3, calls // 20)):  # warm-up: allocator, caches, lazy init
        fn(x)
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(x)
        out.append(time.perf_counter() - t0)
    return out


def paths(model: torch.nn.Module, example: torch.Tensor, conv: bool) -> dict:
    """name -> (callable on a float32 NCHW tensor, setup seconds)."""
    from cnnlab.export.onnx_export import onnx_bytes

    def eager(m):
        def run(x):
            with torch.inference_mode():
                return m(x)

        return run

    out = {"eager fp32 (--runtime torch)": (eager(model), 0.0)}
    if conv:
        cl = eager(model.to(memory_format=torch.channels_last))
        out["channels-last"] = (lambda x: cl(x.contiguous(memory_format=torch.channels_last)), 0.0)
        model = model.to(memory_format=torch.contiguous_format)
    t0 = time.perf_counter()
    compiled = torch.compile(model, dynamic=False)
    with torch.inference_mode():
        compiled(example[:1])  # the first call compiles; later batch sizes recompile once each
        compiled(example)
    out["torch.compile"] = (eager(compiled), time.perf_counter() - t0)
    import onnxruntime as ort

    t0 = time.perf_counter()
    session = ort.InferenceSession(onnx_bytes(model, example[:2], {}),
                                   providers=["CPUExecutionProvider"])  # fmt: skip
    out["onnxruntime (predict's default)"] = (
        lambda x: session.run(None, {"image": x.numpy()}),
        time.perf_counter() - t0,
    )
    return out


def end_to_end(processes: int) -> list[str]:
    """`cnnlab predict RUN IMAGE` as fresh processes: seconds, median of `processes`."""
    from statistics import median

    cnnlab = [sys.executable, "-m", "cnnlab.cli"]
    image = Path(__file__).resolve().parents[1] / "src/cnnlab/data/examples"
    image = sorted(image.glob("fashion-mnist-*.png"))[0]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([*cnnlab, "train", "--data", "fashion-mnist", "--model", "cnn-bn",
                        "--epochs", "1", "--train_limit", "2000", "--runs_dir", tmp, "--name",
                        "r", "--progress", "false"], check=True, capture_output=True)  # fmt: skip
        run = str(Path(tmp) / "r")

        def once(*extra: str) -> float:
            t0 = time.perf_counter()
            subprocess.run([*cnnlab, "predict", run, str(image), *extra], check=True,
                           capture_output=True)  # fmt: skip
            return time.perf_counter() - t0

        torch_s = [once("--runtime", "torch") for _ in range(processes)]
        first = once()  # exports RUN/model.onnx
        ort_s = [once() for _ in range(processes)]
    return [
        "",
        f"The whole command, `cnnlab predict RUN IMAGE` as a fresh process (a cnn-bn run, one "
        f"image; median of {processes}):",
        "",
        "| runtime | seconds |",
        "|---|---|",
        f"| PyTorch (`--runtime torch`) | {median(torch_s):.2f} |",
        f"| default, first call (exports RUN/model.onnx) | {first:.2f} |",
        f"| default, later calls (onnxruntime; torch is not imported) | {median(ort_s):.2f} |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300, help="timed calls at batch 1")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--processes", type=int, default=5, help="fresh `cnnlab predict` processes")
    ap.add_argument("--no_write", action="store_true", help="print only, leave docs/ alone")
    args = ap.parse_args()
    from cnnlab.models.registry import create_task_model

    rows, best = [], {}
    for name in args.models.split(","):
        task, model_name, shape, outs = MODELS[name]
        torch.manual_seed(0)
        model = create_task_model(task, model_name, shape[0], outs, shape[1:]).eval()
        big = torch.randn(BIG, *shape)
        for path, (fn, setup) in paths(model, big, name != "mlp").items():
            one = np.array(timed(fn, big[:1], args.calls)) * 1e3
            many = np.array(timed(fn, big, max(5, args.calls // 10))) * 1e3
            ips = BIG / (np.median(many) / 1e3)
            rows.append([name, path, np.median(one), np.percentile(one, 99), np.median(many),
                         ips, setup])  # fmt: skip
            print(f"{name:7} {path:28} b1 p50 {rows[-1][2]:.3f} ms  p99 {rows[-1][3]:.3f} ms  "
                  f"b{BIG} {rows[-1][4]:.1f} ms = {ips:,.0f} img/s  setup {setup:.1f} s",
                  flush=True)  # fmt: skip
        eager = [r for r in rows if r[0] == name][0]
        best[name] = (eager, min((r for r in rows if r[0] == name), key=lambda r: r[2]),
                      max((r for r in rows if r[0] == name), key=lambda r: r[5]))  # fmt: skip
    lines = [
        "## Inference",
        "",
        f"Machine: {machine()}. Command: `{command()}`. Untrained weights, float32 inputs; "
        f"batch 1: median and 99th percentile of {args.calls} calls; batch {BIG}: median of "
        f"{max(5, args.calls // 10)} calls. Setup: export + session, or compilation.",
        "",
        f"| model | path | batch 1 p50 (ms) | batch 1 p99 (ms) | batch {BIG} p50 (ms) | "
        f"batch {BIG} images/s | setup (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {m} | {p} | {a:.3f} | {b:.3f} | {c:.1f} | {d:,.0f} | {s:.1f} |"
        for m, p, a, b, c, d, s in rows
    ]
    lines.append("")
    for name, (eager, fast1, fast256) in best.items():
        lines.append(
            f"- {name}: fastest at batch 1 {fast1[1]} ({fast1[2]:.3f} ms, eager "
            f"{eager[2] / fast1[2]:.2f}x its time); at batch {BIG} {fast256[1]} "
            f"({fast256[5]:,.0f} images/s, eager {eager[5] / fast256[5]:.0%} of it)"
        )
    lines += end_to_end(args.processes)
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("inference", body)


if __name__ == "__main__":
    main()
