"""How long one one-second clip takes to classify (issue goal: under 10 ms), for each keyword
model side by side in one process: the log-mel features and the forward pass (what
`cnnlab predict RUN clip.wav` does per clip after loading), median and 99th percentile of
`--calls` calls, with the parameters and multiply-accumulates of each model. Then the
sliding window of `cnnlab listen`: seconds of audio scored per second at a 0.1 s hop.

Speed does not depend on how well the weights are trained, so the models are built untrained.

    python benchmarks/kws_latency.py [--calls 300]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import command, machine, timed, write_section

MODELS = ("kws-cnn", "kws-ds-cnn", "kws-tc", "kws-mlp")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--no_write", action="store_true", help="print only, leave docs/ alone")
    args = ap.parse_args()
    from cnnlab.data.audio import LogMel
    from cnnlab.mechanics.arithmetic import summarize
    from cnnlab.models import create_task_model

    features = LogMel()
    clip = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 16000)).astype(np.float32))
    minute = torch.from_numpy(
        np.random.default_rng(1).standard_normal(600 * 1600).astype(np.float32)
    )
    windows = minute.unfold(0, 16000, 1600)  # 0.1 s hop over 60 s: (591, 16000)
    rows = []
    for name in MODELS:
        model = create_task_model("keywords", name, 1, 12, (40, 101)).eval()
        s = summarize(model, (1, 40, 101))

        def one(model=model) -> None:
            with torch.inference_mode():
                torch.softmax(model(features(clip)), dim=1)

        ms = timed(one, args.calls)

        def stream(model=model) -> None:
            with torch.inference_mode():
                for i in range(0, len(windows), 256):
                    model(features(windows[i : i + 256]))

        t = np.median(timed(stream, 3)) / 1e3
        rows.append([name, s.total_params, s.total_macs, ms, 60.0 / t])
        print(f"{name:11} p50 {np.median(ms):.3f} ms  p99 {np.percentile(ms, 99):.3f} ms  "
              f"listen {60.0 / t:.0f}x real time", flush=True)  # fmt: skip
    feats = timed(lambda: features(clip), args.calls)
    lines = [
        "## Keywords: one clip's latency",
        "",
        f"Machine: {machine()}. Command: `{command()}`. One one-second clip: log-mel features "
        f"(40 bands x 101 frames) and the forward pass, batch of one, median and 99th "
        f"percentile of {args.calls} calls; the features alone take {np.median(feats):.3f} ms. "
        "`listen` is the sliding window of `cnnlab listen` (0.1 s hop, 591 windows per minute, "
        "batches of 256): seconds of audio scored per second. Goal: under 10 ms per clip.",
        "",
        "| model | parameters | MACs per clip | p50 (ms) | p99 (ms) | listen (x real time) |",
        "|---|---|---|---|---|---|",
    ]
    for m, p, mac, ms, rt in rows:
        p50, p99 = np.median(ms), np.percentile(ms, 99)
        lines.append(f"| {m} | {p:,} | {mac / 1e6:.1f} M | {p50:.2f} | {p99:.2f} | {rt:.0f} |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("kws-latency", body, "docs/keywords.md")


if __name__ == "__main__":
    main()
