"""The three autoencoder studies (compression, denoising, features) end to end on tiny
embedded data, their arithmetic (bytes, ratios, JPEG budgets), the filter choice made on
validation images only, the linear probe, `cnnlab report` on an autoencoder run, and one-line
errors for bad options."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

import cnnlab
import cnnlab.data.datasets as datasets_mod
from cnnlab.studies import ae_denoising
from cnnlab.studies import ae_reports as viz
from cnnlab.studies import autoencoder as study
from cnnlab.studies.ae_baselines import jpeg_at_budget
from cnnlab.studies.ae_denoising import (
    DenoisingStudyConfig,
    DenoisingStudyResult,
    MixedNoise,
    choose_filters,
    run_denoising,
)
from cnnlab.studies.ae_features import (
    FeaturesStudyResult,
    linear_probe,
    take_per_class,
)
from cnnlab.studies.autoencoder import (
    CompressionStudyConfig,
    CompressionStudyResult,
    run_compression,
)
from cnnlab.tasks.autoencode.metrics import to_unit
from conftest import cli

TINY = dict(epochs=1, train_limit=300, test_images=60, batch_size=32)


@pytest.fixture(scope="module")
def tiny() -> cnnlab.ImageData:
    """300 embedded Fashion-MNIST training images (the same on every machine)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets_mod, "locate", lambda *a, **k: (None, "nowhere"))
        return cnnlab.load_dataset("fashion-mnist", train_limit=300, seed=0)


@pytest.fixture(scope="module")
def compression(tmp_path_factory, tiny) -> tuple[CompressionStudyResult, Path]:
    out = tmp_path_factory.mktemp("compression")
    cfg = CompressionStudyConfig(conv_latents="4", linear_latents="16", out=str(out), **TINY)
    return run_compression(cfg, data=tiny), out


# ---- compression ---------------------------------------------------------------------------


def test_compression_rows_bytes_and_ratio(compression):
    result, _ = compression
    assert [r.model for r in result.rows] == ["ae-conv-4", "ae-linear-16"]
    course, linear = result.rows
    # the course's point: 7x7x4 = 196 values at 8 bits = 196 bytes, 784 / 196 = 4
    assert course.code_shape == [4, 7, 7] and course.values == 196
    assert course.bytes == 196 and course.ratio == pytest.approx(4.0)
    assert linear.bytes == 16 and linear.ratio == pytest.approx(49.0)
    assert result.raw_bytes == 784 and result.test_images == 60
    for r in result.rows:
        assert 0 < r.psnr < 60 and -1 <= r.ssim <= 1 and 0 < r.jpeg_psnr < 60
        assert Path(r.run, "results.json").is_file()  # a real run folder
    assert {p["budget"] for p in result.jpeg} >= {16, 196, 250, 600}
    assert result.strip_model == "ae-conv-4" and len(result.strip) == 3


def test_compression_report_and_result_json_round_trip(compression, tmp_path):
    result, _ = compression
    path = viz.compression_report(result, tmp_path)
    assert path.is_file() and (tmp_path / "figures" / "quality-vs-bytes.png").is_file()
    assert (tmp_path / "figures" / "strip.png").is_file()
    md = (tmp_path / "table.md").read_text()
    assert "| ae-conv-4 | 4x7x7 | 196 | 4.0:1 |" in md
    back = CompressionStudyResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.rows == result.rows and back.jpeg == result.jpeg


def test_quantized_code_matches_the_float_code_at_16_bits(compression, tiny):
    from cnnlab.engine.runs import load_model

    model, _ = load_model(compression[0].rows[0].run)
    x = tiny.test_x[:20]
    with torch.no_grad():
        direct = model.eval()(to_unit(x)).clamp(0, 1)
    assert torch.allclose(study.code_roundtrip(model, x, bits=16), direct, atol=1e-3)
    coarse = study.code_roundtrip(model, x, bits=2)
    assert not torch.equal(coarse, direct)  # 4 levels do change the output


