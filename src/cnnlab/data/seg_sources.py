"""`load_seg_data`: one name or folder -> SegData, for `cnnlab segment --data ...`."""

from __future__ import annotations

from pathlib import Path

from cnnlab.core.errors import DataError
from cnnlab.data.scenes import SegData

GENERATED = ("fashion-scenes", "volumes")
DEFAULT_SIZE = {"fashion-scenes": 64, "volumes": 48}


def load_seg_data(
    name_or_folder: str | Path,
    *,
    n_train: int | None = None,
    n_val: int | None = None,
    n_test: int | None = None,
    size: int | None = None,
    seed: int = 0,
) -> SegData:
    """ "fashion-scenes", "volumes", a folder with images/ + masks/ (PNG masks) or a folder
    with images/ + labels/ (NIfTI pairs). Sizes apply to the generated sets only (None: the
    generator's default); a folder is split 70/10/20 by `seed`.
    Shapes: see SegData (2-D (N, C, H, W) or 3-D (N, 1, D, H, W) uint8 images).
    """
    name = str(name_or_folder)
    counts = {"n_train": n_train, "n_val": n_val, "n_test": n_test}
    if name in GENERATED:
        kw = {k: v for k, v in counts.items() if v is not None}
        if size is not None:
            kw["size"] = size
        if name == "fashion-scenes":
            from cnnlab.data.scenes import fashion_scenes

            return fashion_scenes(**kw, seed=seed)
        from cnnlab.data.volumes import volumes

        return volumes(**kw, seed=seed)
    folder = Path(name)
    if not folder.is_dir():
        raise DataError(
            f"unknown segmentation data {name!r}; give {' or '.join(GENERATED)}, or a folder "
            "with images/ and masks/ (PNG) or images/ and labels/ (NIfTI) subfolders"
        )
    from cnnlab.data.masks import load_mask_folder, load_nifti_pairs

    if (folder / "masks").is_dir():
        return load_mask_folder(folder / "images", folder / "masks", seed=seed)
    if (folder / "labels").is_dir():
        return load_nifti_pairs(folder / "images", folder / "labels", seed=seed)
    raise DataError(
        f"{folder} has no masks/ or labels/ subfolder; put images in {folder}/images and "
        f"their masks in {folder}/masks (PNG) or labels in {folder}/labels (NIfTI)"
    )
