"""Transfer learning after the lecture's four-case guide: backbones and the four strategies.

The names below are imported on first use (PEP 562): the command line reads this package's
config without importing torch."""

from typing import Any

__all__ = [
    "GUIDE",
    "STRATEGIES",
    "Diagnosis",
    "Similarity",
    "diagnose",
    "source_data",
    "Backbone",
    "TorchvisionClassifier",
    "Transfer",
    "TransferModel",
    "TransferResult",
    "adapt_input",
    "block_list",
    "build_strategy",
    "early",
    "finetune",
    "head",
    "load_backbone",
    "retrain",
    "select_classes",
    "train_transfer",
]


def __getattr__(name: str) -> Any:
    if name in ("TorchvisionClassifier",):
        from cnnlab.models import torchvision_zoo as module
    elif name in ("TransferModel", "block_list"):
        from cnnlab.models import transferred as module
    elif name in ("Backbone", "adapt_input", "load_backbone"):
        from cnnlab.tasks.transfer import backbones as module
    elif name in ("GUIDE", "Diagnosis", "diagnose"):
        from cnnlab.tasks.transfer import guide as module
    elif name in ("Similarity", "source_data"):
        from cnnlab.tasks.transfer import similarity as module
    elif name in (
        "STRATEGIES",
        "Transfer",
        "TransferResult",
        "build_strategy",
        "early",
        "finetune",
        "head",
        "retrain",
        "select_classes",
    ):
        from cnnlab.tasks.transfer import strategies as module
    elif name in ("train_transfer",):
        from cnnlab.tasks.transfer import task as module
    else:
        raise AttributeError(f"module 'cnnlab.tasks.transfer' has no attribute {name!r}")
    return getattr(module, name)
