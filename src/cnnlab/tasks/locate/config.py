"""The configuration of a locate run: one frozen dataclass, from which the CLI is generated;
saved as config.yaml in the run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.config import check_ranges, inherit_arg_docs, make_config
from cnnlab.engine.config import LoopConfig


@inherit_arg_docs
@dataclass(frozen=True)
class LocateConfig(LoopConfig):
    """Everything a locate run needs; saved as config.yaml in the run folder.

    Args:
        data: tabletop (simulated, generated and cached on first use), a .npz from
            `cnnlab datasets make tabletop`, or a folder of images with positions.csv.
        model: locate-cnn, locate-coordconv, locate-heatmap or locate-mlp (cnnlab models).
        model_args: options of the model's config, e.g. {"widths": [32, 64, 128]}.
        size: side of the generated tabletop images (pixels).
        n_train: training images to use (None: all).
        batch_size: images per step.
        yaw_weight: loss = position error (Huber, cm) + yaw_weight * yaw error (on the
            doubled angle's sine and cosine); 0 learns the position only.
        augment: small colour and brightness changes to the training images (no flips or
            shifts: they would move the answer).
        seed: seeds the weights, the batch order and augmentation.
    """

    data: str = "tabletop"
    model: str = "locate-coordconv"
    model_args: dict[str, Any] = field(default_factory=dict)
    size: int = 64
    n_train: int | None = None
    batch_size: int = 64
    yaw_weight: float = 5.0
    augment: bool = True
    epochs: int = 30

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ranges(self, {"size": ">= 16", "n_train": "None or >= 1", "batch_size": ">= 1",
                            "yaw_weight": ">= 0"})  # fmt: skip
        from cnnlab.models import task_models  # an unknown model fails before data loads

        task_models("locate").get(self.model)


def make_locate_config(
    config: LocateConfig | dict[str, Any] | None = None, **overrides: Any
) -> LocateConfig:
    """A LocateConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    return make_config(LocateConfig, config, "locate", **overrides)
