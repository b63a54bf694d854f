"""The training configuration: one frozen dataclass, from which the CLI is generated."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from cnnlab.core.config import check_ranges, plain_paths


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; saved as config.yaml in the run folder.

    Args:
        data: a dataset name (fashion-mnist, mnist, cifar10) or a folder.
        model: a registered model name (see `cnnlab models`).
        model_args: options of the model's config, e.g. {"widths": [32, 64]}.
        epochs: passes over the training split.
        batch_size: images per step (per process).
        lr: peak learning rate of the one-cycle schedule.
        optimizer: adamw or sgd (Nesterov momentum 0.9).
        weight_decay: decoupled weight decay (AdamW) or L2 (SGD).
        label_smoothing: cross-entropy label smoothing.
        augment: auto (suits the dataset), none, or e.g. "flip,shift=2,rotate=10".
        seed: seeds the split, the initial weights, the batch order and augmentation.
        val_fraction: share of the training images held out for validation.
        train_limit: keep a class-balanced subset of this many training images.
        image_size: resize image-folder data to this square size.
        max_time: stop after this many seconds; the schedule follows elapsed time.
        patience: early stopping after this many epochs without a better val/loss.
        tta: average the logits of each test image and its mirror image.
        precision: auto (bf16 only where this CPU trains faster in it), 32 or bf16.
        devices: processes (CPU) or GPUs on this node.
        num_nodes: machines taking part (multi-node through Lightning Fabric).
        strategy: auto, ddp, fsdp (Lightning Fabric strategies).
        accelerator: auto, cpu, cuda.
        runs_dir: folder that holds run folders.
        name: run folder name; default <model>-<data>-<n>.
        init: weight initialization scheme, e.g. kaiming-normal or normal:std=0.1
            (see `cnnlab inits`; "default" keeps PyTorch's).
        progress: show the progress bar.
    """

    data: str = "fashion-mnist"
    model: str = "cnn-bn"
    model_args: dict[str, Any] = field(default_factory=dict)
    epochs: int = 5
    batch_size: int = 256
    lr: float = 3e-3
    optimizer: Literal["adamw", "sgd"] = "adamw"
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    augment: str = "auto"
    seed: int = 0
    val_fraction: float = 0.1
    train_limit: int | None = None
    image_size: int | None = None
    max_time: float | None = None
    patience: int | None = None
    tta: bool = False
    precision: Literal["auto", "32", "bf16"] = "auto"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"
    accelerator: str = "auto"
    runs_dir: str = "runs"
    name: str | None = None
    init: str = "default"
    progress: bool = True

    def __post_init__(self) -> None:
        plain_paths(self)
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "label_smoothing": 0 <= self.label_smoothing < 1,
            "val_fraction": 0 <= self.val_fraction < 1,
            "devices": self.devices >= 1,
            "num_nodes": self.num_nodes >= 1,
            "max_time": self.max_time is None or self.max_time > 0,
            "patience": self.patience is None or self.patience >= 1,
            "train_limit": self.train_limit is None or self.train_limit >= 2,
        }
        check_ranges(self, checks)
        from cnnlab.nn.init import parse_init  # an unknown scheme fails before any work

        parse_init(self.init)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
