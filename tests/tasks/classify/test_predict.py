"""Prediction with a trained run: files of any size and colour mode, .npy arrays, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab.cli import main
from cnnlab.core.errors import DataError, RunError
from cnnlab.engine.runs import load_model
from cnnlab.tasks.classify import prediction
from conftest import pattern


@pytest.fixture(scope="module")
def image_files(tmp_path_factory) -> dict[str, Path]:
    """One class-1 picture saved as RGBA, P, L, RGB JPEG and RGB PNG, none of them 12x12."""
    root = tmp_path_factory.mktemp("predict")
    base = pattern(1, 12, np.random.default_rng(7))  # (12, 12, 3)
    big = np.kron(base, np.ones((2, 2, 1), np.uint8))  # (24, 24, 3)
    rgba = np.dstack([big, np.full((24, 24), 255, np.uint8)])
    rgba[:4, :, 3] = 0  # a transparent band
    files = {
        "rgba": root / "rgba.png", "pal": root / "pal.png", "gray": root / "gray.png",
        "jpeg": root / "photo.jpg", "rgb": root / "rgb.png",
    }  # fmt: skip
    Image.fromarray(rgba, "RGBA").save(files["rgba"])
    Image.fromarray(big).resize((30, 30)).convert("P").save(files["pal"])
    Image.fromarray(base).convert("L").resize((7, 7)).save(files["gray"])
    Image.fromarray(big).resize((16, 16)).save(files["jpeg"], quality=95)
    Image.fromarray(big).save(files["rgb"])
    return files


def check_top(top, classes, k):
    assert len(top) == k
    names = [c for c, _ in top]
    probs = [p for _, p in top]
    assert len(set(names)) == k and set(names) <= set(classes)
    assert probs == sorted(probs, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert sum(probs) <= 1.0 + 1e-6


def test_predict_any_size_and_colour_mode(trained_run: Path, image_files):
    files = list(image_files.values())
    for f in files:
        assert Image.open(f).size != (12, 12)
    assert {Image.open(f).mode for f in files} == {"RGBA", "P", "L", "RGB"}
    preds = cnnlab.predict(trained_run, files, topk=2)
    assert [p.source for p in preds] == [str(f) for f in files]
    for p in preds:
        check_top(p.top, ["class0", "class1", "class2"], 2)
    everything = cnnlab.predict(trained_run, files[:1], topk=10)[0].top  # capped at 3 classes
    check_top(everything, ["class0", "class1", "class2"], 3)
    assert sum(p for _, p in everything) == pytest.approx(1.0, abs=1e-5)


def test_rgba_is_composited_on_white_then_resized(trained_run: Path, image_files):
    rgba = np.asarray(Image.open(image_files["rgba"])).astype(np.float64)
    alpha = rgba[..., 3:] / 255
    rgb = (rgba[..., :3] * alpha + 255 * (1 - alpha)).round().astype(np.uint8)
    expect = np.asarray(Image.fromarray(rgb).resize((12, 12), Image.Resampling.BILINEAR))
    by_file = cnnlab.predict(trained_run, [image_files["rgba"]], topk=3)[0].top
    by_array = cnnlab.predict(trained_run, expect.transpose(2, 0, 1), topk=3)[0].top
    assert [c for c, _ in by_file] == [c for c, _ in by_array]
    np.testing.assert_allclose([p for _, p in by_file], [p for _, p in by_array], atol=1e-5)


def test_gray_file_into_rgb_model_is_replicated(trained_run: Path, image_files):
    gray = np.asarray(Image.open(image_files["gray"]).resize((12, 12), Image.Resampling.BILINEAR))
    expect = np.repeat(gray[None], 3, axis=0)  # (3, 12, 12)
    by_file = cnnlab.predict(trained_run, [image_files["gray"]])[0].top
    by_array = cnnlab.predict(trained_run, expect)[0].top
    np.testing.assert_allclose([p for _, p in by_file], [p for _, p in by_array], atol=1e-5)


def test_predict_arrays_and_model_meta(trained_run: Path, tiny_data):
    model, meta = load_model(trained_run)
    x = tiny_data.test_x[:5]  # (5, 3, 12, 12) uint8
    preds = cnnlab.predict((model, meta), x, topk=1)
    assert [p.source for p in preds] == [f"array[{i}]" for i in range(5)]
    by_npy = cnnlab.predict(trained_run, x.numpy().astype(np.float32), topk=1)
    assert [p.top[0][0] for p in preds] == [p.top[0][0] for p in by_npy]


def test_npy_file(trained_run: Path, tiny_data, tmp_path: Path):
    good = tmp_path / "good.npy"
    np.save(good, tiny_data.test_x[0].numpy())
    pred = cnnlab.predict(trained_run, [good], topk=3)[0]
    direct = cnnlab.predict(trained_run, tiny_data.test_x[0].numpy(), topk=3)[0]
    assert pred.top == direct.top


def test_npy_with_wrong_channels(trained_run: Path, tmp_path: Path):
    gray = tmp_path / "gray.npy"
    np.save(gray, np.zeros((1, 12, 12), np.uint8))
    with pytest.raises(DataError) as info:
        cnnlab.predict(trained_run, [gray])
    msg = str(info.value)
    assert msg.startswith(f"{gray} has 1 channel(s) but the model was trained on RGB (3 channel")
    assert "convert the array" in msg


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((3, 10, 12), np.uint8), r"shape \(3, 10, 12\); the model takes \(3, 12, 12\)"),
        (np.full((3, 12, 12), 300.0), "outside 0-255"),
    ],
    ids=["size", "range"],
)
def test_bad_arrays(trained_run: Path, array, message):
    with pytest.raises(DataError, match=message):
        cnnlab.predict(trained_run, array)


def test_bad_files(trained_run: Path, tmp_path: Path):
    with pytest.raises(DataError, match="does not exist"):
        cnnlab.predict(trained_run, [tmp_path / "missing.png"])
    fake = tmp_path / "fake.png"
    fake.write_text("hello")
    with pytest.raises(DataError, match=r"cannot read image .*fake\.png"):
        cnnlab.predict(trained_run, [fake])
    with pytest.raises(DataError, match="no inputs"):
        cnnlab.predict(trained_run, [])
    with pytest.raises(RunError, match="not a cnnlab run"):
        cnnlab.predict(tmp_path, [fake])


def test_cli_predict_one_line_per_file(trained_run: Path, image_files, capsys, monkeypatch):
    files = [image_files["rgba"], image_files["pal"], image_files["gray"]]
    short = [f.name for f in files]
    monkeypatch.chdir(files[0].parent)  # short names: each line fits the console
    rc = main(["predict", str(trained_run), *short, "--topk", "2"])
    out = capsys.readouterr()
    assert rc == 0 and "error" not in out.err  # stderr may say that model.onnx was exported
    lines = out.out.strip().splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, short, strict=True):
        assert line.startswith(f"{name}: ")
        parts = line.split(": ", 1)[1].split("  ")
        assert len(parts) == 2 and all(p.rsplit(" ", 1)[1].endswith("%") for p in parts)


def test_cli_predict_long_path_stays_on_one_line(trained_run: Path, image_files, tmp_path,
                                                 capsys):  # fmt: skip
    long = tmp_path / ("a-rather-long-folder-name-for-the-images-" * 2) / "picture.png"
    long.parent.mkdir()
    long.write_bytes(image_files["rgb"].read_bytes())
    assert main(["predict", str(trained_run), str(long)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{long}: ")


def test_cli_predict_topk_must_be_positive(trained_run: Path, image_files, capsys):
    assert main(["predict", str(trained_run), str(image_files["rgb"]), "--topk", "0"]) == 2
    assert capsys.readouterr().err == "cnnlab: error: --topk must be >= 1, got 0\n"


def _meta_with_mean(trained_run: Path, mean: float):
    model, meta = load_model(trained_run)
    meta.mean = tuple(mean for _ in meta.mean)
    return model, meta


def test_a_light_background_is_noted_and_inverted_on_request(trained_run: Path, tmp_path: Path):
    """A model trained on light objects on black (mean < 0.4) notes a light-background input;
    --invert auto inverts exactly that input, and the inverted input predicts as the dark one."""
    model, meta = _meta_with_mean(trained_run, 0.25)
    c, (h, w) = meta.in_channels, meta.input_size
    dark = np.zeros((c, h, w), np.uint8)
    dark[:, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 200
    light = 255 - dark
    plain = prediction.predict((model, meta), np.stack([dark, light]))
    assert plain[0].notes == []
    assert "has a light background" in plain[1].notes[0] and "--invert auto" in plain[1].notes[0]
    auto = prediction.predict((model, meta), np.stack([dark, light]), invert="auto")
    assert auto[0].notes == [] and auto[1].notes[0].startswith("inverted")
    assert auto[1].top == plain[0].top  # 255 - (255 - dark) is the dark image again
    with pytest.raises(ValueError, match="invert must be one of false, true, auto"):
        prediction.predict((model, meta), dark, invert="yes")


def test_no_background_note_when_the_training_data_has_none(trained_run: Path):
    model, meta = _meta_with_mean(trained_run, 0.5)  # photos: neither polarity is clear
    light = np.full((meta.in_channels, *meta.input_size), 250, np.uint8)
    assert prediction.predict((model, meta), light)[0].notes == []


def test_a_squeezed_file_is_noted(trained_run: Path, tmp_path: Path):
    wide = tmp_path / "wide.png"
    Image.fromarray(np.zeros((20, 60, 3), np.uint8)).save(wide)
    (p,) = cnnlab.predict(trained_run, [wide])
    assert any("is 60x20 and is squeezed to 12x12" in n for n in p.notes)


def test_cli_predict_example_and_the_shipped_files(trained_run: Path, capsys, tmp_path):
    from cnnlab.data.examples import EXAMPLES, FOLDER

    shipped = {p.name for p in FOLDER.iterdir() if p.suffix != ".md"}
    assert shipped == {e.file for e in EXAMPLES}  # every file is listed, every entry exists
    rc = main(["predict", str(trained_run), "--example"])  # trained on a folder: none ship
    assert rc == 2 and "no sample images for" in capsys.readouterr().err
    rc = main(["datasets", "--examples"])
    out = capsys.readouterr().out
    assert rc == 0 and all(e.label in out for e in EXAMPLES)


def test_cli_predict_example_picks_the_run_datasets_files(trained_run: Path, tmp_path, capsys):
    import shutil

    import yaml

    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    (run / "config.yaml").write_text(yaml.safe_dump({**cfg, "data": "fashion-mnist"}))
    assert main(["predict", str(run), "--example", "--topk", "1"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if ".png:" in line]
    assert [Path(line.split(":")[0]).name for line in lines] == [
        "fashion-mnist-ankle-boot.png", "fashion-mnist-trouser.png", "fashion-mnist-bag.png",
        "sneaker-photo.png",
    ]  # fmt: skip
