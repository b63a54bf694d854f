"""Masks from a segmentation run: whole images and volumes, with sliding-window inference
when the input is larger than the crops the model was trained on.

A window sees what a training crop saw, so a network trained on 64x64 canvases is not asked
to generalize to a 512x512 context at once; overlapping windows are averaged in logit space
so the seams between them do not show.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.core.errors import DataError
from cnnlab.core.io import atomic_write
from cnnlab.engine.runs import ModelMeta, load_model

NIFTI = (".nii.gz", ".nii")
IMAGES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def normalize_nd(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """uint8 images or volumes to normalized float32 (per channel).
    Shapes: (B, C, *S) -> (B, C, *S) float32."""
    view = (1, -1, *([1] * (x.dim() - 2)))
    m = torch.tensor(mean, dtype=torch.float32).view(view)
    s = torch.tensor(std, dtype=torch.float32).view(view)
    return (x.float().div(255) - m).div_(s)


def window_starts(size: int, window: int, overlap: float) -> list[int]:
    """Start offsets of windows along one axis: step window * (1 - overlap), the last window
    flush with the end. An axis no longer than the window gets one start, 0."""
    if size <= window:
        return [0]
    step = max(1, int(window * (1 - overlap)))
    starts = list(range(0, size - window, step))
    return [*starts, size - window]


@torch.no_grad()
def sliding_window_logits(
    model: nn.Module, x: torch.Tensor, window: tuple[int, ...], overlap: float = 0.25
) -> torch.Tensor:
    """Logits of `model` over `x`, computed window by window and averaged where windows
    overlap. Axes no longer than the window are taken whole (the model pads odd sizes).

    Shapes: x (B, C, *S) float, window with len(S) ints -> (B, K, *S) float32."""
    spatial = tuple(x.shape[2:])
    if len(window) != len(spatial):
        raise ValueError(f"window {window} has {len(window)} axes but the input has {spatial}")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if all(s <= w for s, w in zip(spatial, window, strict=True)):
        return model(x).float()
    per_axis = [window_starts(s, w, overlap) for s, w in zip(spatial, window, strict=True)]
    total: torch.Tensor | None = None
    count = torch.zeros(spatial)
    for starts in itertools.product(*per_axis):
        box = tuple(
            slice(a, a + min(w, s)) for a, w, s in zip(starts, window, spatial, strict=True)
        )
        out = model(x[(slice(None), slice(None), *box)]).float()  # (B, K, *window)
        if total is None:
            total = torch.zeros(x.shape[0], out.shape[1], *spatial)
        total[(slice(None), slice(None), *box)] += out
        count[box] += 1
    assert total is not None
    return total / count


@torch.no_grad()
def predict_logits(
    model: nn.Module, meta: ModelMeta, x: torch.Tensor, overlap: float = 0.25, chunk: int = 8
) -> torch.Tensor:
    """Normalized forward passes in chunks, windowed when larger than the training size.
    Shapes: x (N, C, *S) uint8 -> (N, K, *S) float32."""
    model.eval()
    window = tuple(int(s) for s in meta.input_size)
    outs = [
        sliding_window_logits(
            model, normalize_nd(x[i : i + chunk], meta.mean, meta.std), window, overlap
        )  # fmt: skip
        for i in range(0, len(x), chunk)
    ]
    return torch.cat(outs)


@dataclass
class MaskPrediction:
    """What `predict_mask` wrote: the label file, the colour overlay (2-D only), the shape,
    pixels (voxels) per class, and notes such as a renamed output."""

    source: Path
    mask: Path
    overlay: Path | None
    shape: tuple[int, ...]
    counts: dict[str, int]
    windowed: bool
    notes: list[str] = field(default_factory=list)


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (*NIFTI, *IMAGES):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def free_path(path: Path) -> Path:
    """`path`, or path-2, path-3 ... (before the suffix) when it exists: never overwrite."""
    if not path.exists():
        return path
    name = path.name
    suffix = ".nii.gz" if name.lower().endswith(".nii.gz") else path.suffix
    base = name[: len(name) - len(suffix)]
    n = 2
    while (path.parent / f"{base}-{n}{suffix}").exists():
        n += 1
    return path.parent / f"{base}-{n}{suffix}"


def _read_image(path: Path, meta: ModelMeta) -> np.ndarray:
    """Any colour mode converted to the model's channels, at the file's own size.
    Shapes: -> (C, H, W) uint8."""
    from cnnlab.data.sources import open_image, to_array

    im = open_image(path)
    return to_array(im, meta.in_channels, (im.height, im.width))


def _read_volume(path: Path, meta: ModelMeta) -> tuple[np.ndarray, np.ndarray]:
    """The volume as uint8 scaled the way its training data was, and its affine.
    Shapes: -> (D, H, W) uint8, (4, 4)."""
    import nibabel as nib

    from cnnlab.data.masks import read_nifti, to_uint8

    arr = read_nifti(path, "volume")  # one line naming the file if it is not 3-D
    affine = np.asarray(nib.load(str(path)).affine)
    if meta.extra.get("scaling") == "raw":
        # generated training volumes were uint8 as they are: keep 0..255 data unchanged
        raw = np.issubdtype(arr.dtype, np.integer) or np.array_equal(arr, np.round(arr))
        if raw and arr.min() >= 0 and arr.max() <= 255:
            return arr.astype(np.uint8), affine
    return to_uint8(arr), affine


def predict_mask(
    run: str | Path | tuple[nn.Module, ModelMeta],
    file: str | Path,
    out: str | Path | None = None,
    overlap: float = 0.25,
) -> MaskPrediction:
    """Segment one image (PNG/JPEG -> PNG label mask + colour overlay PNG) or one NIfTI
    volume (-> NIfTI label volume with the input's affine). The default output is the input's
    stem + "-mask.png" / "-mask.nii.gz" beside it; an existing file is never overwritten.
    Shapes: image (H, W) -> mask (H, W) uint8; volume (D, H, W) -> labels (D, H, W)."""
    model, meta = load_model(Path(run)) if isinstance(run, (str, Path)) else run
    path = Path(file)
    if not path.is_file():
        raise DataError(f"{path} does not exist; give an image (PNG/JPEG) or a NIfTI volume")
    dims = len(meta.input_size)
    volume = _is_nifti(path)
    if volume and dims == 2:
        raise DataError(f"{path} is a NIfTI volume but the run segments 2-D images; give a PNG")
    if not volume and dims == 3:
        raise DataError(f"{path} is not a NIfTI volume but the run segments 3-D volumes; "
                        "give a .nii or .nii.gz file")  # fmt: skip
    if out is not None and volume != _is_nifti(Path(out)):
        want = ".nii.gz" if volume else ".png"
        raise DataError(f"--out {out} does not fit a {'volume' if volume else 'image'}; "
                        f"give a name ending in {want}")  # fmt: skip
    affine = None
    if volume:
        arr, affine = _read_volume(path, meta)
        x = torch.from_numpy(arr)[None, None]  # (1, 1, D, H, W)
    else:
        x = torch.from_numpy(_read_image(path, meta).copy())[None]  # (1, C, H, W)
    shape = tuple(x.shape[2:])
    windowed = any(s > w for s, w in zip(shape, meta.input_size, strict=True))
    labels = predict_logits(model, meta, x, overlap).argmax(1)[0].numpy()  # (*S)
    k = meta.num_classes
    dtype = np.uint8 if k <= 256 else np.uint16
    default = path.parent / f"{_stem(path)}-mask{'.nii.gz' if volume else '.png'}"
    wanted = Path(out) if out is not None else default
    target = free_path(wanted)
    notes = [f"{wanted} exists; wrote {target} instead"] if target != wanted else []
    overlay_path = None
    if volume:
        _save_nifti(labels.astype(dtype), affine, target)
    else:
        from PIL import Image

        from cnnlab.tasks.segment.figures import overlay

        atomic_write(target, _png(Image.fromarray(labels.astype(dtype))))
        stem = target.name[: -len(target.suffix)] if target.suffix else target.name
        # the overlay is named as its mask is: photo-mask-2.png -> photo-overlay-2.png
        name = stem.replace("-mask", "-overlay") if "-mask" in stem else f"{stem}-overlay"
        overlay_path = free_path(target.with_name(name + ".png"))
        atomic_write(overlay_path, _png(Image.fromarray(overlay(x[0].numpy(), labels, k))))
    ids, n = np.unique(labels, return_counts=True)
    counts = {meta.classes[int(i)] if int(i) < len(meta.classes) else str(int(i)): int(c)
              for i, c in zip(ids, n, strict=True)}  # fmt: skip
    return MaskPrediction(path, target, overlay_path, shape, counts, windowed, notes)


def _png(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _save_nifti(labels: np.ndarray, affine: np.ndarray | None, path: Path) -> None:
    import nibabel as nib

    img = nib.Nifti1Image(labels, affine if affine is not None else np.eye(4))
    suffix = ".nii.gz" if path.name.lower().endswith(".nii.gz") else ".nii"
    tmp = path.with_name(f".{path.name}.tmp{suffix}")  # nibabel picks gzip from the suffix
    try:
        img.to_filename(str(tmp))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
