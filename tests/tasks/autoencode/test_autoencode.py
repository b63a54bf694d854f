"""cnnlab autoencode / sample: run folders, metrics against the baseline and the noisy input,
the VAE's KL and samples, exact resume, and one-line errors that leave no run folder."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest
import torch
from PIL import Image
from rich.console import Console

import cnnlab
import cnnlab.data.datasets as datasets_mod
from cnnlab.data.noise import parse_noise
from cnnlab.engine import runs
from cnnlab.models.autoencoder import ConvAutoencoder
from cnnlab.tasks.autoencode.figures import grid_size
from cnnlab.tasks.autoencode.predict import reconstruct_files
from cnnlab.tasks.autoencode.run import AutoencodeConfig, autoencode
from conftest import cli, one_line_error, save_png

QUIET = Console(quiet=True)
FAST = dict(epochs=2, batch_size=16, lr=1e-2, precision="32", progress=False, console=QUIET)


@pytest.fixture(scope="module")
def fashion512() -> cnnlab.ImageData:
    """~512 embedded Fashion-MNIST training images (the same on every machine), 200 val and
    300 test images."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets_mod, "locate", lambda *a, **k: (None, "nowhere"))
        d = cnnlab.load_dataset("fashion-mnist", train_limit=512, seed=0)
    return dataclasses.replace(
        d, val_x=d.val_x[:200], val_y=d.val_y[:200], test_x=d.test_x[:300], test_y=d.test_y[:300]
    )


def test_run_folder_and_the_model_beats_the_mean_image(tmp_path, fashion512):
    r = autoencode(data=fashion512, runs_dir=tmp_path, name="ae", **FAST)
    for f in (
        "config.yaml",
        "metrics.csv",
        "model.safetensors",
        "model.json",
        "state.pt",
        "results.json",
        "report.html",
        "figures/reconstructions.png",
        "figures/curves.png",
    ):
        assert (r.run_dir / f).is_file(), f
    res = json.loads((r.run_dir / "results.json").read_text())
    assert res["test"]["psnr"] > res["baseline"]["psnr"] + 1.0
    assert res["test"]["ssim"] > res["baseline"]["ssim"]
    assert res["latent_shape"] == [4, 7, 7] and res["compression_ratio"] == 4.0  # the course
    assert len(r.history) == 2 and {"val/psnr", "val/loss"} <= set(r.history[0])
    model, meta = runs.load_model(r.run_dir)
    assert meta.task == "autoencode" and isinstance(model, ConvAutoencoder)
    assert "mean-image baseline" in (r.run_dir / "report.html").read_text()


def test_the_denoiser_beats_its_noisy_input(tmp_path, fashion512):
    r = autoencode(data=fashion512, runs_dir=tmp_path, noise="gaussian:0.3", latent=8, **FAST)
    assert r.test["psnr"] > r.test["noisy_psnr"] and r.test["ssim"] > r.test["noisy_ssim"]
    # sigma 0.3 clipped to [0, 1]: the noisy input's PSNR is near 10 log10(1 / 0.3^2) = 10.5 dB
    assert 9.0 < r.test["noisy_psnr"] < 14.0
    assert runs.read_meta(r.run_dir).config == {"latent_channels": 8}  # --latent mapped


def test_predict_reconstructs_a_file_with_the_runs_noise(tmp_path, fashion512, capsys,
                                                         trained_run):  # fmt: skip
    r = autoencode(data=fashion512, runs_dir=tmp_path, noise="gaussian:0.3", latent=8, **FAST)
    img = save_png(tmp_path / "shirt.png", fashion512.test_x[0, 0].numpy())
    rc, out, err = cli(capsys, "predict", r.run_dir, img)
    assert rc == 0, err
    found = re.search(r"shirt.png -> (.+): MSE ([\d.]+), PSNR ([\d.]+) dB \(noisy input "
                      r"([\d.]+) dB\)", out)  # fmt: skip
    assert found, out
    pic = r.run_dir / "reconstructions" / "shirt-recon.png"
    mse, db, noisy_db = float(found[2]), float(found[3]), float(found[4])
    assert found[1] == str(pic) and db == pytest.approx(10 * math.log10(1 / mse), abs=0.1)
    assert 9.0 < noisy_db < 14.0  # sigma 0.3, as in the run's test
    # input, noisy input, reconstruction, difference: 28-px panels 4 px apart, enlarged 4x
    assert Image.open(pic).size == ((4 * 28 + 3 * 4) * 4, 28 * 4)
    # fed as it is: the numbers equal the model's own output; the first picture is kept
    rc, out, _ = cli(capsys, "predict", r.run_dir, img, "--noise", "none")
    assert "shirt-recon-2.png" in out and "noisy" not in out and pic.is_file()
    model, _ = runs.load_model(r.run_dir)
    x = fashion512.test_x[:1].float() / 255
    with torch.no_grad():
        want = float(((model.eval()(x).clamp(0, 1) - x) ** 2).mean())
    (rec,) = reconstruct_files(r.run_dir, [img], noise="none")
    assert rec.noisy is None and rec.mse == pytest.approx(want, rel=1e-4, abs=1e-6)
    noisy = parse_noise("gaussian:0.3")(x, torch.Generator().manual_seed(0))  # the run's noise
    with torch.no_grad():
        denoised = float(((model(noisy).clamp(0, 1) - x) ** 2).mean())
    (rec,) = reconstruct_files(r.run_dir, [img])
    assert rec.mse == pytest.approx(denoised, rel=1e-4, abs=1e-6) and rec.noisy is not None
    assert float(re.search(r"MSE ([\d.]+)", out)[1]) == pytest.approx(want, abs=1e-4)
    rc, _, err = cli(capsys, "predict", r.run_dir, img, "--noise", "pink:3")
    one_line_error(rc, err, "--noise", "pink:3")
    rc, _, err = cli(capsys, "predict", r.run_dir, img, "--out", tmp_path / "x.jpg")
    one_line_error(rc, err, "--out", ".png")
    rc, _, err = cli(capsys, "predict", trained_run, img, "--noise", "0.3")
    one_line_error(rc, err, "--noise is for autoencoder runs")


