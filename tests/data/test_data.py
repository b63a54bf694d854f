"""Data: the on-disk readers (IDX, CIFAR batches, image folders), named datasets and the
embedded subset, deterministic splits, batched augmentation and the in-memory batch loader."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import cnnlab
from cnnlab.core.errors import CnnlabError, ConfigError, DataError
from cnnlab.data import Augment, BatchLoader, normalize, rotate_batch, shift_batch, sources
from cnnlab.data.augment import erase_mask
from cnnlab.data.datasets import CIFAR_CLASSES, FASHION_CLASSES
from conftest import needs_real_fashion, save_png, write_idx, write_image_folder

# ---- IDX -----------------------------------------------------------------------------------


def idx_folder(root: Path, gz: bool, n_train: int = 30, n_test: int = 10, hw: int = 6):
    rng = np.random.default_rng(1)
    arrays = {
        "train_x": rng.integers(0, 256, (n_train, hw, hw), dtype=np.uint8),
        "train_y": (np.arange(n_train) % 10).astype(np.uint8),
        "test_x": rng.integers(0, 256, (n_test, hw, hw), dtype=np.uint8),
        "test_y": (np.arange(n_test) % 10).astype(np.uint8),
    }
    root.mkdir(parents=True, exist_ok=True)
    for key, stem in sources.IDX_STEMS.items():
        write_idx(root / stem, arrays[key], gz=gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_idx_round_trip(tmp_path: Path, gz: bool):
    arrays = idx_folder(tmp_path / "idx", gz)
    suffix = ".gz" if gz else ""
    img = sources.read_idx(tmp_path / "idx" / f"train-images-idx3-ubyte{suffix}")
    assert img.shape == (30, 6, 6) and img.dtype == np.uint8
    np.testing.assert_array_equal(img, arrays["train_x"])
    lab = sources.read_idx(tmp_path / "idx" / f"t10k-labels-idx1-ubyte{suffix}")
    np.testing.assert_array_equal(lab, arrays["test_y"])

    loaded = sources.load_idx(tmp_path / "idx")
    assert loaded["train_x"].shape == (30, 1, 6, 6)
    assert loaded["train_y"].dtype == np.int64
    np.testing.assert_array_equal(loaded["test_x"][:, 0], arrays["test_x"])

    # the whole dataset from the folder: no validation split keeps the original order
    data = cnnlab.load_dataset(tmp_path / "idx", val_fraction=0.0)
    assert data.input_shape == (1, 6, 6)
    assert data.classes == [str(i) for i in range(10)]
    np.testing.assert_array_equal(data.train_x[:, 0].numpy(), arrays["train_x"])
    np.testing.assert_array_equal(data.test_y.numpy(), arrays["test_y"].astype(np.int64))
    assert "IDX" in data.source


def test_idx_truncated_names_the_file(tmp_path: Path):
    idx_folder(tmp_path / "idx", gz=False)
    bad = tmp_path / "idx" / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-7])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte is truncated \(1073 of 1080"):
        sources.read_idx(bad)
    with pytest.raises(DataError, match="train-images-idx3-ubyte is truncated"):
        cnnlab.load_dataset(tmp_path / "idx")


def test_idx_truncated_gzip_names_the_file(tmp_path: Path):
    idx_folder(tmp_path / "idx", gz=True)
    bad = tmp_path / "idx" / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(DataError, match=r"cannot read .*t10k-images-idx3-ubyte\.gz"):
        cnnlab.load_dataset(tmp_path / "idx")


def test_idx_wrong_magic(tmp_path: Path):
    f = tmp_path / "x-idx"
    f.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00")  # float IDX
    with pytest.raises(DataError, match="not an unsigned-byte IDX file"):
        sources.read_idx(f)


# ---- CIFAR batches ---------------------------------------------------------------------------


def test_cifar_batches_folder(tmp_path: Path):
    root = tmp_path / "cifar" / "cifar-10-batches-py"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
             b"labels": [0, 1, 2, 3]}  # fmt: skip
        (root / name).write_bytes(pickle.dumps(d))
    first = pickle.loads((root / "data_batch_1").read_bytes())
    data = cnnlab.load_dataset(tmp_path / "cifar", val_fraction=0.0)
    assert data.classes == CIFAR_CLASSES
    assert data.input_shape == (3, 32, 32)
    assert len(data.train_y) == 20 and len(data.test_y) == 4
    np.testing.assert_array_equal(data.train_x[:4].reshape(4, -1).numpy(), first[b"data"])

    (root / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="cannot read CIFAR batch test_batch"):
        cnnlab.load_dataset(tmp_path / "cifar")

    class Evil:  # a pickle that would run a command when loaded
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    (root / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(DataError, match=r"test_batch: it names (posix|os)\.system, which a CIFAR"):
        cnnlab.load_dataset(tmp_path / "cifar")
    assert not (tmp_path / "pwned").exists()


# ---- image folders ---------------------------------------------------------------------------


def test_image_folder_classes_and_shapes(image_folder: Path, tiny_data):
    assert tiny_data.classes == ["class0", "class1", "class2"]
    assert tiny_data.input_shape == (3, 12, 12)
    assert tiny_data.train_x.dtype == torch.uint8 and tiny_data.train_y.dtype == torch.int64
    # 20 per class: 4 to test (20%), 2 of the remaining 16 to validation (10%)
    assert len(tiny_data.test_y) == 12 and len(tiny_data.val_y) == 6
    assert len(tiny_data.train_y) == 42
    for y in (tiny_data.train_y, tiny_data.val_y, tiny_data.test_y):
        assert torch.bincount(y, minlength=3).min() > 0
    assert len(tiny_data.mean) == len(tiny_data.std) == 3
    ref_mean = tiny_data.train_x.float().div(255).mean(dim=(0, 2, 3))
    np.testing.assert_allclose(tiny_data.mean, ref_mean.numpy(), atol=1e-4)
    assert "image folder" in tiny_data.source and "60 images" in tiny_data.source


def test_image_folder_colour_modes_become_rgb(tmp_path: Path):
    rgb = np.zeros((6, 6, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 2] = 50
    gray = np.full((6, 6), 77, np.uint8)
    rgba = np.zeros((6, 6, 4), np.uint8)
    rgba[..., 1] = 120
    rgba[:3, :, 3] = 255  # top half opaque green, bottom half fully transparent
    files = [
        save_png(tmp_path / "a" / "gray.png", gray),
        save_png(tmp_path / "a" / "rgb.png", rgb),
        save_png(tmp_path / "b" / "rgba.png", rgba),
        tmp_path / "b" / "pal.png",
    ]
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(files[3])
    assert Image.open(files[3]).mode == "P" and Image.open(files[2]).mode == "RGBA"
    x = sources.read_images(files)
    assert x.shape == (4, 3, 6, 6) and x.dtype == np.uint8
    assert (x[0] == 77).all()  # gray repeated on three channels
    np.testing.assert_array_equal(x[1].transpose(1, 2, 0), rgb)
    green = np.broadcast_to(np.array([0, 120, 0], np.uint8), (3, 6, 3))
    np.testing.assert_array_equal(x[2][:, :3].transpose(1, 2, 0), green)
    assert (x[2][:, 3:] == 255).all()  # transparent: composited on white
    np.testing.assert_array_equal(x[3].transpose(1, 2, 0), rgb)  # palette looked up

    data = cnnlab.load_dataset(tmp_path, val_fraction=0.0, test_fraction=0.5)
    assert data.input_shape == (3, 6, 6)
    assert data.classes == ["a", "b"]


def test_gray_folder_stays_one_channel(tmp_path: Path):
    write_image_folder(tmp_path, classes=2, per_class=3, size=8, mode="L")
    data = cnnlab.load_dataset(tmp_path)
    assert data.input_shape == (1, 8, 8)


def test_mixed_sizes_resized_to_the_common_size(tmp_path: Path):
    for i in range(3):
        save_png(tmp_path / "a" / f"{i}.png", np.full((8, 8), 10, np.uint8))
    save_png(tmp_path / "b" / "0.png", np.full((8, 8), 100, np.uint8))
    save_png(tmp_path / "b" / "big.png", np.full((16, 20), 200, np.uint8))
    _, items = sources.list_image_folder(tmp_path)
    x = sources.read_images([f for f, _ in items])
    assert x.shape == (5, 1, 8, 8)
    assert (x[-1] == 200).all()  # "big" sorts last: a constant image stays constant
    data = cnnlab.load_dataset(tmp_path, image_size=5, val_fraction=0.0)
    assert data.input_shape == (1, 5, 5)


def test_train_and_test_subfolders(tmp_path: Path):
    write_image_folder(tmp_path / "train", classes=2, per_class=5, size=8)
    write_image_folder(tmp_path / "test", classes=2, per_class=2, size=10, seed=1)
    data = cnnlab.load_dataset(tmp_path, val_fraction=0.0)
    assert len(data.train_y) == 10 and len(data.test_y) == 4
    assert data.test_x.shape[1:] == (3, 8, 8)  # test images take the training size
    write_image_folder(tmp_path / "test", classes=3, per_class=1, size=8)
    with pytest.raises(DataError, match="use the same class folders in both"):
        cnnlab.load_dataset(tmp_path)


def test_empty_folder(tmp_path: Path):
    with pytest.raises(DataError, match=r"^no images found in .*; expected"):
        cnnlab.load_dataset(tmp_path)
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="no images found"):
        cnnlab.load_dataset(tmp_path)


def test_one_class_folder(tmp_path: Path):
    write_image_folder(tmp_path, classes=1, per_class=4, names=["cats"])
    with pytest.raises(DataError, match=r"only one class \('cats'\) in .*at least 2 class"):
        cnnlab.load_dataset(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_bad_image_names_the_file(tmp_path: Path, damage: str):
    write_image_folder(tmp_path, classes=2, per_class=3, size=12)
    bad = tmp_path / "class1" / "001.png"
    raw = bad.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2] if damage == "truncated" else b"not a png at all")
    with pytest.raises(DataError) as info:
        cnnlab.load_dataset(tmp_path)
    msg = str(info.value)
    assert msg.startswith(f"cannot read image {bad}:")
    assert msg.endswith("remove or replace the file") and "\n" not in msg


def test_unknown_name_or_missing_path():
    with pytest.raises(DataError, match=r"'no-such-set' is neither a known name \(fashion-mnist"):
        cnnlab.load_dataset("no-such-set")
    with pytest.raises(DataError, match="nor a folder"):
        cnnlab.load_dataset("/nonexistent/folder/of/images")


def test_named_dataset_not_found(no_system_data):
    with pytest.raises(DataError, match=r"dataset 'mnist' not found .*set CNNLAB_DATA"):
        cnnlab.load_dataset("mnist")


@pytest.mark.parametrize(
    "kw, name",
    [({"val_fraction": 1.0}, "val_fraction"), ({"test_fraction": 0.0}, "test_fraction")],
)
def test_bad_fractions(image_folder: Path, kw, name):
    with pytest.raises(ValueError, match=name):
        cnnlab.load_dataset(image_folder, **kw)


# ---- splits ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def id_folder(tmp_path_factory) -> Path:
    """2 classes x 25 gray 4x4 images whose pixels hold the image's id (0..49)."""
    root = tmp_path_factory.mktemp("ids")
    for i in range(50):
        save_png(root / f"c{i % 2}" / f"{i:02d}.png", np.full((4, 4), i, np.uint8))
    return root


