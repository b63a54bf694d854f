"""The training configuration: one frozen dataclass, from which the CLI is generated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.config import check_ranges, inherit_arg_docs
from cnnlab.engine.config import LoopConfig


@inherit_arg_docs
@dataclass(frozen=True)
class TrainConfig(LoopConfig):
    """Everything a training run needs; saved as config.yaml in the run folder.

    Args:
        data: a dataset name (fashion-mnist, mnist, cifar10) or a folder.
        model: a registered model name (see `cnnlab models`).
        model_args: options of the model's config, e.g. {"widths": [32, 64]}.
        batch_size: images per step (per process).
        label_smoothing: cross-entropy label smoothing.
        augment: auto (suits the dataset), none, or e.g. "flip,shift=2,rotate=10".
        val_fraction: share of the training images held out for validation.
        train_limit: keep a class-balanced subset of this many training images.
        image_size: resize image-folder data to this square size.
        tta: average the logits of each test image and its mirror image.
        init: weight initialization scheme, e.g. kaiming-normal or normal:std=0.1
            (see `cnnlab inits`; "default" keeps PyTorch's).
        recipe: fast (Fashion-MNIST: about 93 % in under a minute on 2 cores) or best
            (about 94.4 % in 15 minutes): sets model, optimizer, lr, augmentation, epochs or
            time, validation split and test-time flips as measured (docs/benchmarks.md); options
            you type win.
    """

    data: str = "fashion-mnist"
    model: str = "cnn-bn"
    model_args: dict[str, Any] = field(default_factory=dict)
    epochs: int = 5
    batch_size: int = 256
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    augment: str = "auto"
    val_fraction: float = 0.1
    train_limit: int | None = None
    image_size: int | None = None
    tta: bool = False
    init: str = "default"
    recipe: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        checks = {
            "batch_size": ">= 1",
            "label_smoothing": "[0, 1)",
            "val_fraction": "[0, 1)",
            "train_limit": "None or >= 2",
            "recipe": (None, "fast", "best"),
        }
        check_ranges(self, checks)
        from cnnlab.nn.init import parse_init  # an unknown scheme fails before any work

        parse_init(self.init)
