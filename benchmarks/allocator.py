"""glibc's allocator defaults vs cnnlab's setting (cnnlab/engine/allocator.py), on training steps.

Two loops on the same model (cnn-bn of the fast recipe) and random 28x28 batches: cnnlab's
step (the precision `--precision auto` picks, channels-last, batch 256, SGD) and the tutorial's
step (float32, batch 64, Adam). Each runs one epoch's worth of steps (60,000 images) in a
fresh process, with CNNLAB_MALLOC=system (glibc's defaults) and without (cnnlab's setting),
in alternating order; the table gives medians over repeats, the minor page faults of the
timed steps and the process's peak memory.

    python benchmarks/allocator.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from _common import command, machine, median, write_section

MODEL_ARGS = {"pool": "flatten", "pool_before_norm": True}
IMAGES = 60_000


def one(loop: str) -> dict:
    import torch
    import torch.nn.functional as F

    from cnnlab.engine.schedule import resolve_precision
    from cnnlab.models import create_model

    torch.manual_seed(0)
    model = create_model("cnn-bn", 1, 10, (28, 28), **MODEL_ARGS)
    if loop == "cnnlab":
        bs, bf16 = 256, resolve_precision("auto", "cpu") == "bf16-mixed"
        model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    else:
        bs, bf16 = 64, False
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(bs, 1, 28, 28)
    if loop == "cnnlab":
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (bs,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    for _ in range(IMAGES // bs):
        step()
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"s": seconds, "faults": usage.ru_minflt - faults, "rss_mb": usage.ru_maxrss / 1024}


def run(loop: str, system: bool) -> dict:
    env = {**os.environ, "CNNLAB_MALLOC": "system" if system else ""}
    cmd = [sys.executable, __file__, "--one", loop]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--one", choices=["cnnlab", "tutorial"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        from cnnlab.engine.allocator import keep_freed_memory

        keep_freed_memory()  # what engine.fit does first (a no-op with CNNLAB_MALLOC=system)

        print(json.dumps(one(args.one)))
        return
    res: dict[tuple[str, bool], list[dict]] = {}
    for i in range(args.repeats):
        for loop in ("cnnlab", "tutorial"):
            for system in (True, False) if i % 2 == 0 else (False, True):
                r = run(loop, system)
                res.setdefault((loop, system), []).append(r)
                print(f"repeat {i + 1} {loop} {'glibc' if system else 'cnnlab'}: {r}", flush=True)
    rows = []
    for loop, label in (("cnnlab", "cnnlab step (precision as `auto` picks, batch 256, SGD)"),
                        ("tutorial", "tutorial step (float32, batch 64, Adam)")):  # fmt: skip
        secs, cells = {}, []
        for system in (True, False):
            runs = res[(loop, system)]
            secs[system] = median([r["s"] for r in runs])
            faults = median([r["faults"] for r in runs])
            rss = median([r["rss_mb"] for r in runs])
            each = ", ".join(f"{r['s']:.1f}" for r in runs)
            cells.append(f"{secs[system]:.2f} s ({each}) | {faults:,.0f} | {rss:,.0f} MB")
        gain = (secs[True] / secs[False] - 1) * 100
        rows.append(f"| {label} | {cells[0]} | {cells[1]} | **{gain:+.0f} %** |")
    table = "\n".join(rows)
    body = f"""## Memory allocator

A training step frees and re-allocates the same few-megabyte buffers every step; glibc's
defaults return them to the kernel and fetch fresh zeroed pages on the next step. `import
cnnlab` raises glibc's trim threshold to 256 MiB and its mmap threshold to 64 MiB
(`cnnlab/engine/allocator.py`), so those buffers are reused; `CNNLAB_MALLOC=system` turns it off.
One epoch's worth of steps (60,000 random 28x28 images) of `cnn-bn`
`{json.dumps(MODEL_ARGS)}`, each in
a fresh process, {args.repeats} repeats in alternating order (medians; each repeat's seconds
in brackets). Page faults: minor faults during the timed steps.

| loop | glibc defaults: s / epoch | page faults | peak memory | cnnlab's setting: \
s / epoch | page faults | peak memory | faster by |
|---|---|---|---|---|---|---|---|
{table}

The tutorial rows of the side-by-side comparison above run with glibc's defaults, as a
notebook does; this table shows what the same setting would give them.

Machine: {machine()}. Command: `{command()}`
"""
    write_section("allocator", body)


if __name__ == "__main__":
    main()