def ids(x: torch.Tensor) -> list[int]:
    return x[:, 0, 0, 0].tolist()


def test_splits_deterministic_and_disjoint(id_folder: Path):
    a = cnnlab.load_dataset(id_folder, seed=3)
    b = cnnlab.load_dataset(id_folder, seed=3)
    c = cnnlab.load_dataset(id_folder, seed=4)
    for part in ("train_x", "train_y", "val_x", "val_y", "test_x", "test_y"):
        assert torch.equal(getattr(a, part), getattr(b, part)), part
    tr, va, te = ids(a.train_x), ids(a.val_x), ids(a.test_x)
    assert len(tr) + len(va) + len(te) == 50
    assert sorted(tr + va + te) == list(range(50))  # disjoint and complete
    assert len(te) == 10 and len(va) == 4
    assert [i % 2 for i in tr] == a.train_y.tolist()  # labels travel with their images
    assert ids(c.test_x) != te  # another seed, another split


def test_train_limit_is_class_balanced(fashion_small):
    assert len(fashion_small.train_y) == 2000
    assert torch.bincount(fashion_small.train_y, minlength=10).tolist() == [200] * 10
    assert len(fashion_small.val_y) == 600 and len(fashion_small.test_y) == 1000


def test_train_limit_on_a_folder(id_folder: Path):
    d = cnnlab.load_dataset(id_folder, train_limit=10, seed=1)
    assert torch.bincount(d.train_y).tolist() == [5, 5]
    again = cnnlab.load_dataset(id_folder, train_limit=10, seed=1)
    assert ids(d.train_x) == ids(again.train_x)