def test_vae_logs_a_finite_kl_and_sample_writes_grids(tmp_path, fashion512, capsys, monkeypatch):
    monkeypatch.setattr(datasets_mod, "locate", lambda *a, **k: (None, "nowhere"))
    small = dataclasses.replace(fashion512, test_x=fashion512.test_x[:50])
    r = autoencode(
        data=small,
        runs_dir=tmp_path,
        model="vae-conv",
        latent=8,
        model_args={"widths": [8, 16]},
        **{**FAST, "lr": 3e-3},
    )
    assert all(math.isfinite(row["train/kl"]) and row["train/kl"] >= 0 for row in r.history)
    assert (r.run_dir / "figures" / "samples.png").is_file()
    out = tmp_path / "s.png"
    rc, text, err = cli(capsys, "sample", r.run_dir, "--n", 12, "--out", out, "--steps", 5)
    assert rc == 0, err
    assert Image.open(out).size == grid_size(12, 28, 28, ncols=8, scale=2) == (484, 124)
    assert Image.open(tmp_path / "s-interpolation.png").size == grid_size(5, 28, 28, 5, 2)
    rc, text, _ = cli(capsys, "sample", r.run_dir, "--n", 4, "--out", out)
    assert rc == 0 and (tmp_path / "s-2.png").is_file() and "exists" in text  # never overwrite
    samples = r.model.sample(4, torch.Generator().manual_seed(0))
    assert samples.shape == (4, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1


def test_resume_gives_the_same_weights_as_a_straight_run(tmp_path, fashion512):
    small = dataclasses.replace(
        fashion512, train_x=fashion512.train_x[:128], test_x=fashion512.test_x[:20]
    )
    kw = {**FAST, "runs_dir": tmp_path, "noise": "0.2", "model": "ae-conv-upsample"}
    straight = autoencode(data=small, name="straight", **kw)
    part = autoencode(data=small, name="part", stop_after=1, **kw)
    assert part.test == {} and len(part.history) == 1
    resumed = autoencode(data=small, resume=part.run_dir, console=QUIET)
    assert len(resumed.history) == 2 and resumed.run_dir == part.run_dir
    a = torch.load(straight.run_dir / "state.pt", weights_only=True)["model"]
    b = torch.load(part.run_dir / "state.pt", weights_only=True)["model"]
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--model", "ae-nope"], ["ae-nope"]),
        (["--noise", "pink:0.3"], ["noise", "pink:0.3"]),
        (["--latent", "0"], ["latent"]),
        (["--model_args", '{"depth": 3}'], ["depth"]),
    ],
)
def test_autoencode_errors_are_one_line_and_leave_no_run(tmp_path, capsys, args, fragments):
    runs_dir = tmp_path / "runs"
    rc, _, err = cli(capsys, "autoencode", "--runs_dir", runs_dir, "--progress", "false", *args)
    one_line_error(rc, err, *fragments)
    assert not runs_dir.exists()


def test_sample_errors_are_one_line(tmp_path, capsys, trained_run, fashion512, monkeypatch):
    rc, _, err = cli(capsys, "sample", trained_run)
    one_line_error(rc, err, "classify run", "not an autoencoder")
    rc, _, err = cli(capsys, "sample", tmp_path / "missing")
    one_line_error(rc, err, "missing")
    monkeypatch.setattr(datasets_mod, "locate", lambda *a, **k: (None, "nowhere"))
    small = dataclasses.replace(
        fashion512, train_x=fashion512.train_x[:64], test_x=fashion512.test_x[:20]
    )
    cfg = AutoencodeConfig(data="fashion-mnist", train_limit=512, model="ae-linear", epochs=1)
    plain = autoencode(cfg, data=small, runs_dir=tmp_path, **{**FAST, "epochs": 1})
    rc, _, err = cli(capsys, "sample", plain.run_dir)
    one_line_error(rc, err, "plain autoencoder", "--interpolate")
    rc, text, err = cli(capsys, "sample", plain.run_dir, "--interpolate", "2,3")
    assert rc == 0, err
    assert "interpolation only" in text
    assert (plain.run_dir / "figures" / "interpolation.png").is_file()
    rc, _, err = cli(capsys, "sample", plain.run_dir, "--interpolate", "0,99999")
    one_line_error(rc, err, "0-")
    rc, _, err = cli(capsys, "sample", plain.run_dir, "--interpolate", "a")
    one_line_error(rc, err, "--interpolate")


def test_config_rejects_bad_values_naming_the_field():
    for field, value in (("epochs", 0), ("batch_size", 0), ("beta", -1.0), ("latent", -2)):
        with pytest.raises(ValueError, match=field):
            AutoencodeConfig(**{field: value})
    with pytest.raises(ValueError, match="noise"):
        AutoencodeConfig(noise="salt-pepper:2")
