"""Seeded, stratified index splits shared by every kind of data (images, texts); numpy only."""

from __future__ import annotations

import numpy as np


def stratified_take(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of about n samples with the class proportions of y, in random order."""
    if n >= len(y):
        return rng.permutation(len(y))
    picks = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = max(1, round(n * len(idx) / len(y)))
        picks.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    return rng.permutation(np.concatenate(picks))


def split_indices(
    y: np.ndarray, fraction: float, rng: np.random.Generator, min_held: int = 0
) -> tuple[np.ndarray, ...]:
    """Per-class split of indices into (keep, held out); every class keeps at least one and
    holds out at least `min_held` (when it has more than that)."""
    keep, held = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = max(int(round(len(idx) * fraction)), min_held)
        k = min(k, len(idx) - 1)
        held.append(idx[:k])
        keep.append(idx[k:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))