def test_embedded_subset_when_nothing_else(no_system_data):
    data = cnnlab.load_dataset("fashion-mnist")
    assert "embedded" in data.source
    assert data.classes == FASHION_CLASSES
    assert data.input_shape == (1, 28, 28)
    assert len(data.train_y) + len(data.val_y) == 6000
    assert len(data.test_y) == 1000
    assert torch.bincount(data.test_y, minlength=10).min() > 0


@needs_real_fashion
def test_real_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    data = cnnlab.load_dataset("fashion-mnist")
    assert "/usr/share/datasets/fashion-mnist" in data.source
    assert data.input_shape == (1, 28, 28)
    assert len(data.train_y) == 54000 and len(data.val_y) == 6000
    assert len(data.test_y) == 10000
    assert torch.bincount(data.test_y).tolist() == [1000] * 10


# ---- augmentation --------------------------------------------------------------------------------


def asymmetric_batch(b: int = 32, c: int = 2, h: int = 7, w: int = 9) -> torch.Tensor:
    return torch.arange(b * c * h * w, dtype=torch.float32).view(b, c, h, w) % 23 + 1


def test_flip_mirrors_exactly_the_chosen_samples():
    x = asymmetric_batch()
    out = Augment(flip=True)(x, torch.Generator().manual_seed(5))
    chosen = torch.rand(len(x), generator=torch.Generator().manual_seed(5)) < 0.5
    assert 0 < int(chosen.sum()) < len(x)
    torch.testing.assert_close(out[chosen], x[chosen].flip(3), rtol=0, atol=0)
    torch.testing.assert_close(out[~chosen], x[~chosen], rtol=0, atol=0)