def test_jpeg_never_exceeds_a_budget_that_quality_1_fits(tiny):
    images = tiny.test_x[:30]
    q1 = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img[0].numpy(), "L").save(buf, format="JPEG", quality=1, optimize=True)
        q1.append(len(buf.getvalue()))
    for budget in (150, 210, 300):
        _, used, quality = jpeg_at_budget(images, budget)
        for u, q, small in zip(used.tolist(), quality.tolist(), q1, strict=True):
            if small <= budget:
                assert u <= budget
            else:
                assert q == 1 and u == small  # does not fit: quality 1, its real size


# ---- denoising -----------------------------------------------------------------------------


def test_denoising_rows_and_baselines(tmp_path, tiny):
    cfg = DenoisingStudyConfig(gaussian="0.3", salt_pepper="0.1", val_images=50,
                               out=str(tmp_path), **TINY)  # fmt: skip
    result = run_denoising(cfg, data=tiny)
    keys = [(r.kind, r.level, r.method) for r in result.rows]
    methods = ["noisy input", "gaussian blur", "median", "autoencoder"]
    assert keys == [("gaussian", 0.3, m) for m in methods] + [
        ("salt-pepper", 0.1, m) for m in methods
    ]
    cell = {(r.kind, r.method): r for r in result.rows}
    # sigma 0.3 noise: PSNR about 20 log10(1 / 0.3) = 10.5 dB (a little more: clipping)
    assert 10.0 < cell["gaussian", "noisy input"].psnr < 13.5
    # the median filter removes most isolated salt-and-pepper pixels
    sp = cell["salt-pepper", "median"].psnr
    assert sp > cell["salt-pepper", "noisy input"].psnr + 3
    assert cell["gaussian", "gaussian blur"].setting.startswith("sigma ")
    assert set(result.runs) == {"gaussian", "salt-pepper"}
    assert all(Path(f, "report.html").is_file() for f in result.runs.values())
    path = viz.denoising_report(result, tmp_path / "report")
    assert path.is_file() and (tmp_path / "report" / "figures" / "strip-gaussian.png").is_file()
    back = DenoisingStudyResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.rows == result.rows


def test_filter_choice_uses_validation_images_only(tmp_path, tiny, monkeypatch):
    """Replacing the test images by random noise must not change the chosen settings."""

    def untrained(cfg, data, noise):
        from cnnlab.models import create_task_model

        return create_task_model("autoencode", "ae-conv", 1, 1, (28, 28)).eval(), "", 0.0

    monkeypatch.setattr(ae_denoising, "_train_denoiser", untrained)
    cfg = DenoisingStudyConfig(gaussian="0.2,0.5", salt_pepper="0.2", val_images=40,
                               out=str(tmp_path), **TINY)  # fmt: skip
    junk = dataclasses.replace(tiny, test_x=torch.randint(0, 256, tiny.test_x.shape).byte())

    def settings(r: DenoisingStudyResult) -> list[str]:
        return [x.setting for x in r.rows if x.method in ("gaussian blur", "median")]

    a, b = run_denoising(cfg, data=tiny), run_denoising(cfg, data=junk)
    assert settings(a) == settings(b)
    assert a.rows[0].psnr != b.rows[0].psnr  # the test images did change


def test_choose_filters_picks_the_best_on_the_given_images():
    gen = torch.Generator().manual_seed(0)
    clean = torch.zeros(8, 1, 16, 16)
    clean[:, :, 4:12, 4:12] = 1.0  # flat squares: strong blur and large medians help
    noisy = MixedNoise("gaussian", (0.4,))(clean, gen)
    sigma, k = choose_filters(clean, noisy, (0.1, 1.0), (1, 3))
    assert (sigma, k) == (1.0, 3)
    assert choose_filters(clean, clean, (0.1, 2.0), (1, 5)) == (0.1, 1)  # nothing to remove


