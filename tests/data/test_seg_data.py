"""Segmentation data: fashion-scenes, generated volumes, and mask / NIfTI folders."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.core.errors import DataError
from cnnlab.data.datasets import load_embedded
from cnnlab.data.images import from_arrays
from cnnlab.data.masks import load_mask_folder, load_nifti_pairs
from cnnlab.data.scenes import SCENE_CLASSES, THRESHOLD, compose_scene, fashion_scenes
from cnnlab.data.scenes import resize_nearest as resize
from cnnlab.data.volumes import VOLUME_CLASSES, volumes


@pytest.fixture(scope="module")
def items():
    a = load_embedded()
    return from_arrays("fashion-mnist", [str(i) for i in range(10)], a, val_fraction=0.1)


@pytest.fixture(scope="module")
def scenes(items):
    return fashion_scenes(40, 5, 10, size=64, seed=3, items=items)


def test_scenes_shapes_classes_and_repr(scenes):
    assert scenes.train_x.shape == (40, 1, 64, 64) and scenes.train_x.dtype == torch.uint8
    assert scenes.train_y.shape == (40, 64, 64) and scenes.train_y.dtype == torch.int64
    assert scenes.val_y.shape == (5, 64, 64) and scenes.test_y.shape == (10, 64, 64)
    assert scenes.classes == SCENE_CLASSES and scenes.classes[0] == "background"
    want = "SegData('fashion-scenes', 11 classes, 1x64x64, train 40, val 5, test 10)"
    assert repr(scenes) == want
    for y in (scenes.train_y, scenes.val_y, scenes.test_y):
        assert 0 <= y.min() and y.max() < 11
    assert len(torch.unique(scenes.train_y)) > 5  # many classes appear


def test_scenes_label_only_where_items_are(scenes):
    # background canvas is black and every labelled pixel is an item pixel above threshold
    for x, y in ((scenes.train_x, scenes.train_y), (scenes.test_x, scenes.test_y)):
        assert torch.equal(y > 0, x[:, 0] > THRESHOLD)


def test_scenes_are_deterministic(items, scenes):
    again = fashion_scenes(40, 5, 10, size=64, seed=3, items=items)
    assert torch.equal(again.train_x, scenes.train_x) and torch.equal(again.test_y, scenes.test_y)
    other = fashion_scenes(40, 5, 10, size=64, seed=4, items=items)
    assert not torch.equal(other.train_y, scenes.train_y)


def test_item_silhouettes_match_source_pixels(items):
    """Rebuild each canvas from its placements: the top item at every pixel gives its value
    and its class, exactly."""
    x, y = items.train_x[:, 0].numpy(), items.train_y.numpy()
    rng = np.random.default_rng(7)
    for _ in range(20):
        canvas, mask, places = compose_scene(x, y, rng, size=48, max_items=4)
        ref = np.zeros_like(canvas)
        ref_mask = np.zeros_like(mask)
        for p in places:
            big = np.zeros((48 + 2 * p.side, 48 + 2 * p.side), dtype=np.uint8)
            item = resize(x[p.index], p.side)
            big[p.top + p.side : p.top + 2 * p.side, p.left + p.side : p.left + 2 * p.side] = item
            view = big[p.side : p.side + 48, p.side : p.side + 48]
            on = view > THRESHOLD
            ref[on], ref_mask[on] = view[on], y[p.index] + 1
        assert np.array_equal(canvas, ref) and np.array_equal(mask, ref_mask)
        assert 1 <= len(places) <= 4


def test_scene_bad_arguments(items):
    with pytest.raises(ValueError, match="max_items"):
        fashion_scenes(1, 1, 1, max_items=0, items=items)
    with pytest.raises(ValueError, match="size"):
        fashion_scenes(1, 1, 1, size=4, items=items)


@pytest.fixture(scope="module")
def vols():
    return volumes(6, 2, 2, size=32, seed=0)


def test_volumes_shapes_and_classes(vols):
    assert vols.train_x.shape == (6, 1, 32, 32, 32) and vols.train_x.dtype == torch.uint8
    assert vols.train_y.shape == (6, 32, 32, 32) and vols.train_y.dtype == torch.int64
    assert vols.classes == VOLUME_CLASSES and vols.spatial_dims == 3
    assert "1x32x32x32" in repr(vols)
    y = torch.cat([vols.train_y, vols.val_y, vols.test_y])
    assert y.min() == 0 and y.max() <= 4
    assert set(torch.unique(y).tolist()) == {0, 1, 2, 3, 4}


def test_volumes_water_above_seabed(vols):
    y = vols.train_y  # (N, D, H, W), D = depth from the surface
    assert (y[:, 0] == 0).all()  # the top layer is water
    seen_bed = torch.cummax((y == 1).int(), dim=1).values.bool()  # seabed at or above
    assert not (seen_bed & (y == 0)).any()  # no water under the seabed in any column
    assert (y[:, -1] >= 1).all()  # the bottom layer is seabed (or an object sunk into it)


def test_volumes_objects_touch_seabed(vols):
    y = vols.train_y
    below = torch.zeros_like(y)
    below[:, :-1] = y[:, 1:]  # the label one voxel deeper
    for i in range(len(y)):
        for kind in (2, 3, 4):
            obj = y[i] == kind
            if obj.any():
                assert ((below[i] == 1) & obj).any(), (i, kind)


def test_volumes_deterministic_and_intensity_falls_with_range(vols):
    again = volumes(6, 2, 2, size=32, seed=0)
    assert torch.equal(again.train_x, vols.train_x) and torch.equal(again.train_y, vols.train_y)
    x, y = vols.train_x[:, 0].float(), vols.train_y
    bed = y == 1
    shallow = x[:, :20][bed[:, :20]].mean()
    deep = x[:, 26:][bed[:, 26:]].mean()
    assert deep < shallow  # same class, further from the sonar: darker
    water, objects = x[y == 0].mean(), x[y >= 2].mean()
    assert water < x[bed].mean() < objects


# ---------- your own data: mask folders ----------


def write_pairs(tmp_path, n=5, size=(12, 10)):
    img_dir, mask_dir = tmp_path / "images", tmp_path / "masks"
    img_dir.mkdir()
    mask_dir.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        m = rng.integers(0, 3, size=size).astype(np.uint8)
        Image.fromarray((m * 60 + 20).astype(np.uint8)).save(img_dir / f"s{i}.png")
        Image.fromarray(m).save(mask_dir / f"s{i}.png")
    return img_dir, mask_dir


def test_mask_folder_loads(tmp_path):
    img_dir, mask_dir = write_pairs(tmp_path, n=10)
    d = load_mask_folder(img_dir, mask_dir)
    assert d.num_classes == 3 and d.classes[0] == "background"
    assert len(d.train_y) + len(d.val_y) + len(d.test_y) == 10 and len(d.test_y) == 2
    x = torch.cat([d.train_x, d.val_x, d.test_x])
    y = torch.cat([d.train_y, d.val_y, d.test_y])
    assert x.shape == (10, 1, 12, 10) and y.shape == (10, 12, 10)
    assert torch.equal(x[:, 0].long(), y * 60 + 20)  # each mask stays with its own image


def test_palette_mask_gives_indices(tmp_path):
    img_dir, mask_dir = tmp_path / "i", tmp_path / "m"
    img_dir.mkdir()
    mask_dir.mkdir()
    m = np.array([[0, 1], [2, 1]], dtype=np.uint8)
    pal = Image.fromarray(m, mode="P")
    pal.putpalette([0, 0, 0, 200, 10, 10, 10, 200, 10])  # colours are not labels
    pal.save(mask_dir / "a.png")
    Image.fromarray(np.full((2, 2), 9, np.uint8)).save(img_dir / "a.jpg")
    d = load_mask_folder(img_dir, mask_dir, val_fraction=0, test_fraction=0)
    assert d.train_y[0].tolist() == [[0, 1], [2, 1]]


def _one_line(exc: pytest.ExceptionInfo, *words: str) -> None:
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_mask_folder_errors(tmp_path):
    img_dir, mask_dir = write_pairs(tmp_path, n=3)
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(mask_dir / "s1.png")  # wrong size
    with pytest.raises(DataError) as e:
        load_mask_folder(img_dir, mask_dir)
    _one_line(e, "s1.png", "size")
    Image.fromarray(np.full((12, 10), 7, np.uint8)).save(mask_dir / "s1.png")  # label 7
    with pytest.raises(DataError) as e:
        load_mask_folder(img_dir, mask_dir, num_classes=3)
    _one_line(e, "s1.png", "label 7", "num_classes")
    (mask_dir / "s1.png").unlink()
    with pytest.raises(DataError) as e:
        load_mask_folder(img_dir, mask_dir)
    _one_line(e, "s1.png", "no mask")
    (img_dir / "s1.png").unlink()
    Image.fromarray(np.zeros((12, 10), np.uint8)).save(mask_dir / "orphan.png")
    with pytest.raises(DataError) as e:
        load_mask_folder(img_dir, mask_dir)
    _one_line(e, "orphan.png", "no image")
    (mask_dir / "orphan.png").unlink()
    (img_dir / "s2.png").write_bytes(b"not a png")
    with pytest.raises(DataError) as e:
        load_mask_folder(img_dir, mask_dir)
    _one_line(e, "s2.png", "cannot read")
    Image.fromarray(np.zeros((12, 10, 3), np.uint8)).save(mask_dir / "s0.png")  # RGB mask
    with pytest.raises(DataError) as e:
        load_mask_folder(img_dir, mask_dir)
    _one_line(e, "s0.png", "palette")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError) as e:
        load_mask_folder(empty, mask_dir)
    _one_line(e, "empty", "no ")


# ---------- your own data: NIfTI pairs ----------


def write_nifti(path, arr):
    nib.save(nib.Nifti1Image(arr, np.eye(4)), str(path))


def test_nifti_pairs_load_and_errors(tmp_path):
    vol_dir, lab_dir = tmp_path / "vols", tmp_path / "labels"
    vol_dir.mkdir()
    lab_dir.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        lab = rng.integers(0, 3, size=(6, 5, 4)).astype(np.int16)
        write_nifti(vol_dir / f"case{i}.nii.gz", (lab * 100.0).astype(np.float32))
        write_nifti(lab_dir / f"case{i}.nii", lab)
    d = load_nifti_pairs(vol_dir, lab_dir, val_fraction=0, test_fraction=0.25)
    assert d.spatial_dims == 3 and d.num_classes == 3
    assert d.train_x.shape == (3, 1, 6, 5, 4) and d.train_y.shape == (3, 6, 5, 4)
    # intensity order follows the labels after the uint8 scaling
    x, y = d.train_x[:, 0].long(), d.train_y
    assert x[y == 0].max() < x[y == 1].min() and x[y == 1].max() < x[y == 2].min()

    write_nifti(lab_dir / "case1.nii", np.zeros((6, 5, 3), np.int16))
    with pytest.raises(DataError) as e:
        load_nifti_pairs(vol_dir, lab_dir)
    _one_line(e, "case1.nii", "shape")
    write_nifti(lab_dir / "case1.nii", np.full((6, 5, 4), 9, np.int16))
    with pytest.raises(DataError) as e:
        load_nifti_pairs(vol_dir, lab_dir, num_classes=3)
    _one_line(e, "case1.nii", "label 9")
    write_nifti(vol_dir / "case1.nii.gz", np.zeros((6, 5), np.float32))
    with pytest.raises(DataError) as e:
        load_nifti_pairs(vol_dir, lab_dir)
    _one_line(e, "case1.nii.gz", "not 3-D")
    (lab_dir / "case1.nii").unlink()
    with pytest.raises(DataError) as e:
        load_nifti_pairs(vol_dir, lab_dir)
    _one_line(e, "case1.nii.gz", "no label volume")