def roll_zero_fill(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """out[..., r, c] = img[..., r - dy, c - dx], zero where that falls outside."""
    out = torch.roll(img, shifts=(dy, dx), dims=(-2, -1))
    if dy > 0:
        out[..., :dy, :] = 0
    elif dy < 0:
        out[..., dy:, :] = 0
    if dx > 0:
        out[..., :, :dx] = 0
    elif dx < 0:
        out[..., :, dx:] = 0
    return out


def test_shift_batch_matches_roll_with_zero_fill():
    x = asymmetric_batch(b=5)
    dy = torch.tensor([0, 2, -1, 3, -3])
    dx = torch.tensor([1, -2, 0, 3, -1])
    out = shift_batch(x, dy, dx)
    for i in range(5):
        torch.testing.assert_close(out[i], roll_zero_fill(x[i], int(dy[i]), int(dx[i])))
    assert torch.equal(shift_batch(x, torch.zeros(5, dtype=torch.long),
                                   torch.zeros(5, dtype=torch.long)), x)  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-6, 6), st.integers(-6, 6)), min_size=1, max_size=4))
def test_shift_batch_property(shifts):
    x = asymmetric_batch(b=len(shifts), c=1, h=6, w=5)
    dy = torch.tensor([s[0] for s in shifts])
    dx = torch.tensor([s[1] for s in shifts])
    out = shift_batch(x, dy, dx)
    for i, (a, b) in enumerate(shifts):
        torch.testing.assert_close(out[i], roll_zero_fill(x[i], a, b))


