"""Data: sources on disk, the in-memory batch loader and batched augmentation."""

from cnnlab.data.augment import Augment, rotate_batch, shift_batch
from cnnlab.data.datasets import DATASETS, default_augment, load_dataset
from cnnlab.data.glyphs import make_glyphs
from cnnlab.data.images import ImageData, from_arrays
from cnnlab.data.loader import BatchLoader, normalize

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
