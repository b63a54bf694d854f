"""ONNX export: every task's model matches PyTorch in onnxruntime, the preprocessing travels in
the metadata, `cnnlab predict MODEL.onnx` answers as the run does without importing torch, and
bad files are one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from rich.console import Console

import cnnlab
from cnnlab.engine.runs import load_model
from cnnlab.export.onnx_export import export_onnx, to_input
from cnnlab.export.onnx_predict import predict_onnx
from cnnlab.tasks.autoencode.run import autoencode
from cnnlab.tasks.segment.run import segment
from conftest import cli, one_line_error


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    result = export_onnx(trained_run, out, check_n=40)
    assert result.path == out and out.stat().st_size == result.size_bytes
    assert result.images_from == "test images of the run's data"
    assert result.max_abs_diff < 1e-4 and result.agreement == 1.0
    return out


def test_metadata_holds_the_preprocessing_and_the_classes(exported, trained_run):
    _, meta = load_model(trained_run)
    props = {p.key: p.value for p in onnx.load(str(exported)).metadata_props}
    spec = json.loads(props["cnnlab.input"])
    assert props["cnnlab.format"] == "cnnlab-onnx" and props["cnnlab.task"] == "classify"
    assert spec["channels"] == 3 and spec["size"] == list(meta.input_size)
    assert spec["mean"] == pytest.approx(list(meta.mean))
    assert json.loads(props["cnnlab.classes"]) == meta.classes


@pytest.mark.parametrize("batch", [1, 7])
def test_the_batch_dimension_is_dynamic(exported, trained_run, batch):
    model, meta = load_model(trained_run)
    x = np.random.default_rng(batch).integers(0, 256, (batch, 3, 12, 12), dtype=np.uint8)
    ref = model(to_input(x, meta)).detach().numpy()
    got = ort.InferenceSession(str(exported)).run(None, {"image": to_input(x, meta).numpy()})[0]
    assert got.shape == (batch, meta.num_classes)
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_predict_on_onnx_matches_predict_on_the_run(exported, trained_run, image_folder):
    files = sorted(image_folder.rglob("*.png"))[::10]
    ours = predict_onnx(exported, files, topk=2)
    theirs = cnnlab.predict(trained_run, files, topk=2)
    for a, b in zip(ours, theirs, strict=True):
        assert [c for c, _ in a.top] == [c for c, _ in b.top]
        assert [p for _, p in a.top] == pytest.approx([p for _, p in b.top], abs=1e-5)


def test_predict_on_onnx_never_imports_torch(exported, image_folder):
    image = next(image_folder.rglob("*.png"))
    code = (
        "import sys; from cnnlab.cli import main; rc = main(sys.argv[1:]); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code, "predict", str(exported), str(image)],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert str(image) in proc.stdout and "%" in proc.stdout


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory) -> Path:
    """A tiny U-Net run on generated fashion scenes."""
    runs = str(tmp_path_factory.mktemp("seg"))
    seg = segment(data="fashion-scenes", model="unet", epochs=1, n_train=8, n_val=4, n_test=4,
                  model_args={"base_width": 4, "depth": 2}, progress=False, name="seg",
                  runs_dir=runs, console=Console(quiet=True))  # fmt: skip
    return seg.run_dir


def test_segmentation_and_autoencoder_runs_export(capsys, tmp_path, seg_run):
    quiet = Console(quiet=True)
    ae = autoencode(data="fashion-mnist", model="ae-conv", epochs=1, train_limit=64,
                    runs_dir=str(tmp_path), name="ae", progress=False, console=quiet)  # fmt: skip
    s = export_onnx(seg_run, tmp_path / "seg.onnx", check_n=4)
    assert s.path == tmp_path / "seg.onnx" and s.task == "segment"
    assert s.max_abs_diff < 1e-4 and s.agreement > 0.999
    a = export_onnx(ae.run_dir, check_n=16)
    assert a.task == "autoencode" and a.agreement is None and a.max_abs_diff < 1e-4
    image = next(Path(cnnlab.__file__).parent.rglob("*.png"))
    rc, _, err = cli(capsys, "predict", s.path, image)
    one_line_error(rc, err, "exported segment model")  # onnx predict classifies only


def test_cli_export_prints_the_check(capsys, trained_run, tmp_path):
    out = tmp_path / "m.onnx"
    rc, text, err = cli(capsys, "export", trained_run, "--out", out, "--check_images", "8")
    assert rc == 0, err
    assert "max abs difference" in text and "top-1 agreement 100.00%" in text
    assert "cnnlab predict" in text and out.is_file()


def test_bad_onnx_files_are_one_line(capsys, exported, tmp_path, image_folder):
    image = next(image_folder.rglob("*.png"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(np.random.default_rng(0).bytes(500))
    plain = tmp_path / "plain.onnx"  # a valid ONNX file that cnnlab did not write
    proto = onnx.load(str(exported))
    del proto.metadata_props[:]
    onnx.save(proto, str(plain))
    damaged = tmp_path / "damaged.onnx"
    proto = onnx.load(str(exported))
    for p in proto.metadata_props:
        if p.key == "cnnlab.input":
            p.value = "{not json"
    onnx.save(proto, str(damaged))
    cases = [
        (junk, "is not a readable ONNX model"),
        (plain, "was not written by `cnnlab export`"),
        (damaged, "metadata is damaged"),
        (tmp_path / "missing.onnx", "does not exist"),
    ]
    for path, fragment in cases:
        rc, _, err = cli(capsys, "predict", path, image)
        one_line_error(rc, err, fragment)


def test_bad_export_options_are_one_line_and_keep_what_was_there(capsys, trained_run, tmp_path):
    rc, _, err = cli(capsys, "export", trained_run, "--format", "tflite")
    one_line_error(rc, err, "--format")
    rc, _, err = cli(capsys, "export", trained_run, "--out", tmp_path)
    one_line_error(rc, err, "must end in .onnx")
    rc, _, err = cli(capsys, "export", tmp_path / "nope")
    one_line_error(rc, err, "is not a folder")
    broken = tmp_path / "broken"
    shutil.copytree(trained_run, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    keep = tmp_path / "keep.onnx"
    keep.write_bytes(b"an earlier export")
    rc, _, err = cli(capsys, "export", broken, "--out", keep)
    one_line_error(rc, err, "corrupt")
    assert keep.read_bytes() == b"an earlier export"


NO_TORCH = (
    "import sys; from cnnlab.cli import main; rc = main(sys.argv[1:]); "
    "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
)


def test_predict_on_a_run_uses_its_export_without_torch(trained_run, image_folder, tmp_path):
    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    (run / "model.onnx").unlink(missing_ok=True)
    export_onnx(run, check_n=4)  # RUN/model.onnx, made from the present weights
    image = next(image_folder.rglob("*.png"))
    proc = subprocess.run([sys.executable, "-c", NO_TORCH, "predict", str(run), str(image)],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(str(image)) and "exported" not in proc.stderr


def test_a_stale_export_is_made_again_and_matches_pytorch(capsys, trained_run, image_folder,
                                                         tmp_path):  # fmt: skip
    from safetensors.torch import load_file, save_file

    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    export_onnx(run, check_n=4)
    old = (run / "model.onnx").read_bytes()
    state = load_file(str(run / "model.safetensors"))
    head = [k for k in state if k.endswith("bias")][-1]
    state[head] = state[head] + 1.5 * torch.arange(len(state[head]), dtype=torch.float32)
    save_file(state, str(run / "model.safetensors"))  # new weights: the export is stale
    files = [str(p) for p in sorted(image_folder.rglob("*.png"))[::15]]
    rc, onnx_out, err = cli(capsys, "predict", run, *files)
    assert rc == 0 and "exported" in err and (run / "model.onnx").read_bytes() != old
    rc, torch_out, _ = cli(capsys, "predict", run, *files, "--runtime", "torch")
    assert rc == 0 and onnx_out == torch_out


def test_runtime_onnxruntime_is_for_classifiers(capsys, seg_run):
    image = next(Path(cnnlab.__file__).parent.rglob("*.png"))
    rc, _, err = cli(capsys, "predict", seg_run, image, "--runtime", "onnxruntime")
    one_line_error(rc, err, "--runtime onnxruntime is for classifier runs")