def test_shift_batch_on_uint8_keeps_dtype():
    x = (asymmetric_batch(b=3) * 10).to(torch.uint8)
    out = shift_batch(x, torch.tensor([1, 0, -2]), torch.tensor([0, 2, 1]))
    assert out.dtype == torch.uint8
    assert torch.equal(out[2], roll_zero_fill(x[2], -2, 1))


def test_rotate_zero_is_identity_and_90_is_rot90():
    x = torch.rand(3, 2, 9, 9, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(rotate_batch(x, torch.zeros(3)), x, atol=1e-5, rtol=0)
    out = rotate_batch(x, torch.full((3,), 90.0))
    # square, odd size: a quarter turn maps pixel centres onto pixel centres
    torch.testing.assert_close(out, torch.rot90(x, 1, dims=(2, 3)), atol=1e-4, rtol=0)
    back = rotate_batch(x, torch.full((3,), -90.0))
    torch.testing.assert_close(back, torch.rot90(x, -1, dims=(2, 3)), atol=1e-4, rtol=0)


def test_rotate_small_angle_moves_pixels_and_fills_zero():
    x = torch.ones(1, 1, 9, 9)
    out = rotate_batch(x, torch.tensor([45.0]))
    assert out[0, 0, 4, 4] == pytest.approx(1.0, abs=1e-5)  # the centre stays
    assert out[0, 0, 0, 0] == pytest.approx(0.0, abs=1e-5)  # a corner comes from outside


def test_augment_parse():
    assert Augment.parse("none") == Augment()
    assert not Augment.parse("").active
    a = Augment.parse("flip,shift=3,rotate=15,noise=0.05")
    assert a == Augment(flip=True, shift=3, rotate=15.0, noise=0.05)
    assert Augment.parse("crop") == Augment(shift=2)
    assert Augment.parse("flip=no").flip is False
    assert Augment.parse("erase") == Augment(erase=0.5)
    assert Augment.parse("cutout=0.25,flip") == Augment(flip=True, erase=0.25)


def test_erase_mask_is_one_rectangle_within_the_area_range():
    gen = torch.Generator().manual_seed(0)
    m = erase_mask(500, 28, 28, 1.0, gen)
    assert m.shape == (500, 1, 28, 28) and m.dtype == torch.bool
    area = m.flatten(1).sum(1).float() / (28 * 28)
    assert (area > 0).all()
    # rounding and clipping to the image widen the 2-40 % range a little, never a lot
    assert area.min() >= 0.01 and area.max() <= 0.5
    assert 0.15 < area.mean() < 0.27  # uniform 2-40 % has mean 21 %, clipping lowers it
    for i in range(20):  # rows and columns that are on form one solid rectangle
        rows, cols = m[i, 0].any(1), m[i, 0].any(0)
        assert m[i, 0].sum() == rows.sum() * cols.sum()
        r, c = rows.nonzero().flatten(), cols.nonzero().flatten()
        assert r.max() - r.min() + 1 == len(r) and c.max() - c.min() + 1 == len(c)


def test_erase_applies_with_its_probability_and_uses_the_fill():
    x = torch.ones(2000, 1, 16, 16)
    fill = torch.tensor([-3.0])
    out = Augment(erase=0.3)(x, torch.Generator().manual_seed(1), fill)
    touched = (out != 1).flatten(1).any(1).float().mean()
    assert 0.26 < touched < 0.34
    assert set(out.unique().tolist()) == {-3.0, 1.0}
    assert Augment(erase=0.0)(x, torch.Generator().manual_seed(1), fill).equal(x)


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "flip,bogus=3",
            "unknown augmentation 'bogus' in 'flip,bogus=3'; use flip, shift=N, "
            "rotate=DEG, noise=STD, erase=P or none",
        ),
        ("shift=two", "bad value in augmentation 'shift=two'; e.g. shift=2"),
        ("erase=2", "erase is a probability, got '2' in 'erase=2'; e.g. erase=0.5"),
    ],
)
def test_augment_parse_errors(spec: str, message: str):
    with pytest.raises(ConfigError) as info:
        Augment.parse(spec)
    assert str(info.value) == message
    assert isinstance(info.value, CnnlabError)


