"""Image classification datasets held in memory as uint8, found in the order DESIGN.md gives:
an explicit path, $CNNLAB_DATA, ~/.cache/cnnlab, known system locations, a download where the
network allows, and finally the Fashion-MNIST subset shipped inside the package."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from cnnlab.core.errors import DataError
from cnnlab.core.io import cache_dir
from cnnlab.core.registry import Registry
from cnnlab.data import glyphs, sources

EMBEDDED = Path(__file__).parent / "embedded" / "fashion-mnist-subset.npz"
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
CIFAR_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


@dataclass
class ImageData:
    """A classification dataset in memory. Shapes: *_x (N, C, H, W) uint8, *_y (N,) int64."""

    name: str
    classes: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str = ""
    origin: str = ""  # what load_dataset was given: a name, or a folder's absolute path
    mean: tuple[float, ...] = field(default=())
    std: tuple[float, ...] = field(default=())

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_x.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        c, h, w = self.input_shape
        return (
            f"ImageData({self.name!r}, {self.num_classes} classes, {c}x{h}x{w}, "
            f"train {len(self.train_y)}, val {len(self.val_y)}, test {len(self.test_y)})"
        )


@dataclass(frozen=True)
class NamedSource:
    """How to find a named dataset on disk and how to fetch it."""

    classes: list[str]
    find: Callable[[Path], Path | None]
    read: Callable[[Path], dict[str, np.ndarray]]
    subdirs: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()
    download: str = ""  # torchvision class name
    augment: str = "flip,shift=2"
    generate: Callable[[], dict[str, np.ndarray]] | None = None  # made here, never looked for


DATASETS = Registry("dataset", DataError)


def _idx_finder(folder: Path) -> Path | None:
    return folder if sources.find_idx(folder) else None


DATASETS.register("fashion-mnist", help="Zalando's 70,000 28x28 clothing images, 10 classes")(
    NamedSource(
        FASHION_CLASSES,
        _idx_finder,
        sources.load_idx,
        ("fashion-mnist", "FashionMNIST/raw", "fashion_mnist"),
        ("/usr/share/datasets/fashion-mnist",),
        "FashionMNIST",
    )
)
DATASETS.register("mnist", help="LeCun's 70,000 28x28 handwritten digits")(
    NamedSource(
        [str(i) for i in range(10)],
        _idx_finder,
        sources.load_idx,
        ("mnist", "MNIST/raw"),
        ("/usr/share/datasets/mnist",),
        "MNIST",
        "shift=2,rotate=10",
    )
)
DATASETS.register("cifar10", help="60,000 32x32 colour images of 10 classes")(
    NamedSource(
        CIFAR_CLASSES,
        sources.find_cifar,
        sources.load_cifar,
        ("cifar10", "cifar-10", ""),
        ("/usr/share/datasets/cifar10",),
        "CIFAR10",
        "flip,shift=4",
    )
)
DATASETS.register("glyphs", help="letters A-J from the installed fonts, randomly distorted")(
    NamedSource(
        list(glyphs.LETTERS),
        lambda folder: None,
        lambda folder: {},
        (),
        augment="shift=2,rotate=10",  # no flips: a mirrored letter is another shape
        generate=glyphs.glyph_arrays,
    )
)


def search_dirs(root: str | Path | None = None) -> list[Path]:
    """Where named datasets are looked for, in order."""
    dirs = []
    if root is not None:
        dirs.append(Path(root))
    if os.environ.get("CNNLAB_DATA"):
        dirs.append(Path(os.environ["CNNLAB_DATA"]))
    dirs.append(cache_dir())
    return dirs


def network_allowed(host: str = "pypi.org", timeout: float = 2.0) -> bool:
    """False when CNNLAB_OFFLINE is set or no connection opens within `timeout`."""
    if os.environ.get("CNNLAB_OFFLINE"):
        return False
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _locate(name: str, spec: NamedSource, root: str | Path | None) -> tuple[Path | None, str]:
    if spec.generate is not None:
        return None, "generated on this machine"
    tried: list[str] = []
    for base in search_dirs(root):
        for sub in (*spec.subdirs, ""):
            folder = base / sub if sub else base
            hit = spec.find(folder)
            if hit is not None:
                return hit, ""
            tried.append(str(folder))
    for sysdir in spec.system_dirs:
        hit = spec.find(Path(sysdir))
        if hit is not None:
            return hit, ""
        tried.append(sysdir)
    if spec.download and network_allowed():
        import torchvision.datasets as tvd

        target = cache_dir()
        try:
            getattr(tvd, spec.download)(str(target), download=True)
        except Exception as exc:  # any network or archive failure: say so and go on
            tried.append(f"download failed ({exc})")
        else:
            for sub in spec.subdirs:
                hit = spec.find(target / sub)
                if hit is not None:
                    return hit, "downloaded"
    return None, "; ".join(dict.fromkeys(tried))


def _load_embedded() -> dict[str, np.ndarray]:
    with np.load(EMBEDDED) as z:
        out = {k: z[k] for k in ("train_x", "train_y", "test_x", "test_y")}
    out["train_y"] = out["train_y"].astype(np.int64)
    out["test_y"] = out["test_y"].astype(np.int64)
    return out


def _stratified_take(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of about n samples with the class proportions of y, in random order."""
    if n >= len(y):
        return rng.permutation(len(y))
    picks = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = max(1, round(n * len(idx) / len(y)))
        picks.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    return rng.permutation(np.concatenate(picks))


