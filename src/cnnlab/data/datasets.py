"""Image classification datasets held in memory as uint8, found in the order DESIGN.md gives:
an explicit path, $CNNLAB_DATA, ~/.cache/cnnlab, known system locations, a download where the
network allows, and finally the Fashion-MNIST subset shipped inside the package."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnlab.core.errors import DataError
from cnnlab.core.io import cache_dir
from cnnlab.core.registry import Registry, did_you_mean
from cnnlab.data import glyphs, sources
from cnnlab.data.splits import split_indices

if TYPE_CHECKING:  # images imports torch: listing and locating datasets need none
    from cnnlab.data.images import ImageData

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


def locate(
    name: str, spec: NamedSource, root: str | Path | None, download: bool = True
) -> tuple[Path | None, str]:
    """Where dataset `name` is on disk (and a note), looking in the search folders and the
    system folders; with `download`, fetching it where the network allows."""
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
    if download and spec.download and network_allowed():
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


def load_embedded() -> dict[str, np.ndarray]:
    with np.load(EMBEDDED) as z:
        out = {k: z[k] for k in ("train_x", "train_y", "test_x", "test_y")}
    out["train_y"] = out["train_y"].astype(np.int64)
    out["test_y"] = out["test_y"].astype(np.int64)
    return out


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
        where, note = locate(key, spec, root)
        if spec.generate is not None:
            arrays = spec.generate()
            source = glyphs.describe(arrays) if key == "glyphs" else f"{key}: {note}"
        elif where is not None:
            arrays = spec.read(where)
            source = f"{key} from {where}" + (f" ({note})" if note else "")
        elif key == "fashion-mnist":
            arrays = load_embedded()
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
            hint = did_you_mean(key, DATASETS.names())
            raise DataError(f"dataset {key!r}{hint} is neither a known name ({known}) nor a folder")
        arrays, classes, source = _read_folder(path, image_size, test_fraction, rng)
    from cnnlab.data.images import assemble

    name_ = key if key in DATASETS else Path(key).name
    origin = key if key in DATASETS else str(Path(key).expanduser().resolve())
    return assemble(name_, origin, classes, arrays, source, val_fraction, train_limit, rng)


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
        keep, held = split_indices(y, test_fraction, rng)
        arrays = {"train_x": x[keep], "train_y": y[keep], "test_x": x[held], "test_y": y[held]}
    n = len(arrays["train_y"]) + len(arrays["test_y"])
    return arrays, classes, f"image folder {path} ({n} images, {len(classes)} classes)"


def load_dataset_of(cfg: Any) -> ImageData:
    """The ImageData a run's config names: its data, val_fraction, train_limit, image_size and
    seed (a config object or a config.yaml dict; missing keys take load_dataset's defaults)."""
    get = cfg.get if isinstance(cfg, dict) else lambda k, d=None: getattr(cfg, k, d)
    return load_dataset(get("data", "fashion-mnist"), val_fraction=get("val_fraction", 0.1),
                        train_limit=get("train_limit"), image_size=get("image_size"),
                        seed=get("seed", 0))  # fmt: skip


def default_augment(name: str) -> str:
    """The augmentation that suits a dataset: no flips for digits, wider shifts for CIFAR."""
    if name in DATASETS:
        return DATASETS.get(name).factory.augment
    return "flip,shift=2"
