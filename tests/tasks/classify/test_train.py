"""Training through the Python API: a real (tiny) run that must learn, the run folder, exact
resume, early stopping and the time budget."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

import cnnlab
from cnnlab.core.errors import CnnlabError, ConfigError, ModelError, RunError
from cnnlab.engine.runs import read_meta
from cnnlab.tasks.classify import TrainConfig, evaluate, make_config

RUN_FILES = [
    "config.yaml", "metrics.csv", "model.safetensors", "model.json", "state.pt",
    "results.json", "figures/curves.png", "figures/confusion.png", "figures/mistakes.png",
    "report.html",
]  # fmt: skip


def fit(data, runs_dir: Path, console, **kw):
    args = {"model": "mlp", "epochs": 2, "batch_size": 16, "precision": "32", "progress": False}
    return cnnlab.train(data=data, runs_dir=str(runs_dir), console=console, **{**args, **kw})


def test_tiny_fashion_run_beats_chance(fashion_small, tmp_path, quiet):
    # 2,000 training images, 2 epochs of the MLP: measured 69.5 % on the 1,000 test images
    # (chance is 10 %); 50 % leaves room for other CPUs and library versions
    r = fit(fashion_small, tmp_path, quiet, batch_size=64)
    assert r.test is not None
    assert r.test.accuracy > 0.50
    assert len(r.history) == 2
    assert r.history[-1]["val/acc"] > 0.5
    assert len(r.test.per_class()) == 10 and sum(r.test.support) == 1000
    assert sum(map(sum, r.test.confusion)) == 1000
    correct = sum(r.test.confusion[i][i] for i in range(10))
    assert correct / 1000 == pytest.approx(r.test.accuracy)
    assert r.train_time_s > 0


def test_run_folder_has_every_file(trained_run: Path):
    for name in RUN_FILES:
        assert (trained_run / name).is_file(), name
        assert (trained_run / name).stat().st_size > 0, name
    assert list(trained_run.glob("events.out.tfevents.*")), "no TensorBoard event file"
    assert not list(trained_run.rglob("*.tmp")), "a temporary file was left behind"
    for png in trained_run.glob("figures/*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_csv_one_row_per_epoch(trained_run: Path):
    with (trained_run / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    for key in ("train/loss", "train/acc", "val/loss", "val/acc", "lr"):
        assert key in rows[0], key
        assert all(float(r[key]) >= 0 for r in rows)
    assert all(0 <= float(r["val/acc"]) <= 1 for r in rows)


def test_report_config_and_results(trained_run: Path, tiny_data):
    html = (trained_run / "report.html").read_text()
    assert "cnn-small" in html
    assert "class2" in html  # per-class table
    assert "Glossary" in html and "label smoothing" in html  # the numbers' words
    cfg = yaml.safe_load((trained_run / "config.yaml").read_text())
    assert cfg["model"] == "cnn-small" and cfg["epochs"] == 2
    assert TrainConfig(**cfg).batch_size == 16  # the saved config is a valid TrainConfig
    results = json.loads((trained_run / "results.json").read_text())
    assert results["epochs_run"] == 2
    assert len(results["test"]["per_class"]) == 3
    meta = read_meta(trained_run)
    assert meta.model == "cnn-small" and meta.classes == tiny_data.classes
    assert meta.in_channels == 3 and tuple(meta.input_size) == (12, 12)


def test_load_run_reproduces_the_test_accuracy(trained_run: Path, tiny_data):
    run = cnnlab.load_run(trained_run)
    assert [int(r["epoch"]) for r in run.history] == [1, 2]
    assert not run.model.training
    ev = evaluate(run.model, tiny_data.test_x, tiny_data.test_y, tiny_data.classes,
                  tiny_data.mean, tiny_data.std)  # fmt: skip
    results = json.loads((trained_run / "results.json").read_text())
    assert ev.accuracy == pytest.approx(results["test"]["accuracy"])


def test_load_run_rejects_other_folders(tmp_path: Path):
    with pytest.raises(RunError, match="not a cnnlab run"):
        cnnlab.load_run(tmp_path)
    with pytest.raises(RunError, match="is not a folder"):
        cnnlab.load_run(tmp_path / "missing")


@pytest.mark.parametrize(
    "model, args",
    [("cnn-small", {"dropout": 0.5}), ("cnn-bn", {"widths": [8, 16]})],
    ids=["dropout-rng", "batchnorm"],
)
def test_resume_is_exact(tiny_data, tmp_path, quiet, model, args):
    """3 epochs in one call == 2 epochs, pause, resume for the third: identical weights."""
    kw = {"model": model, "model_args": args, "epochs": 3}
    straight = fit(tiny_data, tmp_path, quiet, name="straight", **kw)
    paused = fit(tiny_data, tmp_path, quiet, name="paused", stop_after=2, **kw)
    assert paused.test is None and len(paused.history) == 2
    assert not (paused.run_dir / "report.html").exists()
    assert torch.load(paused.run_dir / "state.pt", weights_only=True)["epoch"] == 2
    resumed = cnnlab.train(resume=paused.run_dir, data=tiny_data, console=quiet)
    assert resumed.run_dir == paused.run_dir
    assert resumed.test is not None and len(resumed.history) == 3

    a = torch.load(straight.run_dir / "state.pt", weights_only=True)
    b = torch.load(resumed.run_dir / "state.pt", weights_only=True)
    assert a["epoch"] == b["epoch"] == 3 and a["step"] == b["step"]
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(),
                      strict=True):  # fmt: skip
        assert torch.equal(sa["exp_avg"], sb["exp_avg"])
    assert [h["train/loss"] for h in straight.history] == [h["train/loss"] for h in resumed.history]
    wa = load_file(straight.run_dir / "model.safetensors")
    wb = load_file(resumed.run_dir / "model.safetensors")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_early_stopping(tiny_data, tmp_path, quiet):
    # lr 1e-30 leaves the fp32 weights of a dropout-free MLP exactly as they are: val/loss
    # repeats, which is "no improvement", so patience 1 stops after epoch 2
    r = fit(tiny_data, tmp_path, quiet, epochs=6, lr=1e-30, patience=1)
    assert len(r.history) == 2
    assert r.history[0]["val/loss"] == r.history[1]["val/loss"]
    results = json.loads((r.run_dir / "results.json").read_text())
    assert results["epochs_run"] == 2 and results["best_epoch"] == 1
    assert r.test is not None


def test_no_early_stop_without_patience(tiny_data, tmp_path, quiet):
    r = fit(tiny_data, tmp_path, quiet, epochs=3, lr=1e-30)
    assert len(r.history) == 3


def test_max_time_stops_early(tiny_data, tmp_path, quiet):
    r = fit(tiny_data, tmp_path, quiet, epochs=100_000, max_time=1.0)
    assert 1 <= len(r.history) < 100_000
    assert r.test is not None and (r.run_dir / "report.html").is_file()
    assert r.train_time_s < 30
    # the schedule follows elapsed time: the last epochs run at a small learning rate
    assert r.history[-1]["lr"] < 0.2 * 3e-3


def test_max_time_too_short_leaves_no_half_run(tiny_data, tmp_path, quiet):
    runs_dir = tmp_path / "runs"
    try:
        fit(tiny_data, runs_dir, quiet, epochs=3, max_time=1e-9, name="short")
    except CnnlabError as exc:
        assert "no model.json" not in str(exc)
    leftovers = [p for p in runs_dir.iterdir() if not (p / "model.safetensors").is_file()]
    assert leftovers == []


def test_unknown_model_fails_before_a_run_folder(tiny_data, tmp_path, quiet):
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        fit(tiny_data, tmp_path / "runs", quiet, model="nope")
    assert not (tmp_path / "runs").exists()


def test_model_that_does_not_fit_the_images(tiny_data, tmp_path, quiet):
    with pytest.raises(ModelError, match=r"model 'vgg' cannot be built for 3x12x12 images"):
        fit(tiny_data, tmp_path / "runs", quiet, model="vgg",
            model_args={"layers": [8, "M", "M", "M", "M"]})  # fmt: skip
    assert not (tmp_path / "runs").exists()


def test_bad_options():
    with pytest.raises(ConfigError, match="unknown training option"):
        make_config(epoch=3)
    with pytest.raises(ConfigError, match=r"epochs must be >= 1, got 0"):
        make_config(epochs=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        TrainConfig(label_smoothing=1.0)
    with pytest.raises(ValueError, match="train_limit"):
        TrainConfig(train_limit=1)
    assert make_config({"epochs": 2}, lr=0.1) == TrainConfig(epochs=2, lr=0.1)


def test_resume_rejects_non_runs(tmp_path, quiet):
    with pytest.raises(RunError, match="no config.yaml"):
        cnnlab.train(resume=tmp_path, console=quiet)


def test_resume_with_corrupt_state(trained_run: Path, tmp_path, quiet, tiny_data):
    import shutil

    run = Path(shutil.copytree(trained_run, tmp_path / "copy"))
    (run / "state.pt").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(RunError, match=r"state.pt is corrupt .*start a new run"):
        cnnlab.train(resume=run, data=tiny_data, console=quiet)


def test_saved_config_of_in_memory_folder_data_can_be_reloaded(tiny_data, tmp_path, quiet,
                                                               monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)  # a bare base name must not resolve by accident
    r = fit(tiny_data, tmp_path / "runs", quiet, epochs=1)
    cfg = yaml.safe_load((r.run_dir / "config.yaml").read_text())
    reloaded = cnnlab.load_dataset(cfg["data"])
    assert reloaded.input_shape == tiny_data.input_shape


def test_the_first_epoch_line_explains_the_loss_gap(tiny_data, tmp_path):
    from cnnlab.tasks.classify.task import ClassifyTask

    cfg = cnnlab.TrainConfig(
        model="mlp", label_smoothing=0.1, augment="none", runs_dir=str(tmp_path)
    )
    task = ClassifyTask(cfg, tiny_data)
    row = {"epoch": 1, "train/loss": 1.0, "train/acc": 0.5, "val/loss": 0.5, "val/acc": 0.6,
           "img_per_s": 100.0, "time": 1.0}  # fmt: skip
    first = task.epoch_line(row, 2)
    assert "train loss above val loss is expected" in first and "label smoothing 0.1" in first
    assert "augmented" not in first  # augment none: not given as a reason
    assert "expected" not in task.epoch_line({**row, "epoch": 2}, 2)  # said once
