"""How slow is the readable reference convolution? Loop and im2col versions vs torch F.conv2d.

One 1x3x224x224 input, 64 3x3 filters with bias, padding 1 (the first layer of a VGG-style
net). im2col and torch are timed in float32 and float64 as the median of `--repeats` repeats
(fast calls are repeated inside a repeat until it lasts 50 ms, and divided back). The loop
version runs 64 x 224 x 224 Python iterations, so it is first timed on a `--crop` x `--crop`
corner; if that predicts a full run under `--loop_budget` seconds the full input is timed
once, otherwise the full-size time is extrapolated from the crop (per output position) and
labelled so. Every result is checked against torch in float64 before it is reported.

    python benchmarks/reference_speed.py [--repeats 5] [--loop_budget 120] [--threads N]
                                         [--out FILE]
    python benchmarks/reference_speed.py --size 16 --repeats 1 --out /tmp/x.md   # smoke test
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _common import command, machine, median, write_section

from cnnlab.mechanics import conv2d_im2col, conv2d_loop

DOC = Path(__file__).resolve().parents[1] / "docs" / "convolution.md"


def time_call(fn: Callable[[], object], repeats: int, min_s: float = 0.05) -> list[float]:
    """Seconds per call for each repeat; a fast call is looped until a repeat lasts min_s."""
    t0 = time.perf_counter()
    fn()  # warm-up (and calibration): first calls pay for allocation and dispatch
    first = time.perf_counter() - t0
    inner = max(1, math.ceil(min_s / max(first, 1e-9)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return times


def fmt_s(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_ratio(r: float) -> str:
    return f"{r:.2g}x" if r < 10 else f"{r:,.0f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224, help="input height and width")
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--crop", type=int, default=32, help="loop version: size of the timed crop")
    ap.add_argument("--loop_budget", type=float, default=120.0,
                    help="time the full loop if the crop predicts <= this many s")  # fmt: skip
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--out", type=Path, default=DOC, help="Markdown file to write the section to")
    args = ap.parse_args()
    for name in ("size", "channels", "filters", "repeats", "crop"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1")
    if args.threads is not None:
        torch.set_num_threads(max(1, args.threads))  # machine() reports the count used

    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((1, args.channels, args.size, args.size))  # (N, C, H, W)
    w64 = rng.standard_normal((args.filters, args.channels, 3, 3)) * 0.1
    b64 = rng.standard_normal(args.filters)
    x32, w32, b32 = (a.astype(np.float32) for a in (x64, w64, b64))
    tx = {dt: torch.from_numpy(a) for dt, a in (("float32", x32), ("float64", x64))}
    tw = {dt: torch.from_numpy(a) for dt, a in (("float32", w32), ("float64", w64))}
    tb = {dt: torch.from_numpy(a) for dt, a in (("float32", b32), ("float64", b64))}
    truth = F.conv2d(tx["float64"], tw["float64"], tb["float64"], padding=1).numpy()

    rows: list[tuple[str, str, list[float], str]] = []  # (impl, dtype, times, how)
    with torch.inference_mode():
        for dt in ("float32", "float64"):
            t = time_call(lambda dt=dt: F.conv2d(tx[dt], tw[dt], tb[dt], padding=1), args.repeats)
            rows.append(("torch `F.conv2d`", dt, t, f"median of {args.repeats}"))
    errors = {}
    for dt, (x, w, b) in (("float32", (x32, w32, b32)), ("float64", (x64, w64, b64))):
        errors[f"im2col {dt}"] = float(np.abs(conv2d_im2col(x, w, b, padding=1) - truth).max())
        t = time_call(lambda x=x, w=w, b=b: conv2d_im2col(x, w, b, padding=1), args.repeats)
        rows.append(("`conv2d_im2col`", dt, t, f"median of {args.repeats}"))

    # The loop: a crop first (its output has crop x crop positions, like the full one's
    # size x size), then the full input once if that is predicted to be affordable.
    crop = min(args.crop, args.size)
    xc = x64[:, :, :crop, :crop]
    t_crop = time_call(lambda: conv2d_loop(xc, w64, b64, padding=1), min(args.repeats, 3), 0)
    estimate = median(t_crop) * (args.size / crop) ** 2
    print(f"loop on a {crop}x{crop} crop: {fmt_s(median(t_crop))}, full: ~{fmt_s(estimate)}")
    truth_crop = F.conv2d(torch.from_numpy(xc), tw["float64"], tb["float64"], padding=1).numpy()
    if estimate <= args.loop_budget:
        t0 = time.perf_counter()
        out = conv2d_loop(x64, w64, b64, padding=1)
        rows.append(("`conv2d_loop`", "float64", [time.perf_counter() - t0], "measured once"))
        errors["loop float64"] = float(np.abs(out - truth).max())
    else:
        how = f"**extrapolated** from a {crop}x{crop} crop ({fmt_s(median(t_crop))})"
        rows.append(("`conv2d_loop`", "float64", [estimate], how))
        errors["loop float64 (crop)"] = float(
            np.abs(conv2d_loop(xc, w64, b64, padding=1) - truth_crop).max()
        )
    for name, err in errors.items():
        limit = 1e-3 if "float32" in name else 1e-9
        if not err <= limit:
            raise SystemExit(f"{name} differs from torch float64 by {err:.3g} (> {limit})")

    base = median(rows[0][2])  # torch float32
    table = "\n".join(
        f"| {impl} | {dt} | {fmt_s(median(t))} | {fmt_ratio(median(t) / base)} | {how} |"
        for impl, dt, t, how in rows
    )
    err_text = ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
    shape = f"1x{args.channels}x{args.size}x{args.size}"
    out_shape = f"{args.filters}x{args.size}x{args.size}"
    patches = f"{args.size * args.size:,} x {args.channels * 9}"
    body = f"""## How fast is the reference convolution?

The reference functions are written to be read, not to be fast; this is by how much.
One {shape} input, {args.filters} filters of 3x3 with bias, padding 1 (output {out_shape}).
The loop version makes one Python step per output value; im2col builds the ({patches})
patch matrix and does one matrix product with NumPy's BLAS; torch uses its own kernels.

| implementation | dtype | time per call | vs torch float32 | how measured |
|---|---|---|---|---|
{table}

Largest difference from torch float64: {err_text}.

Machine: {machine()}. Command: `{command()}`
"""
    write_section("reference-speed", body, args.out)


if __name__ == "__main__":
    main()
