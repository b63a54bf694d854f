"""The configuration of a segmentation run: one frozen dataclass, from which the CLI is
generated; saved as config.yaml in the run folder."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from cnnlab.core.config import check_ranges, plain_paths
from cnnlab.core.errors import ConfigError

DATA_DIMS = {"fashion-scenes": 2, "volumes": 3}
BATCH = {2: 32, 3: 4}  # default batch sizes: a 48^3 volume costs as much as 27 64x64 images


@dataclass(frozen=True)
class SegmentConfig:
    """Everything a segmentation run needs; saved as config.yaml in the run folder.

    Args:
        data: fashion-scenes, volumes, or a folder with images/ + masks/ (PNG) or
            images/ + labels/ (NIfTI).
        dims: 2 (images) or 3 (volumes); None: the data's own.
        model: unet or fcn (see `cnnlab models`).
        model_args: options of the model's config, e.g. {"depth": 4, "base_width": 32}.
        n_train: generated training scenes (None: 2000 scenes, 160 volumes).
        n_val: generated validation scenes (None: 200 scenes, 20 volumes).
        n_test: generated test scenes (None: 500 scenes, 40 volumes).
        size: side of the generated scenes (None: 64 for scenes, 48 for volumes).
        epochs: passes over the training split.
        batch_size: images or volumes per step (None: 32 for 2-D, 4 for 3-D).
        lr: peak learning rate of the one-cycle schedule.
        optimizer: adamw or sgd (Nesterov momentum 0.9).
        weight_decay: decoupled weight decay (AdamW) or L2 (SGD).
        dice_weight: loss = cross-entropy + dice_weight * (1 - soft Dice).
        augment: move image and mask together (2-D: flip, rotate, shift, scale;
            3-D: horizontal flips).
        seed: seeds the generated data, the weights, the batch order and augmentation.
        max_time: stop after this many seconds; the schedule follows elapsed time.
        patience: early stopping after this many epochs without a better val/loss.
        precision: auto (bf16 only where this CPU trains faster in it), 32 or bf16.
        runs_dir: folder that holds run folders.
        name: run folder name; default <model>-<data>.
        progress: show the progress bar.
    """

    data: str = "fashion-scenes"
    dims: int | None = None
    model: str = "unet"
    model_args: dict[str, Any] = field(default_factory=dict)
    n_train: int | None = None
    n_val: int | None = None
    n_test: int | None = None
    size: int | None = None
    epochs: int = 10
    batch_size: int | None = None
    lr: float = 3e-3
    optimizer: Literal["adamw", "sgd"] = "adamw"
    weight_decay: float = 1e-4
    dice_weight: float = 1.0
    augment: bool = True
    seed: int = 0
    max_time: float | None = None
    patience: int | None = None
    precision: Literal["auto", "32", "bf16"] = "auto"
    runs_dir: str = "runs"
    name: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        plain_paths(self)
        checks = {
            "dims": self.dims in (None, 2, 3),
            "n_train": self.n_train is None or self.n_train >= 1,
            "n_val": self.n_val is None or self.n_val >= 0,
            "n_test": self.n_test is None or self.n_test >= 1,
            "size": self.size is None or self.size >= 8,
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size is None or self.batch_size >= 1,
            "lr": self.lr > 0,
            "optimizer": self.optimizer in ("adamw", "sgd"),
            "weight_decay": self.weight_decay >= 0,
            "dice_weight": self.dice_weight >= 0,
            "max_time": self.max_time is None or self.max_time > 0,
            "patience": self.patience is None or self.patience >= 1,
            "precision": self.precision in ("auto", "32", "bf16"),
        }
        check_ranges(self, checks)
        want = DATA_DIMS.get(self.data)
        if want is not None and self.dims is not None and self.dims != want:
            raise ValueError(
                f"dims = {self.dims} but {self.data} are {want}-D; use --dims {want} or leave "
                "it out"
            )
        from cnnlab.models import task_models  # an unknown model fails before data loads

        task_models("segment").get(self.model)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def make_segment_config(
    config: SegmentConfig | dict[str, Any] | None = None, **overrides: Any
) -> SegmentConfig:
    """A SegmentConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    base = config.to_dict() if isinstance(config, SegmentConfig) else dict(config or {})
    base.update(overrides)
    unknown = sorted(set(base) - set(SegmentConfig.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"unknown segment option(s) {', '.join(unknown)}; see SegmentConfig")
    return SegmentConfig(**base)
