"""The settings of one transfer strategy's training (light: the command line reads them
without importing torch)."""

from __future__ import annotations

from dataclasses import dataclass

from cnnlab.core.config import check_ranges
from cnnlab.engine.config import LoopConfig

SMALL_BELOW = 100  # images per class: the guide's size threshold (guide.py, the studies read it)


@dataclass(frozen=True)
class TransferRunConfig(LoopConfig):
    """One strategy's training (the loop settings, and the batches and loss).

    Args:
        transfer: the guide's strategy: head, early, finetune or retrain (`strategy` is the
            Fabric strategy of the loop settings: auto, ddp, ...).
        model: what model.json calls the result.
        batch_size: images per step.
        label_smoothing: cross-entropy label smoothing.
        cache_features: head and early: run the frozen part once per image set and keep its
            output in $CNNLAB_CACHE/features (False: run it on every batch of every epoch).
    """

    transfer: str = "head"
    model: str = "transferred"
    batch_size: int = 64
    label_smoothing: float = 0.1
    cache_features: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ranges(self, {"batch_size": ">= 1", "label_smoothing": "[0, 1)"})