# ---- batch loader --------------------------------------------------------------------------------


def loader(n: int = 37, **kw) -> BatchLoader:
    x = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 4, 4).contiguous()
    y = torch.arange(n)
    args = {"batch_size": 8, "mean": (0.5,), "std": (0.25,), "shuffle": True, "seed": 1}
    return BatchLoader(x, y, **{**args, **kw})


def test_loader_normalizes():
    bl = loader(shuffle=False)
    xb, yb = next(bl.epoch(0))
    assert xb.dtype == torch.float32 and xb.shape == (8, 1, 4, 4)
    torch.testing.assert_close(xb, normalize(bl.x[:8], (0.5,), (0.25,)))
    torch.testing.assert_close(xb[3, 0, 0, 0], torch.tensor((3 / 255 - 0.5) / 0.25))
    assert yb.tolist() == list(range(8))


def test_loader_order_depends_on_seed_and_epoch_only():
    aug = Augment(flip=True, shift=1, noise=0.1)
    a = [(x.clone(), y.clone()) for x, y in loader(augment=aug).epoch(3)]
    b = list(loader(augment=aug).epoch(3))
    assert len(a) == len(b) == 5
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    order3 = torch.cat([y for _, y in a])
    order4 = torch.cat([y for _, y in loader(augment=aug).epoch(4)])
    assert sorted(order3.tolist()) == sorted(order4.tolist()) == list(range(37))
    assert not torch.equal(order3, order4)
    other_seed = torch.cat([y for _, y in loader(augment=aug, seed=2).epoch(3)])
    assert not torch.equal(order3, other_seed)


def test_loader_drop_last_and_len():
    assert len(loader()) == 5 and len(loader(drop_last=True)) == 4
    assert sum(len(y) for _, y in loader(drop_last=True).epoch(0)) == 32
    with pytest.raises(ValueError, match="batch_size"):
        loader(batch_size=0)


def test_loader_ranks_partition_the_data():
    seen = []
    for rank in (0, 1):
        bl = loader(n=36, rank=rank, world_size=2)
        assert len(bl) == 3  # 18 samples each, batches of 8
        seen.append(torch.cat([y for _, y in bl.epoch(2)]).tolist())
    assert len(seen[0]) == len(seen[1]) == 18
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == list(range(36))
    # both ranks take their share of the same permutation as a single process would
    full = torch.cat([y for _, y in loader(n=36).epoch(2)]).tolist()
    assert seen[0] == full[0::2] and seen[1] == full[1::2]


