"""The glyphs dataset: letters drawn from the installed fonts with random affine distortions,
the "different" target of the transfer study (issue 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.cli import main
from cnnlab.core.errors import DataError
from cnnlab.data import glyphs
from cnnlab.data.datasets import DATASETS

needs_fonts = pytest.mark.skipif(not glyphs.find_fonts(), reason="no fonts installed")
SMALL = {"per_class": 30, "test_per_class": 10}


@pytest.fixture(scope="module")
def small() -> cnnlab.ImageData:
    return glyphs.make_glyphs(**SMALL, seed=0)


def test_find_fonts_lists_font_files():
    fonts = glyphs.find_fonts()
    assert fonts == sorted(fonts)  # sorted: the same seed picks the same fonts
    assert all(f.suffix.lower() in (".ttf", ".otf") and f.is_file() for f in fonts)


@needs_fonts
def test_shapes_dtype_classes_and_splits(small):
    assert small.classes == list("ABCDEFGHIJ")
    assert small.input_shape == (1, 28, 28)
    for x, y in [(small.train_x, small.train_y), (small.val_x, small.val_y)]:
        assert x.dtype == torch.uint8 and y.dtype == torch.int64 and x.shape[0] == y.shape[0]
    # 30 per class with 10 % held out for validation: 27 + 3, and 10 per class in test
    assert np.bincount(small.train_y.numpy()).tolist() == [27] * 10
    assert np.bincount(small.val_y.numpy()).tolist() == [3] * 10
    assert np.bincount(small.test_y.numpy()).tolist() == [10] * 10
    assert small.test_x.shape == (100, 1, 28, 28)
    assert small.name == "glyphs" and "generated from" in small.source


@needs_fonts
def test_images_are_glyphs_not_blank_and_differ_within_a_class(small):
    x = small.train_x.numpy().reshape(len(small.train_y), -1)
    y = small.train_y.numpy()
    assert (x.max(1) > 150).all()  # a bright stroke in every image
    ink = (x > 64).mean(1)
    assert (ink > 0.01).all() and (ink < 0.6).all()  # some ink (a thin "I" has ~3 %) on black
    # white on black like Fashion-MNIST: the border is darker than the centre
    img = small.train_x.float()
    border = torch.cat([img[..., :2, :].flatten(1), img[..., -2:, :].flatten(1)], 1).mean()
    assert border < img[..., 8:20, 8:20].mean() / 3
    for c in range(10):
        rows = x[y == c]
        assert len(np.unique(rows, axis=0)) == len(rows)  # no two images of a letter alike


@needs_fonts
def test_same_seed_same_arrays_other_seed_differs():
    a = glyphs.glyph_arrays(**SMALL, seed=3)
    glyphs._generate.cache_clear()  # make it again from scratch, not from the cache
    b = glyphs.glyph_arrays(**SMALL, seed=3)
    c = glyphs.glyph_arrays(**SMALL, seed=4)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["train_x"], c["train_x"])
    a["train_x"][:] = 0  # the cache hands out copies: a caller's writes do not leak
    assert glyphs.glyph_arrays(**SMALL, seed=3)["train_x"].any()


@needs_fonts
def test_load_dataset_glyphs_is_make_glyphs_and_respects_split_arguments():
    data = cnnlab.load_dataset("glyphs")
    made = glyphs.make_glyphs()
    assert data.origin == made.origin == "glyphs"
    assert data.input_shape == (1, 28, 28) and len(data.test_y) == 1000
    assert len(data.train_y) + len(data.val_y) == 6000 and len(data.val_y) == 600
    for k in ("train_x", "train_y", "val_x", "test_x", "test_y"):
        assert torch.equal(getattr(data, k), getattr(made, k))
    limited = cnnlab.load_dataset("glyphs", val_fraction=0.2, train_limit=200, seed=1)
    assert np.bincount(limited.train_y.numpy()).tolist() == [20] * 10
    assert len(limited.val_y) == 1200
    # the seed moves the split, not the set: the test images stay the same, as on disk
    assert torch.equal(limited.test_x, data.test_x)
    assert not torch.equal(limited.val_x[:600], data.val_x)
    assert cnnlab.data.default_augment("glyphs") == "shift=2,rotate=10"  # no mirror letters


@needs_fonts
def test_options_letters_size_and_fonts():
    font = glyphs.find_fonts()[0]
    d = glyphs.make_glyphs("xyz", per_class=4, test_per_class=2, size=20, fonts=[font])
    assert d.classes == ["x", "y", "z"] and d.input_shape == (1, 20, 20)
    assert len(d.test_y) == 6 and d.origin == ""  # not the default set: no name to reload by


@needs_fonts
def test_tiny_cnn_beats_chance(tmp_path: Path, quiet):
    data = glyphs.make_glyphs(per_class=60, test_per_class=20, seed=0)
    r = cnnlab.train(
        data=data,
        model="cnn-small",
        epochs=2,
        batch_size=32,
        lr=3e-3,
        train_limit=500,
        precision="32",
        progress=False,
        runs_dir=str(tmp_path),
        console=quiet,
    )
    # measured 0.76 and 0.79 (seeds 0, 1; chance 0.10) from 500 images and 2 epochs
    assert r.test is not None and r.test.accuracy > 0.3


def test_no_fonts_is_one_clear_data_error(monkeypatch):
    monkeypatch.setattr(glyphs, "find_fonts", lambda: [])
    with pytest.raises(DataError, match="no fonts found.*apt install fonts-dejavu-core"):
        glyphs.make_glyphs(**SMALL)
    with pytest.raises(DataError, match="fonts-dejavu-core"):
        cnnlab.load_dataset("glyphs")


def test_no_fonts_through_the_cli(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(glyphs, "find_fonts", lambda: [])
    code = main(["train", "--data", "glyphs", "--epochs", "1", "--runs_dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "cnnlab: error: no fonts found" in err and "Traceback" not in err


@needs_fonts
def test_a_letter_no_font_can_draw():
    # U+4E00 is not in DejaVu: the font would draw its "missing" box, which must not count
    fonts = [f for f in glyphs.find_fonts() if "DejaVu" in f.name]
    if not fonts:
        pytest.skip("needs DejaVu fonts")
    with pytest.raises(DataError, match="no installed font can draw '\u4e00'"):
        glyphs.make_glyphs("A\u4e00", per_class=2, test_per_class=1, fonts=fonts)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"letters": "A"}, "letters"),
        ({"letters": "AA"}, "letters"),
        ({"per_class": 0}, "per_class"),
        ({"test_per_class": 0}, "test_per_class"),
        ({"size": 4}, "size"),
        ({"val_fraction": 1.0}, "val_fraction"),
    ],
)
def test_bad_hyper_parameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        glyphs.make_glyphs(**{**SMALL, **kwargs})


def test_registered_and_listed_by_cnnlab_datasets(capsys):
    assert "glyphs" in DATASETS
    assert DATASETS.get("glyphs").factory.classes == list(glyphs.LETTERS)
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "glyphs" in out and "generated on this machine" in out
