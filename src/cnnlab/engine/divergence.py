"""Divergence: a NaN or infinite loss stops the run with one line that says where, the
likely cause and what to try (DivergedError, exit code 1), before the bad step reaches the
weights or the bad epoch is saved. A task that measures divergence itself turns it off
(`Task.stop_on_divergence`)."""

from __future__ import annotations

import math

import torch

from cnnlab.core.errors import DivergedError
from cnnlab.engine.task import Task


def check_step(fabric, task: Task, loss: torch.Tensor, state, epoch: int, i: int, lr: float):
    """Stop at the first step whose loss is NaN or infinite, before it reaches the weights,
    with what to try. Every process agrees first (one stops, all stop: no DDP hang)."""
    if not task.stop_on_divergence:
        return
    bad = not bool(torch.isfinite(loss.detach()))
    if fabric.world_size > 1:
        bad = bool(fabric.all_reduce(torch.tensor(float(bad)), reduce_op="sum") > 0)
    if bad:
        where = f"at epoch {epoch + 1}, step {i + 1} (lr {lr:.3g})"
        raise DivergedError(diverged_message(task, state, float(loss.detach()), where))


def check_epoch(task: Task, row: dict[str, float], state) -> None:
    """An epoch whose weights give a NaN or infinite validation loss diverged at its last
    steps: stop before it is saved (every process computes the same summed row)."""
    if not task.stop_on_divergence:
        return
    for key, value in row.items():
        if key.endswith("loss") and not math.isfinite(value):
            where = f"on the {key.split('/')[0]} images after epoch {int(row['epoch'])}"
            raise DivergedError(diverged_message(task, state, value, where))


def diverged_message(task: Task, state, value: float, where: str) -> str:
    init = getattr(task.cfg, "init", "default")
    hint = f" or the --init {init} scheme" if init not in ("default", "", None) else ""
    kept = (f"the run keeps epoch {state['epoch']} (--resume would diverge again with the same "
            "settings)" if state["epoch"] else "nothing was saved")  # fmt: skip
    return (
        f"training diverged: the loss became {value} {where}; the learning rate is likely "
        f"too high{hint}: try --lr {getattr(task.cfg, 'lr', 0.0) / 10:.3g}; {kept}"
    )
