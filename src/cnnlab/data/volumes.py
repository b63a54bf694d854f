"""`volumes`: generated 3-D scenes that mimic an underwater survey.

Axis 0 of a volume is depth, counted down from the sea surface (the sonar's range); axes 1
and 2 are horizontal. A sloping, rough seabed (a plane plus smooth noise) fills the bottom;
1-4 objects (sphere, box, upright cylinder) rest on it, sunk one voxel into it so they
touch. Echo intensity falls with range and carries multiplicative speckle, as sonar does.
"""

from __future__ import annotations

import numpy as np
import torch

from cnnlab.data.scenes import SegData

VOLUME_CLASSES = ["water", "seabed", "sphere", "box", "cylinder"]
# mean echo strength of each class before range loss and speckle (of 255)
BRIGHTNESS = np.array([25.0, 120.0, 230.0, 200.0, 170.0], dtype=np.float32)
SPECKLE_LOOKS = 4.0  # gamma shape of the speckle: more looks, less noise


def _seabed_depth(rng: np.random.Generator, size: int) -> np.ndarray:
    """Depth of the seabed surface at every (y, x): a tilted plane plus a few smooth waves.

    Shapes: (size, size) float32, values in [0.5 * size, 0.85 * size]."""
    g = np.arange(size, dtype=np.float32) / size
    yy, xx = np.meshgrid(g, g, indexing="ij")
    base = rng.uniform(0.6, 0.72)
    slope_y, slope_x = rng.uniform(-0.12, 0.12, size=2)
    h = base + slope_y * (yy - 0.5) + slope_x * (xx - 0.5)
    for _ in range(4):  # roughness: random low-frequency sinusoids
        fy, fx = rng.uniform(1.0, 4.0, size=2)
        phase = rng.uniform(0, 2 * np.pi)
        h += rng.uniform(0.005, 0.02) * np.sin(2 * np.pi * (fy * yy + fx * xx) + phase)
    return (np.clip(h, 0.5, 0.85) * size).astype(np.float32)


def make_volume(rng: np.random.Generator, size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """One scene. Shapes: image (size, size, size) uint8, labels (size, size, size) int64."""
    z, y, x = np.meshgrid(*(np.arange(size, dtype=np.float32),) * 3, indexing="ij", sparse=True)
    seabed = _seabed_depth(rng, size)  # (H, W)
    labels = np.where(z >= seabed[None], 1, 0).astype(np.int64)  # (D, H, W)
    # one object per horizontal quadrant at most, so objects never overlap
    half = size // 2
    quadrants = rng.permutation(4)[: int(rng.integers(1, 5))]
    for q in quadrants:
        kind = int(rng.integers(3))  # 0 sphere, 1 box, 2 cylinder
        r = rng.uniform(0.07, 0.15) * size  # radius or half-width, in voxels
        margin = int(np.ceil(r)) + 1
        cy = (q // 2) * half + rng.integers(margin, max(half - margin, margin + 1))
        cx = (q % 2) * half + rng.integers(margin, max(half - margin, margin + 1))
        # the bottom sits one voxel below the seabed surface under the centre, so every
        # object touches the seabed (and sinks a little into it on the up-slope side)
        bottom = float(seabed[cy, cx]) + 1.0
        if kind == 0:
            inside = (z - (bottom - r)) ** 2 + (y - cy) ** 2 + (x - cx) ** 2 <= r**2
        elif kind == 1:
            height = rng.uniform(0.8, 1.6) * r
            inside = (
                (z <= bottom)
                & (z >= bottom - height)
                & (np.abs(y - cy) <= r)
                & (np.abs(x - cx) <= r * rng.uniform(0.6, 1.0))
            )
        else:
            height = rng.uniform(1.5, 2.5) * r
            inside = (
                (z <= bottom) & (z >= bottom - height) & ((y - cy) ** 2 + (x - cx) ** 2 <= r**2)
            )
        labels[inside] = 2 + kind
    # echo: class brightness, a little seabed texture, loss with range, then speckle
    echo = BRIGHTNESS[labels]
    echo *= 1.0 - 0.55 * (z / size)  # intensity falls with depth from the top
    speckle = rng.gamma(SPECKLE_LOOKS, 1.0 / SPECKLE_LOOKS, size=labels.shape)
    image = np.clip(echo * speckle, 0, 255).astype(np.uint8)
    return image, labels


def volumes(
    n_train: int = 160, n_val: int = 20, n_test: int = 40, size: int = 48, seed: int = 0
) -> SegData:
    """Generated underwater survey volumes: water / seabed / sphere / box / cylinder.

    Deterministic given `seed`; each split has its own random stream.
    Shapes: x (N, 1, size, size, size) uint8, y (N, size, size, size) int64.
    """
    for name, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if n < 0:
            raise ValueError(f"{name} must be >= 0, got {n}")
    if size < 16:
        raise ValueError(f"size must be >= 16 voxels, got {size}")
    splits = []
    for split, n in enumerate((n_train, n_val, n_test)):
        rng = np.random.default_rng([seed, split])
        xs = np.zeros((n, 1, size, size, size), dtype=np.uint8)
        ys = np.zeros((n, size, size, size), dtype=np.int64)
        for k in range(n):
            xs[k, 0], ys[k] = make_volume(rng, size)
        splits.append((torch.from_numpy(xs), torch.from_numpy(ys)))
    (tx, ty), (vx, vy), (sx, sy) = splits
    return SegData(
        name="volumes",
        classes=list(VOLUME_CLASSES),
        train_x=tx,
        train_y=ty,
        val_x=vx,
        val_y=vy,
        test_x=sx,
        test_y=sy,
        source=f"volumes: generated underwater scenes, {size}^3 voxels",
        spatial_dims=3,
    )
