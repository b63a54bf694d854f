"""cnnlab's training loop vs a bare PyTorch loop: same model, same batches, same optimizer.

Each repeat trains one epoch with each loop (alternating, so drift hits both alike) and the
table gives the median seconds per epoch. Goal: cnnlab's overhead <= 3 %.

    python benchmarks/loop_overhead.py [--repeats 3] [--model cnn-bn] [--train_limit N]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from _common import command, machine, median, write_section
from rich.console import Console

import cnnlab
from cnnlab.data import Augment, BatchLoader, default_augment
from cnnlab.models import create_model
from cnnlab.train.api import make_config
from cnnlab.train.loop import _optimizer
from cnnlab.train.schedule import one_cycle_lr


def bare_epoch(data, cfg) -> float:
    """The loop a careful person writes by hand: no Fabric, no progress, no checkpoints."""
    torch.manual_seed(cfg.seed)
    c, h, w = data.input_shape
    model = create_model(cfg.model, c, data.num_classes, (h, w), **cfg.model_args)
    model = model.to(memory_format=torch.channels_last).train()
    opt = _optimizer(model, cfg)
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
        loss = F.cross_entropy(model(x), y, label_smoothing=cfg.label_smoothing)
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
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default="cnn-bn")
    ap.add_argument("--train_limit", type=int, default=None)
    args = ap.parse_args()
    import tempfile

    data = cnnlab.load_dataset("fashion-mnist", val_fraction=0.0, train_limit=args.train_limit)
    cfg = make_config(model=args.model, epochs=1, val_fraction=0.0, progress=False)
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            bare.append(bare_epoch(data, cfg))
            ours.append(cnnlab_epoch(data, cfg, tmp))
            print(f"repeat {i + 1}: bare {bare[-1]:.2f} s, cnnlab {ours[-1]:.2f} s", flush=True)
    b, o = median(bare), median(ours)
    body = f"""## Loop overhead: cnnlab vs a bare PyTorch loop

One epoch of `{args.model}` on {len(data.train_y):,} Fashion-MNIST images ({data.source}),
batch {cfg.batch_size}, the same batches, augmentation and optimizer in both loops; median of
{args.repeats} alternating repeats. cnnlab's time is the training part of its epoch (from
its `img_per_s`), i.e. the loop with Fabric, progress bar and metric accumulation.

| loop | s / epoch (median) | all repeats |
|---|---|---|
| bare PyTorch | {b:.2f} | {", ".join(f"{x:.2f}" for x in bare)} |
| cnnlab (Fabric) | {o:.2f} | {", ".join(f"{x:.2f}" for x in ours)} |

Overhead: **{(o / b - 1) * 100:+.1f} %** (goal <= 3 %).

Machine: {machine()}. Command: `{command()}`
"""
    write_section("loop-overhead", body)


if __name__ == "__main__":
    main()
