"""cnnlab's training loop vs a bare PyTorch loop: same model, same batches, same optimizer.

Each repeat trains one epoch with each loop (in alternating order, so drift hits both alike);
the overhead is the median over repeats of each pair's time ratio. Goal: <= 3 %.

    python benchmarks/loop_overhead.py [--repeats 9] [--model cnn-bn] [--train_limit N]
    python benchmarks/loop_overhead.py --precision 32 --section loop-overhead-fp32
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from _common import command, cpu, machine, median, write_section
from rich.console import Console

import cnnlab
from cnnlab.data import Augment, BatchLoader, default_augment
from cnnlab.engine.allocator import keep_freed_memory
from cnnlab.engine.optim import make_optimizer
from cnnlab.engine.schedule import one_cycle_lr, resolve_precision
from cnnlab.models import create_model
from cnnlab.tasks.classify.api import make_config


def bare_epoch(data, cfg) -> float:
    """The loop a careful person writes by hand: no Fabric, no progress, no checkpoints."""
    torch.manual_seed(cfg.seed)
    c, h, w = data.input_shape
    model = create_model(cfg.model, c, data.num_classes, (h, w), **cfg.model_args)
    model = model.to(memory_format=torch.channels_last).train()
    opt = make_optimizer(model, cfg)
    # the precision cnnlab picks for the same config (bf16 autocast where the CPU has bf16)
    bf16 = resolve_precision(cfg.precision, "cpu") == "bf16-mixed"
    aug = Augment.parse(default_augment(cfg.data) if cfg.augment == "auto" else cfg.augment)
    loader = BatchLoader(
        data.train_x,
        data.train_y,
        cfg.batch_size,
        data.mean,
        data.std,
        shuffle=True,
        augment=aug,
        seed=cfg.seed,
        drop_last=True,
        channels_last=True,
    )
    total = len(loader)
    t0 = time.perf_counter()
    for i, (x, y) in enumerate(loader.epoch(0)):
        for g in opt.param_groups:
            g["lr"] = one_cycle_lr(i / total, cfg.lr)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def cnnlab_epoch(data, cfg, runs_dir: str) -> float:
    r = cnnlab.train(cfg, data=data, runs_dir=runs_dir, console=Console(quiet=True))
    row = r.history[0]
    return len(data.train_y) // cfg.batch_size * cfg.batch_size / row["img_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--model", default="cnn-bn")
    ap.add_argument("--train_limit", type=int, default=None)
    ap.add_argument("--precision", default="auto", choices=["auto", "32", "bf16"])
    ap.add_argument("--section", default="loop-overhead", help="docs/benchmarks.md section to "
                    "write (another CPU kind or precision beside the default table)")  # fmt: skip
    args = ap.parse_args()
    keep_freed_memory()  # both loops in this process share the allocator setting fit applies
    import tempfile

    data = cnnlab.load_dataset("fashion-mnist", val_fraction=0.0, train_limit=args.train_limit)
    cfg = make_config(
        model=args.model, epochs=1, val_fraction=0.0, progress=False, precision=args.precision
    )
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            if i % 2 == 0:
                bare.append(bare_epoch(data, cfg))
                ours.append(cnnlab_epoch(data, cfg, tmp))
            else:
                ours.append(cnnlab_epoch(data, cfg, tmp))
                bare.append(bare_epoch(data, cfg))
            print(f"repeat {i + 1}: bare {bare[-1]:.2f} s, cnnlab {ours[-1]:.2f} s", flush=True)
    b, o = median(bare), median(ours)
    paired = median([(y / x - 1) * 100 for x, y in zip(bare, ours, strict=True)])
    where = f" on {cpu()}" if args.section != "loop-overhead" else ""
    if args.train_limit:  # short epochs: more pairs, each closer in time (less drift)
        where += f", epochs of {len(data.train_y):,} images"
    body = f"""## Loop overhead: cnnlab vs a bare PyTorch loop{where}

One epoch of `{args.model}` on {len(data.train_y):,} Fashion-MNIST images ({data.source}),
batch {cfg.batch_size}, the same batches, augmentation, optimizer and precision
({resolve_precision(cfg.precision, "cpu")}) in both loops; median of
{args.repeats} repeats, each a pair of epochs in alternating order. cnnlab's time is the
training part of its epoch (from its `img_per_s`), i.e. the loop with Fabric, progress bar
and metric accumulation.

| loop | s / epoch (median) | all repeats |
|---|---|---|
| bare PyTorch | {b:.2f} | {", ".join(f"{x:.2f}" for x in bare)} |
| cnnlab (Fabric) | {o:.2f} | {", ".join(f"{x:.2f}" for x in ours)} |

Overhead: **{paired:+.1f} %**, the median over repeats of each pair's ratio (the machine's
speed drifts between repeats by more than the overhead; pairing cancels most of it); the
ratio of the medians above is {(o / b - 1) * 100:+.1f} %. Goal <= 3 %.

Machine: {machine()}. Command: `{command()}`
"""
    write_section(args.section, body)


if __name__ == "__main__":
    main()