def test_loader_ranks_get_the_same_number_of_batches():
    for n, batch in [(15, 4), (31, 8), (15, 8)]:
        ranks = [loader(n=n, batch_size=batch, drop_last=True, rank=r, world_size=2)
                 for r in (0, 1)]  # fmt: skip
        counts = [sum(1 for _ in bl.epoch(0)) for bl in ranks]
        assert counts[0] == counts[1] == len(ranks[0]) == len(ranks[1]), (n, batch, counts)


def test_loader_augments_per_sample():
    x = torch.full((16, 1, 8, 8), 200, dtype=torch.uint8)
    x[:, :, :, :4] = 0  # left half dark: a flip is visible
    bl = BatchLoader(x, torch.zeros(16, dtype=torch.long), 16, (0.5,), (0.5,), shuffle=False,
                     augment=Augment(flip=True))  # fmt: skip
    xb, _ = next(bl.epoch(0))
    flipped = xb[:, 0, 0, 0] > 0
    assert 0 < int(flipped.sum()) < 16


def test_gzip_helper_is_gzip(tmp_path: Path):
    # guard for the IDX tests above: the helper really writes gzip when asked
    p = write_idx(tmp_path / "a", np.zeros((2, 2), np.uint8), gz=True)
    assert p.suffix == ".gz" and gzip.decompress(p.read_bytes())[:4] == b"\x00\x00\x08\x02"


@pytest.mark.parametrize("spec", ["shift=3", "rotate=30"])
def test_loader_fills_uncovered_pixels_with_black(spec: str):
    # a white image, shifted or rotated: the pixels that come in are black (0 before
    # normalizing, i.e. -mean/std after), never the mean grey that a zero fill would give
    x = torch.full((64, 1, 12, 12), 255, dtype=torch.uint8)
    y = torch.zeros(64, dtype=torch.int64)
    mean, std = (0.3,), (0.4,)
    loader = BatchLoader(x, y, 64, mean, std, augment=Augment.parse(spec), seed=1)
    ((xb, _),) = list(loader)
    black, white = -0.3 / 0.4, 0.7 / 0.4
    values = xb.flatten()
    assert (values < black + 1e-4).any()  # some pixels came in from outside
    assert values.min() >= black - 1e-4 and values.max() <= white + 1e-4
    if spec.startswith("shift"):  # pad-and-crop: every pixel is exactly black or white
        assert (
            torch.isclose(values, torch.tensor(black))
            .logical_or(torch.isclose(values, torch.tensor(white)))
            .all()
        )


def test_symlink_loops_and_odd_names_in_an_image_folder(tmp_path: Path):
    """A link back up the tree neither hangs nor duplicates images; class and file names with
    spaces and non-ASCII characters load as they are."""
    root = tmp_path / "mes données"
    write_image_folder(root, classes=3, per_class=6, size=8)
    first = sorted(p for p in root.iterdir() if p.is_dir())[0]
    (first / "loop").symlink_to("..")
    (first / "naïve image.png").write_bytes((next(first.glob("*.png"))).read_bytes())
    data = cnnlab.load_dataset(root, val_fraction=0.0)
    assert len(data.train_y) + len(data.test_y) == 3 * 6 + 1


def test_first_per_class_keeps_the_first_images_of_each_class_in_order(fashion_small):
    from cnnlab.data.images import first_per_class

    data = fashion_small
    cut = first_per_class(data, "test", 2)
    assert cut.test_y.bincount(minlength=data.num_classes).tolist() == [2] * 10
    expected = torch.cat([torch.nonzero(data.test_y == c)[:2, 0] for c in range(10)])
    expected = expected.sort().values  # the split's own order, each class's first two
    assert torch.equal(cut.test_x, data.test_x[expected])
    assert torch.equal(cut.train_x, data.train_x)  # the other splits untouched
    train = first_per_class(data, "train", 1)
    assert len(train.train_y) == 10 and torch.equal(train.test_y, data.test_y)