def test_mixed_noise_draws_each_level():
    gen = torch.Generator().manual_seed(0)
    x = torch.full((400, 1, 8, 8), 0.5)
    out = MixedNoise("salt-pepper", (0.0, 1.0))(x, gen)
    changed = (out != x).flatten(1).any(1)
    assert 120 < int(changed.sum()) < 280  # about half the images got amount 1.0
    assert str(MixedNoise("gaussian", (0.1, 0.5))) == "gaussian:0.1/0.5 (mixed)"


# ---- features ------------------------------------------------------------------------------


def test_linear_probe_separates_a_separable_set():
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 50, generator=gen) * 3
    y = torch.arange(4).repeat_interleave(60)
    x = centers[y] + torch.randn(len(y), 50, generator=gen)
    tr = take_per_class(y, 10, seed=0)
    assert torch.bincount(y[tr]).tolist() == [10, 10, 10, 10]
    test = torch.ones(len(y), dtype=torch.bool)
    test[tr] = False
    acc = linear_probe(x[tr], y[tr], x[test], y[test], 4)
    assert acc > 0.9  # chance is 0.25
    shuffled = y[tr][torch.randperm(len(tr), generator=gen)]
    assert linear_probe(x[tr], shuffled, x[test], y[test], 4) < 0.6  # labels carry the signal


# ---- command line --------------------------------------------------------------------------


def test_report_command_on_an_autoencoder_run(compression, capsys):
    run = Path(compression[0].rows[0].run)
    (run / "report.html").unlink()
    rc, out, _ = cli(capsys, "report", run)
    assert rc == 0 and "report:" in out
    html = (run / "report.html").read_text()
    assert "autoencoder" in html and "mean-image baseline" in html


def test_cli_features_study_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(datasets_mod, "locate", lambda *a, **k: (None, "nowhere"))
    out = tmp_path / "f"
    rc, text, err = cli(capsys, "study", "autoencoder", "features", "--epochs", "1",
                        "--train_limit", "300", "--test_images", "100", "--labels", "2,10",
                        "--seeds", "2", "--out", out)  # fmt: skip
    assert rc == 0, err
    assert "raw pixels" in text and "report:" in text
    for f in ("result.json", "table.md", "report.html", "figures/accuracy-vs-labels.png"):
        assert (out / f).is_file(), f
    assert "| 10 |" in (out / "table.md").read_text()
    result = FeaturesStudyResult.from_dict(json.loads((out / "result.json").read_text()))
    names = ["autoencoder code", "raw pixels", "random encoder"]
    assert [(r.features, r.per_class) for r in result.rows] == [
        (n, k) for k in (2, 10) for n in names
    ]
    dims = {r.features: r.dims for r in result.rows}
    assert dims == {"autoencoder code": 196, "raw pixels": 784, "random encoder": 196}
    for r in result.rows:
        assert len(r.accs) == 2 and all(0 <= a <= 1 for a in r.accs)
    raw10 = next(r for r in result.rows if r.features == "raw pixels" and r.per_class == 10)
    assert raw10.mean > 3 * result.chance  # 10 labels per class: far above chance (10 %)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["compression", "--epochs", "0"], "epochs"),
        (["compression", "--conv_latents", "a,b"], "conv_latents"),
        (["compression", "--conv_latents", "", "--linear_latents", ""], "conv_latents"),
        (["denoising", "--median_sizes", "4"], "median_sizes"),
        (["denoising", "--salt_pepper", "1.5"], "salt_pepper"),
        (["features", "--labels", "0"], "labels"),
        (["features", "--seeds", "0"], "seeds"),
    ],
)
def test_bad_study_options_are_one_line(capsys, tmp_path, argv, fragment):
    out = tmp_path / "never"
    rc, _, err = cli(capsys, "study", "autoencoder", *argv, "--out", out)
    assert rc == 2 and "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("cnnlab: error: "), err
    assert fragment in err
    assert not out.exists()
