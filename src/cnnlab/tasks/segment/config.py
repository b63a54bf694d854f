"""The configuration of a segmentation run: one frozen dataclass, from which the CLI is
generated; saved as config.yaml in the run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.config import check_ranges, inherit_arg_docs, make_config
from cnnlab.engine.config import LoopConfig

DATA_DIMS = {"fashion-scenes": 2, "volumes": 3}
BATCH = {2: 32, 3: 4}  # default batch sizes: a 48^3 volume costs as much as 27 64x64 images


@inherit_arg_docs
@dataclass(frozen=True)
class SegmentConfig(LoopConfig):
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
        batch_size: images or volumes per step (None: 32 for 2-D, 4 for 3-D).
        dice_weight: loss = cross-entropy + dice_weight * (1 - soft Dice).
        augment: move image and mask together (2-D: flip, rotate, shift, scale;
            3-D: horizontal flips).
        seed: seeds the generated data, the weights, the batch order and augmentation.
    """

    data: str = "fashion-scenes"
    dims: int | None = None
    model: str = "unet"
    model_args: dict[str, Any] = field(default_factory=dict)
    n_train: int | None = None
    n_val: int | None = None
    n_test: int | None = None
    size: int | None = None
    batch_size: int | None = None
    dice_weight: float = 1.0
    augment: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        checks = {
            "dims": (None, 2, 3),
            "n_train": "None or >= 1",
            "n_val": "None or >= 0",
            "n_test": "None or >= 1",
            "size": "None or >= 8",
            "batch_size": "None or >= 1",
            "dice_weight": ">= 0",
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


def make_segment_config(
    config: SegmentConfig | dict[str, Any] | None = None, **overrides: Any
) -> SegmentConfig:
    """A SegmentConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    return make_config(SegmentConfig, config, "segment", **overrides)
