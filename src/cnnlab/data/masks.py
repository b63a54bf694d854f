"""Your own segmentation data: a folder of images with a folder of masks, or NIfTI volume
pairs. Files pair by stem (`cat.jpg` with `cat.png`, `a.nii.gz` with `a.nii`). Everything is
checked while loading, before any training, and each problem is one DataError line naming
the file and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from cnnlab.core.errors import DataError
from cnnlab.data.scenes import SegData
from cnnlab.data.sources import open_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MASK_SUFFIXES = (".png",)  # JPEG compression would blur label values
NIFTI_SUFFIXES = (".nii", ".nii.gz")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".nii.gz", *IMAGE_SUFFIXES, ".nii"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _pair(
    images_dir: Path,
    masks_dir: Path,
    img_suf: tuple[str, ...],
    mask_suf: tuple[str, ...],
    what: str,
    words: tuple[str, str] = ("image", "mask"),
) -> list[tuple[Path, Path]]:
    """(image, mask) paths paired by stem; a file without its partner is an error."""
    for d in (images_dir, masks_dir):
        if not d.is_dir():
            raise DataError(f"{d} is not a folder; give the folder that holds the {what}")

    def listing(d: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
        files = [
            f for f in sorted(d.iterdir()) if f.is_file() and f.name.lower().endswith(suffixes)
        ]
        if not files:
            raise DataError(f"no {'/'.join(suffixes)} files in {d}; put the {what} there")
        return {_stem(f): f for f in files}

    images, masks = listing(images_dir, img_suf), listing(masks_dir, mask_suf)
    for stem, f in images.items():
        if stem not in masks:
            raise DataError(
                f"{words[0]} {f} has no {words[1]}; add {masks_dir / (stem + mask_suf[0])} "
                "or remove it"
            )
    for stem, f in masks.items():
        if stem not in images:
            raise DataError(
                f"{words[1]} {f} has no {words[0]}; add {images_dir}/{stem}.* or remove it"
            )
    return [(images[s], masks[s]) for s in sorted(images)]


def read_mask(path: Path) -> np.ndarray:
    """Label values of a PNG mask: gray levels as they are, palette PNGs as palette indices.

    Shapes: (H, W) int64."""
    im = open_image(path, what="mask", fix="remove or replace the file")
    mode = im.mode
    arr = np.asarray(im)  # a "P" image gives its palette indices, not colours
    if mode not in ("P", "L", "I", "I;16", "1"):
        raise DataError(
            f"mask {path} is a {mode} image; save it as a palette PNG or with the class ids "
            "as gray values (0 = background)"
        )
    return arr.astype(np.int64)


def _check_labels(
    labels: list[np.ndarray], files: list[Path], num_classes: int | None, what: str = "mask"
) -> int:
    """num_classes, given or inferred as the largest label + 1; values outside are errors."""
    top = max(int(y.max()) for y in labels)
    n = num_classes if num_classes is not None else top + 1
    for y, f in zip(labels, files, strict=True):
        if y.min() < 0 or y.max() >= n:
            bad = int(y.max()) if y.max() >= n else int(y.min())
            raise DataError(
                f"{what} {f} holds label {bad}, outside 0..{n - 1} for {n} classes; "
                "fix the mask or raise num_classes"
            )
    return n


def _split(
    name: str,
    classes: list[str],
    x: np.ndarray,
    y: np.ndarray,
    source: str,
    spatial_dims: int,
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> SegData:
    """Random train/val/test split of paired arrays; every split keeps at least 1 sample
    when there are enough of them."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if not 0.0 <= test_fraction < 1.0 or val_fraction + test_fraction >= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1 - val_fraction), got {test_fraction}")
    n = len(x)
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(max(int(round(n * test_fraction)), 1 if test_fraction else 0), n - 1)
    n_val = min(max(int(round(n * val_fraction)), 1 if val_fraction else 0), n - 1 - n_test)
    n_val = max(n_val, 0)
    te, va, tr = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]

    def t(a: np.ndarray, idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a[np.sort(idx)]))

    return SegData(
        name, classes, t(x, tr), t(y, tr), t(x, va), t(y, va), t(x, te), t(y, te),
        source=source, spatial_dims=spatial_dims,
    )  # fmt: skip


def _class_names(n: int, class_names: list[str] | None) -> list[str]:
    if class_names is None:
        return ["background", *(f"class {i}" for i in range(1, n))]
    if len(class_names) != n:
        raise DataError(f"{len(class_names)} class names given for {n} classes; give {n} names")
    return list(class_names)


