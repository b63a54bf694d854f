"""The loop's settings (LoopConfig, the base of every task's config) and what --resume may
change (RESUMABLE)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from cnnlab.core.config import check_ranges, plain_paths
from cnnlab.core.io import check_name


@dataclass(frozen=True)
class LoopConfig:
    """The loop's settings and where its run goes: the base of every task's config (a task's
    config adds its data and model options, and may change these defaults).

    Args:
        epochs: passes over the training split.
        lr: peak learning rate of the one-cycle schedule.
        optimizer: adamw or sgd (Nesterov momentum 0.9).
        weight_decay: decoupled weight decay (AdamW) or L2 (SGD); none on biases and norms.
        max_time: stop after this many seconds; the schedule follows elapsed time.
        patience: early stopping after this many epochs without a better val/loss (the task's
            monitored metric: val/err_cm for locate).
        precision: auto (bf16 only where this CPU trains faster in it), 32 or bf16.
        progress: show the progress bar.
        devices: processes (CPU) or GPUs on this node.
        num_nodes: machines taking part (multi-node through Lightning Fabric).
        strategy: auto, ddp, fsdp (Lightning Fabric strategies).
        accelerator: auto, cpu, cuda.
        schedule: one-cycle (warm-up, then cosine annealing; by steps or by the time budget)
            or constant (lr throughout, as the course's Adam).
        seed: seeds the split, the initial weights, the batch order and augmentation.
        runs_dir: folder that holds run folders.
        name: run folder name; default <model>-<data> (-2, -3, ... when taken).
    """

    epochs: int = 10
    lr: float = 3e-3
    optimizer: Literal["adamw", "sgd"] = "adamw"
    weight_decay: float = 1e-4
    max_time: float | None = None
    patience: int | None = None
    precision: Literal["auto", "32", "bf16"] = "auto"
    progress: bool = True
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"
    accelerator: str = "auto"
    schedule: Literal["one-cycle", "constant"] = "one-cycle"
    seed: int = 0
    runs_dir: str = "runs"
    name: str | None = None

    def __post_init__(self) -> None:
        plain_paths(self)
        checks = {
            "epochs": ">= 1",
            "lr": "> 0",
            "weight_decay": ">= 0",
            "max_time": "None or > 0",
            "patience": "None or >= 1",
            "optimizer": ("adamw", "sgd"),
            "precision": ("auto", "32", "bf16"),
            "devices": ">= 1",
            "num_nodes": ">= 1",
            "schedule": ("one-cycle", "constant"),
        }
        check_ranges(self, checks)
        if self.name is not None:
            check_name(self.name)

    def replace(self, **changes: Any) -> Any:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, cfg: Any) -> LoopConfig:
        """The loop settings of any config object that has (some of) these fields."""
        names = cls.__dataclass_fields__
        return cls(**{k: getattr(cfg, k) for k in names if hasattr(cfg, k)})


# what `--resume RUN` may change: how long and where the run goes on, never what it learns
RESUMABLE = ("epochs", "max_time", "patience", "progress", "precision", "devices", "num_nodes",
             "strategy", "accelerator", "steps")  # fmt: skip  # steps: an agent's (cnnlab rl)
