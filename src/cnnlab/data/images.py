"""Image classification data in memory (ImageData) and how it is assembled from train/test
arrays: the class-balanced validation split and training subset, mean and std."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from cnnlab.data.splits import split_indices, stratified_take


@dataclass
class Splits:
    """Train, validation and test tensors in memory, and the class names (the base of
    ImageData and SegData). Shapes: *_x (N, C, *S) uint8; *_y (N,) or (N, *S) int64."""

    name: str
    classes: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str = ""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.input_shape)
        return (
            f"{type(self).__name__}({self.name!r}, {self.num_classes} classes, {shape}, "
            f"train {len(self.train_y)}, val {len(self.val_y)}, test {len(self.test_y)})"
        )


@dataclass(repr=False)
class ImageData(Splits):
    """A classification dataset in memory. Shapes: *_x (N, C, H, W) uint8, *_y (N,) int64."""

    origin: str = ""  # what load_dataset was given: a name, or a folder's absolute path
    mean: tuple[float, ...] = field(default=())
    std: tuple[float, ...] = field(default=())


def from_arrays(
    name: str,
    classes: list[str],
    arrays: dict[str, np.ndarray],
    *,
    source: str = "",
    origin: str = "",
    val_fraction: float = 0.1,
    train_limit: int | None = None,
    seed: int = 0,
) -> ImageData:
    """ImageData from train/test arrays, with the validation split load_dataset makes.

    Shapes: arrays["train_x"] (N, C, H, W) uint8, arrays["train_y"] (N,) int64; same for test.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    return assemble(name, origin, classes, arrays, source, val_fraction, train_limit, rng)


def assemble(
    name: str,
    origin: str,
    classes: list[str],
    arrays: dict[str, np.ndarray],
    source: str,
    val_fraction: float,
    train_limit: int | None,
    rng: np.random.Generator,
) -> ImageData:
    train_x, train_y = arrays["train_x"], arrays["train_y"]
    keep, held = split_indices(train_y, val_fraction, rng)
    val_x, val_y = train_x[held], train_y[held]
    train_x, train_y = train_x[keep], train_y[keep]
    if train_limit is not None:
        pick = np.sort(stratified_take(train_y, int(train_limit), rng))
        train_x, train_y = train_x[pick], train_y[pick]
    tx = torch.from_numpy(np.ascontiguousarray(train_x))
    mean = tx.float().mean(dim=(0, 2, 3)).div(255).tolist()
    std = tx.float().div(255).std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()
    return ImageData(
        name=name,
        classes=classes,
        train_x=tx,
        train_y=torch.from_numpy(np.ascontiguousarray(train_y)),
        val_x=torch.from_numpy(np.ascontiguousarray(val_x)),
        val_y=torch.from_numpy(np.ascontiguousarray(val_y)),
        test_x=torch.from_numpy(np.ascontiguousarray(arrays["test_x"])),
        test_y=torch.from_numpy(np.ascontiguousarray(arrays["test_y"])),
        source=source,
        origin=origin,
        mean=tuple(round(m, 4) for m in mean),
        std=tuple(round(s, 4) for s in std),
    )


def first_per_class(data: ImageData, split: str, per: int) -> ImageData:
    """`data` with only the first `per` images of each class in `split` ("train" or "test"; the
    order the split already has), the other splits unchanged. Shapes: as `data`."""
    import dataclasses

    y = getattr(data, f"{split}_y")
    keep = torch.cat([torch.nonzero(y == c)[:per, 0] for c in range(data.num_classes)])
    keep = keep.sort().values
    x = getattr(data, f"{split}_x")
    return dataclasses.replace(data, **{f"{split}_x": x[keep], f"{split}_y": y[keep]})
