"""A generated corpus of hostile input, run against the commands that take files and options:
random bytes as images, masks and weights, random JSON as model.json, random YAML as a config,
and option values that cannot work. Each must give one `cnnlab: error:` line, exit code 2, no
traceback, and leave every file as it was (docs/reliability.md)."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnlab.cli import main
from conftest import save_png

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def one_line_error(argv: list[str], watched: Path) -> str:
    """Run `cnnlab ARGV`; assert the contract and return the error line."""
    before = snapshot(watched)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    text = err.getvalue()
    assert rc == 2, (argv, rc, text, out.getvalue()[-500:])
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
    assert text.startswith("cnnlab: error: "), text
    assert snapshot(watched) == before, f"{argv} changed files under {watched}"
    return text


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, trained_run):
    """A copy of a trained run and an image, in one folder the tests watch."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(trained_run, root / "run")
    save_png(root / "ok.png", np.zeros((12, 12, 3), np.uint8))
    return root


@pytest.fixture
def no_training(monkeypatch):
    """A bad config or option must be refused before any training starts."""
    import cnnlab.engine.loop

    def refuse(*args, **kwargs):
        raise AssertionError("a training started: the bad input was not refused")

    monkeypatch.setattr(cnnlab.engine.loop, "train_task", refuse)


@SETTINGS
@given(data=st.binary(max_size=600))
def test_random_bytes_as_an_image_or_an_onnx_model(scratch, data):
    bad, model = scratch / "bad.png", scratch / "model.onnx"
    bad.write_bytes(data)
    model.write_bytes(data)
    try:
        one_line_error(["predict", scratch / "run", bad], scratch / "run")
        one_line_error(["show", "filters", bad, "--out", scratch / "show-out"], scratch / "run")
        assert not (scratch / "show-out").exists()
        assert str(model) in one_line_error(["predict", model, scratch / "ok.png"], scratch / "run")
    finally:
        bad.unlink()
        model.unlink()


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_as_weights_or_state(scratch, data):
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(shutil.copytree(scratch / "run", Path(tmp) / "run"))
        (run / "model.safetensors").write_bytes(data)
        one_line_error(["predict", run, scratch / "ok.png"], run)
        (run / "state.pt").write_bytes(data)
        one_line_error(["train", "--resume", run, "--epochs", "9"], run)


@SETTINGS
@given(doc=JSON)
def test_random_json_as_model_json_for_report_predict_and_transfer(scratch, doc):
    import json

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(shutil.copytree(scratch / "run", Path(tmp) / "run"))
        (run / "model.json").write_text(json.dumps(doc))
        one_line_error(["report", run], run)
        one_line_error(["predict", run, scratch / "ok.png"], run)
        one_line_error(
            ["transfer", "--from", run, "--data", "glyphs", "--runs_dir", Path(tmp) / "runs"], run
        )  # fmt: skip
        assert not (Path(tmp) / "runs").exists()


OPTIONS = {"epochs", "lr", "model", "data", "batch_size", "seed", "augment", "name"}


@SETTINGS
@given(doc=st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in OPTIONS),
                           JSON, min_size=1, max_size=4))  # fmt: skip
def test_random_yaml_as_a_config(scratch, doc, no_training):
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "c.yaml"
        cfg.write_text(yaml.safe_dump(doc))
        one_line_error(["train", "--config", cfg, "--runs_dir", Path(tmp) / "runs"], scratch)
        assert not (Path(tmp) / "runs").exists()


@SETTINGS
@given(
    option=st.sampled_from(["--epochs", "--batch_size", "--lr", "--val_fraction", "--patience",
                            "--max_time", "--label_smoothing", "--devices"]),
    value=st.one_of(st.integers(max_value=0).map(str), st.just("nan"), st.just("-inf"),
                    st.text(alphabet="abcxyz!%", min_size=1, max_size=5)),
)  # fmt: skip
def test_option_values_that_cannot_work(scratch, option, value, no_training):
    if option in ("--val_fraction", "--label_smoothing") and value.lstrip("-").isdigit():
        value = str(abs(int(value)) + 1)  # 0 is allowed there; 1 and up are not
    with tempfile.TemporaryDirectory() as tmp:
        text = one_line_error(["train", option, value, "--runs_dir", Path(tmp) / "runs"], scratch)
        assert option in text, text  # the message names the option as typed
        assert not (Path(tmp) / "runs").exists()