def load_mask_folder(
    images_dir: str | Path,
    masks_dir: str | Path,
    *,
    num_classes: int | None = None,
    class_names: list[str] | None = None,
    channels: int | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> SegData:
    """Images (PNG/JPEG) with masks (PNG: class ids as gray values, or a palette PNG whose
    indices are the class ids), paired by file stem. All pairs must share one size.

    num_classes: labels must lie in 0..num_classes-1; without it, the largest label + 1.
    Shapes: x (N, C, H, W) uint8, y (N, H, W) int64.
    """
    from cnnlab.data.sources import read_images

    images_dir, masks_dir = Path(images_dir), Path(masks_dir)
    pairs = _pair(images_dir, masks_dir, IMAGE_SUFFIXES, MASK_SUFFIXES, "images and masks")
    masks = [read_mask(m) for _, m in pairs]
    first = masks[0].shape
    xs = []
    for (img, msk), y in zip(pairs, masks, strict=True):
        x = read_images([img], None, channels)  # (1, C, H, W)
        if x.shape[2:] != y.shape:
            raise DataError(
                f"mask {msk} is {y.shape[1]}x{y.shape[0]} but its image {img} is "
                f"{x.shape[3]}x{x.shape[2]}; save the mask at the image's size"
            )
        if y.shape != first:
            raise DataError(
                f"image {img} is {y.shape[1]}x{y.shape[0]} but {pairs[0][0]} is "
                f"{first[1]}x{first[0]}; resize all pairs to one size"
            )
        xs.append(x[0])
    if channels is None:  # colour if any image has colour, as read_images decides for a set
        c = max(x.shape[0] for x in xs)
        xs = [np.repeat(x, c, axis=0) if x.shape[0] != c else x for x in xs]
    n = _check_labels(masks, [m for _, m in pairs], num_classes)
    source = f"mask folder {masks_dir} with images {images_dir} ({len(pairs)} pairs)"
    return _split(
        images_dir.name, _class_names(n, class_names), np.stack(xs), np.stack(masks), source,
        2, val_fraction, test_fraction, seed,
    )  # fmt: skip


def read_nifti(path: Path, what: str) -> np.ndarray:
    """A NIfTI file as a 3-D array (trailing axes of size 1 dropped). Shapes: (D, H, W)."""
    import nibabel as nib

    try:
        arr = np.asarray(nib.load(str(path)).dataobj)
    except Exception as exc:  # nibabel raises many kinds for a broken file
        raise DataError(f"cannot read {what} {path}: {exc}; remove or replace the file") from None
    while arr.ndim > 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3:
        raise DataError(
            f"{what} {path} has shape {arr.shape}, not 3-D; give one 3-D volume per file"
        )
    return arr


def to_uint8(volume: np.ndarray) -> np.ndarray:
    """Scale intensities to 0..255 between the volume's 1st and 99th percentile, so a few
    extreme voxels (metal in CT, say) do not squash the rest. Shapes: unchanged."""
    v = volume.astype(np.float32)
    lo, hi = np.percentile(v, [1, 99])
    if hi <= lo:
        lo, hi = float(v.min()), float(v.max()) + 1e-6
    return (np.clip((v - lo) / (hi - lo), 0, 1) * 255).round().astype(np.uint8)


def load_nifti_pairs(
    images_dir: str | Path,
    labels_dir: str | Path,
    *,
    num_classes: int | None = None,
    class_names: list[str] | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> SegData:
    """NIfTI volumes with label volumes of the same shape, paired by stem. The array axes
    are kept in the file's order. Intensities are scaled per volume to uint8 (see to_uint8).

    Shapes: x (N, 1, D, H, W) uint8, y (N, D, H, W) int64.
    """
    images_dir, labels_dir = Path(images_dir), Path(labels_dir)
    pairs = _pair(
        images_dir, labels_dir, NIFTI_SUFFIXES, NIFTI_SUFFIXES, "NIfTI volumes",
        ("volume", "label volume"),
    )  # fmt: skip
    xs, ys = [], []
    for img, lab in pairs:
        x, y = read_nifti(img, "volume"), read_nifti(lab, "label volume")
        if x.shape != y.shape:
            raise DataError(
                f"label volume {lab} has shape {y.shape} but its volume {img} has {x.shape}; "
                "save the labels on the volume's grid"
            )
        if xs and x.shape != xs[0].shape:
            raise DataError(
                f"volume {img} has shape {x.shape} but {pairs[0][0]} has {xs[0].shape}; "
                "resample all volumes to one shape"
            )
        if not np.array_equal(y, np.round(y)):
            raise DataError(f"label volume {lab} holds non-integer values; store class ids")
        xs.append(to_uint8(x))
        ys.append(y.astype(np.int64))
    n = _check_labels(ys, [lab for _, lab in pairs], num_classes, "label volume")
    source = f"NIfTI pairs: volumes {images_dir}, labels {labels_dir} ({len(pairs)} pairs)"
    return _split(
        images_dir.name, _class_names(n, class_names), np.stack(xs)[:, None], np.stack(ys),
        source, 3, val_fraction, test_fraction, seed,
    )  # fmt: skip
