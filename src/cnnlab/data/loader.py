"""The in-memory batch loader: a batch is one index operation on a uint8 tensor."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from cnnlab.data.augment import Augment


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 images to normalized float. Shapes: (B, C, H, W) -> (B, C, H, W) float32."""
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x.float().div_(255) - m).div_(s)


class BatchLoader:
    """Shuffled (or ordered) mini-batches of normalized, optionally augmented images.

    The order and the augmentation of epoch e depend only on (seed, e), so a resumed run sees
    exactly the batches an uninterrupted one would. With world_size > 1 each rank takes every
    world_size-th sample of the same permutation.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        shuffle: bool = False,
        augment: Augment | None = None,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        channels_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.mean, self.std = tuple(mean), tuple(std)
        self.shuffle = shuffle
        self.augment = augment if augment is not None and augment.active else None
        self.seed = seed
        self.drop_last = drop_last
        self.rank, self.world_size = rank, world_size
        self.channels_last = channels_last

    def _indices(self, epoch: int) -> torch.Tensor:
        n = len(self.y)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            idx = torch.randperm(n, generator=g)
        else:
            idx = torch.arange(n)
        # trim to a multiple of world_size so every rank runs the same number of steps (an
        # unequal count makes DDP wait forever), as DistributedSampler(drop_last=True) does
        idx = idx[: len(idx) - len(idx) % self.world_size] if self.world_size > 1 else idx
        return idx[self.rank :: self.world_size]

    def __len__(self) -> int:
        n = len(self.y) // self.world_size
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def epoch(self, epoch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (images, labels). Shapes: (B, C, H, W) float32, (B,) int64."""
        idx = self._indices(epoch)
        gen = torch.Generator().manual_seed(self.seed * 100_003 + epoch + 7_919)
        # shifted/rotated-in pixels are black (0 before normalizing), not the mean grey
        black = -torch.tensor(self.mean) / torch.tensor(self.std)
        for i in range(len(self)):
            sel = idx[i * self.batch_size : (i + 1) * self.batch_size]
            xb = normalize(self.x[sel], self.mean, self.std)
            if self.augment is not None:
                xb = self.augment(xb, gen, fill=black)
            if self.channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            yield xb, self.y[sel]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.epoch(0)