def test_paths_with_spaces_and_non_ascii_letters_work_everywhere(trained_run, tmp_path):
    """Run folders and images whose paths hold spaces and non-ASCII letters, through every
    command that takes a run or an image."""
    run = Path(shutil.copytree(trained_run, tmp_path / "mes runs" / "série 1"))
    img = save_png(tmp_path / "mes runs" / "chaussure d'été.png", np.zeros((20, 16, 3), np.uint8))
    out = tmp_path / "sortie à part"
    for argv in (["predict", run, img], ["report", run], ["show", "kernels", run, "--out", out],
                 ["show", "features", run, img, "--out", out / "f"], ["summary", run],
                 ["show", "filters", img, "--out", out / "filtres"]):  # fmt: skip
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            rc = main([str(a) for a in argv])
        assert rc == 0, (argv, err.getvalue())
    assert (run / "report.html").is_file() and any(out.rglob("*.png"))


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_segmentation_mask(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("seg")
    for name in ("a", "b", "c", "d"):
        save_png(root / "images" / f"{name}.png", np.zeros((16, 16), np.uint8))
        save_png(root / "masks" / f"{name}.png", np.zeros((16, 16), np.uint8))
    (root / "masks" / "c.png").write_bytes(data)
    text = one_line_error(["segment", "--data", root, "--epochs", "1", "--runs_dir",
                           root / "runs"], root)  # fmt: skip
    assert "c.png" in text and not (root / "runs").exists()


@SETTINGS
@given(data=st.binary(max_size=400), which=st.sampled_from(["images", "labels"]))
def test_random_bytes_as_a_nifti_volume(tmp_path_factory, data, which):
    import nibabel as nib

    root = tmp_path_factory.mktemp("nifti")
    for name in ("a", "b", "c", "d"):
        for sub in ("images", "labels"):
            vol = np.zeros((8, 8, 8), np.uint8)
            (root / sub).mkdir(exist_ok=True)
            nib.save(nib.Nifti1Image(vol, np.eye(4)), str(root / sub / f"{name}.nii.gz"))
    (root / which / "c.nii.gz").write_bytes(data)
    text = one_line_error(["segment", "--data", root, "--dims", "3", "--epochs", "1",
                           "--runs_dir", root / "runs"], root)  # fmt: skip
    assert "c.nii.gz" in text and not (root / "runs").exists()


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """A tiny finished text run (word tokenizer), trained once for this module."""
    from rich.console import Console

    from cnnlab.tasks.text.run import text

    root = tmp_path_factory.mktemp("hostile-text")
    csv = root / "t.csv"
    csv.write_text("text,label\n" + "".join(f"good day {i},pos\nbad day {i},neg\n"
                                            for i in range(30)))  # fmt: skip
    r = text(data=str(csv), epochs=1, vocab_size=50, max_len=8, tokenizer="word",
             baseline=False, precision="32", progress=False, runs_dir=str(root / "runs"),
             name="t", console=Console(quiet=True))  # fmt: skip
    return r.folder


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_as_a_text_csv_or_a_tokenizer(text_run, tmp_path_factory, data):
    root = tmp_path_factory.mktemp("csv")
    (root / "d.csv").write_bytes(data)
    one_line_error(["text", "--data", root / "d.csv", "--runs_dir", root / "runs"], root)
    assert not (root / "runs").exists()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(shutil.copytree(text_run, Path(tmp) / "run"))
        (run / "tokenizer.json").write_bytes(data)
        one_line_error(["predict", run, "--text", "good day"], run)
        one_line_error(["show", "features", run, "--text", "good day", "--out",
                        Path(tmp) / "out"], run)  # fmt: skip
        assert not (Path(tmp) / "out").exists()
