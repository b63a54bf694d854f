"""Segmentation data in memory (`SegData`) and `fashion-scenes`: canvases composed of real
Fashion-MNIST items, labelled per pixel from each item's own silhouette."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from cnnlab.data.datasets import FASHION_CLASSES
from cnnlab.data.images import ImageData, Splits

SCENE_CLASSES = ["background", *FASHION_CLASSES]
THRESHOLD = 10  # an item pixel above this (of 255) is part of its silhouette
SCALES = (0.7, 1.6)  # item side = 28 * a uniform factor in this range


@dataclass(repr=False)
class SegData(Splits):
    """A segmentation dataset in memory. Shapes: *_x (N, C, H, W) or (N, C, D, H, W) uint8,
    *_y (N, H, W) or (N, D, H, W) int64 class ids; classes[0] is the background."""

    spatial_dims: int = 2
    mean: tuple[float, ...] = field(default=())
    std: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.mean and len(self.train_x):
            # per-channel statistics of the training images, for the loader's normalization
            axes = (0, *range(2, self.train_x.dim()))
            x = self.train_x.float().div(255)
            self.mean = tuple(round(v, 4) for v in x.mean(dim=axes).tolist())
            self.std = tuple(round(v, 4) for v in x.std(dim=axes).clamp_min(1e-3).tolist())


@dataclass(frozen=True)
class Placement:
    """Where one item went: source index, top-left corner (may be negative), side length."""

    index: int
    top: int
    left: int
    side: int


def resize_nearest(item: np.ndarray, side: int) -> np.ndarray:
    """Nearest-neighbour resize of a square (h, h) item, so every pixel is a source pixel.

    Shapes: (h, h) -> (side, side)."""
    idx = (np.arange(side) * item.shape[0] // side).astype(np.int64)
    return item[np.ix_(idx, idx)]


def compose_scene(
    items_x: np.ndarray,
    items_y: np.ndarray,
    rng: np.random.Generator,
    size: int = 64,
    max_items: int = 4,
) -> tuple[np.ndarray, np.ndarray, list[Placement]]:
    """One canvas of 1..max_items items at random positions and scales; later items are
    drawn over earlier ones. Label = item class + 1 on the item's silhouette.

    Shapes: items_x (N, 28, 28) uint8 -> canvas (size, size) uint8, mask (size, size) int64.
    """
    canvas = np.zeros((size, size), dtype=np.uint8)
    mask = np.zeros((size, size), dtype=np.int64)
    placements = []
    for _ in range(int(rng.integers(1, max_items + 1))):
        i = int(rng.integers(len(items_x)))
        side = max(4, int(round(items_x.shape[-1] * rng.uniform(*SCALES))))
        # a quarter of an item may leave the canvas, so items are cut by edges sometimes
        lo, hi = -side // 4, size - side + side // 4
        top, left = (int(v) for v in rng.integers(min(lo, hi), max(lo, hi) + 1, size=2))
        item = resize_nearest(items_x[i], side)
        # clip the item's box to the canvas
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + side, size), min(left + side, size)
        if r1 <= r0 or c1 <= c0:
            continue
        patch = item[r0 - top : r1 - top, c0 - left : c1 - left]
        on = patch > THRESHOLD  # the item's own silhouette
        canvas[r0:r1, c0:c1][on] = patch[on]
        mask[r0:r1, c0:c1][on] = int(items_y[i]) + 1
        placements.append(Placement(i, top, left, side))
    return canvas, mask, placements


def compose_split(
    x: torch.Tensor, y: torch.Tensor, n: int, size: int, max_items: int, seed: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` canvases from the items x with labels y (seeded by `seed`). The draws do not
    depend on the labels, so other labels give the same scenes labelled differently: item
    indices (torch.arange(len(x))) give each pixel's item + 1, a classifier's predictions give
    the mask a perfect outline would have with that classifier's classes.
    Shapes: x (N, 1, 28, 28) uint8, y (N,) -> images (n, 1, size, size), masks (n, size, size)."""
    rng = np.random.default_rng(seed)
    items_x, items_y = x[:, 0].numpy(), y.numpy()  # (N, 28, 28), (N,)
    images = np.zeros((n, 1, size, size), dtype=np.uint8)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for k in range(n):
        images[k, 0], masks[k], _ = compose_scene(items_x, items_y, rng, size, max_items)
    return torch.from_numpy(images), torch.from_numpy(masks)


def fashion_scenes(
    n_train: int = 2000,
    n_val: int = 200,
    n_test: int = 500,
    size: int = 64,
    max_items: int = 4,
    seed: int = 0,
    items: ImageData | None = None,
) -> SegData:
    """Canvases of 1..max_items real Fashion-MNIST items, labelled per pixel.

    Train, validation and test canvases take items from the matching split of `items`
    (default: `load_dataset("fashion-mnist")`), so no item is seen in two splits.
    Deterministic given `seed`. Shapes: x (N, 1, size, size) uint8, y (N, size, size) int64.
    """
    for name, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if n < 0:
            raise ValueError(f"{name} must be >= 0, got {n}")
    if size < 8:
        raise ValueError(f"size must be >= 8 pixels, got {size}")
    if max_items < 1:
        raise ValueError(f"max_items must be >= 1, got {max_items}")
    if items is None:
        from cnnlab.data.datasets import load_dataset

        items = load_dataset("fashion-mnist", seed=seed)
    if items.input_shape[0] != 1:
        raise ValueError(f"items must be 1-channel images, got shape {items.input_shape}")
    parts = []
    for split, (x, y, n) in enumerate(
        (
            (items.train_x, items.train_y, n_train),
            (items.val_x, items.val_y, n_val),
            (items.test_x, items.test_y, n_test),
        )
    ):
        if not len(y):  # no validation split in `items`: fall back to training items
            x, y = items.train_x, items.train_y
        parts.append(compose_split(x, y, n, size, max_items, [seed, split]))
    (tx, ty), (vx, vy), (sx, sy) = parts
    return SegData(
        name="fashion-scenes",
        classes=list(SCENE_CLASSES),
        train_x=tx,
        train_y=ty,
        val_x=vx,
        val_y=vy,
        test_x=sx,
        test_y=sy,
        source=f"fashion-scenes: {size}x{size} canvases of 1-{max_items} items; {items.source}",
        spatial_dims=2,
    )
