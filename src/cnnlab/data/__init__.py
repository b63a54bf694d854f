"""Data: sources on disk, the in-memory batch loader and batched augmentation.

The names below are imported on first use (PEP 562): the torch-free modules (sources,
examples, the registry of datasets) can be used without importing torch, as `cnnlab predict
MODEL.onnx` and `cnnlab datasets` do."""

from typing import Any

__all__ = [
    "DATASETS",
    "Augment",
    "BatchLoader",
    "ImageData",
    "default_augment",
    "from_arrays",
    "load_dataset",
    "make_glyphs",
    "normalize",
    "rotate_batch",
    "shift_batch",
]


def __getattr__(name: str) -> Any:
    if name in ("Augment", "rotate_batch", "shift_batch"):
        from cnnlab.data import augment as module
    elif name in ("DATASETS", "default_augment", "load_dataset"):
        from cnnlab.data import datasets as module
    elif name == "make_glyphs":
        from cnnlab.data import glyphs as module
    elif name in ("ImageData", "from_arrays"):
        from cnnlab.data import images as module
    elif name in ("BatchLoader", "normalize"):
        from cnnlab.data import loader as module
    else:
        raise AttributeError(f"module 'cnnlab.data' has no attribute {name!r}")
    return getattr(module, name)