def _split(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Per-class split of indices into (keep, held out); every class keeps at least one."""
    keep, held = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(len(idx) * fraction))
        k = min(k, len(idx) - 1)
        held.append(idx[:k])
        keep.append(idx[k:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))


def load_dataset(
    name: str | Path = "fashion-mnist",
    *,
    root: str | Path | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    train_limit: int | None = None,
    image_size: int | None = None,
    seed: int = 0,
) -> ImageData:
    """Load a named dataset ("fashion-mnist", "mnist", "cifar10", "glyphs") or a folder PATH.

    A folder may hold IDX files, CIFAR-10 batches, or an ImageFolder tree (one sub-folder per
    class, optionally under train/ and test/). Splits are deterministic given `seed`;
    `train_limit` keeps a class-balanced subset of the training split.
    Shapes: images (N, C, H, W) uint8.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    key = str(name)
    classes: list[str]
    if key in DATASETS:
        spec: NamedSource = DATASETS.get(key).factory
        where, note = _locate(key, spec, root)
        if spec.generate is not None:
            arrays = spec.generate()
            source = glyphs.describe(arrays) if key == "glyphs" else f"{key}: {note}"
        elif where is not None:
            arrays = spec.read(where)
            source = f"{key} from {where}" + (f" ({note})" if note else "")
        elif key == "fashion-mnist":
            arrays = _load_embedded()
            source = (
                f"fashion-mnist: the embedded subset ({len(arrays['train_y'])} train / "
                f"{len(arrays['test_y'])} test images); install Debian's dataset-fashion-mnist "
                "or set CNNLAB_DATA for the full 70,000"
            )
        else:
            raise DataError(
                f"dataset {key!r} not found (looked in {note}); put its files in one of those "
                f"folders, set CNNLAB_DATA=FOLDER, or give a path"
            )
        classes = list(spec.classes)
    else:
        path = Path(key).expanduser()
        if not path.exists():
            known = ", ".join(DATASETS.names())
            raise DataError(f"dataset {key!r} is neither a known name ({known}) nor a folder")
        arrays, classes, source = _read_folder(path, image_size, test_fraction, rng)
    name_ = key if key in DATASETS else Path(key).name
    origin = key if key in DATASETS else str(Path(key).expanduser().resolve())
    return _assemble(name_, origin, classes, arrays, source, val_fraction, train_limit, rng)


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
    return _assemble(name, origin, classes, arrays, source, val_fraction, train_limit, rng)


def _assemble(
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
    keep, held = _split(train_y, val_fraction, rng)
    val_x, val_y = train_x[held], train_y[held]
    train_x, train_y = train_x[keep], train_y[keep]
    if train_limit is not None:
        pick = np.sort(_stratified_take(train_y, int(train_limit), rng))
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


def _read_folder(
    path: Path, image_size: int | None, test_fraction: float, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], list[str], str]:
    if path.is_dir() and sources.find_idx(path):
        return sources.load_idx(path), [str(i) for i in range(10)], f"IDX files in {path}"
    cifar = sources.find_cifar(path) if path.is_dir() else None
    if cifar is not None:
        return sources.load_cifar(cifar), list(CIFAR_CLASSES), f"CIFAR-10 batches in {cifar}"
    size = (image_size, image_size) if image_size else None
    train_dir, test_dir = path / "train", path / "test"
    if train_dir.is_dir() and test_dir.is_dir():
        classes, items = sources.list_image_folder(train_dir)
        t_classes, t_items = sources.list_image_folder(test_dir)
        if t_classes != classes:
            raise DataError(
                f"{test_dir} has classes {t_classes} but {train_dir} has {classes}; "
                "use the same class folders in both"
            )
        x = sources.read_images([f for f, _ in items], size)
        tx = sources.read_images([f for f, _ in t_items], x.shape[2:], x.shape[1])
        arrays = {
            "train_x": x,
            "train_y": np.array([c for _, c in items], dtype=np.int64),
            "test_x": tx,
            "test_y": np.array([c for _, c in t_items], dtype=np.int64),
        }
    else:
        classes, items = sources.list_image_folder(path)
        x = sources.read_images([f for f, _ in items], size)
        y = np.array([c for _, c in items], dtype=np.int64)
        keep, held = _split(y, test_fraction, rng)
        arrays = {"train_x": x[keep], "train_y": y[keep], "test_x": x[held], "test_y": y[held]}
    n = len(arrays["train_y"]) + len(arrays["test_y"])
    return arrays, classes, f"image folder {path} ({n} images, {len(classes)} classes)"


def default_augment(name: str) -> str:
    """The augmentation that suits a dataset: no flips for digits, wider shifts for CIFAR."""
    if name in DATASETS:
        return DATASETS.get(name).factory.augment
    return "flip,shift=2"
