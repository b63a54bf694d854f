"""The command line: every bad input is one line on stderr and exit code 2, with no run folder
left behind; the commands end to end on tiny data; 2-process DDP training on CPU."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from cnnlab.data.datasets import DATASETS
from cnnlab.models import MODELS, list_models
from cnnlab.tasks import TASKS
from conftest import cli, one_line_error, save_png, write_image_folder

CNNLAB = Path(sys.executable).with_name("cnnlab")  # the installed console script


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}  # fmt: skip


# ---- bad input -----------------------------------------------------------------------------
# Each case builds what it needs under tmp and returns (argv, folder that must not change,
# fragments the error line must contain).

Case = Callable[[Path, Path], tuple[list[str], Path, list[str]]]


def _train(data: Path | str, runs: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--runs_dir", str(runs), "--epochs", "1",
            "--progress", "false", *extra]  # fmt: skip


def case_missing_dataset(tmp: Path, run: Path):
    return (
        _train(tmp / "no-such-folder", tmp / "runs"),
        tmp / "runs",
        ["no-such-folder' is neither a known name", "nor a folder"],
    )


def case_truncated_image(tmp: Path, run: Path):
    folder = write_image_folder(tmp / "imgs", classes=2, per_class=3)
    bad = folder / "class0" / "002.png"
    bad.write_bytes(bad.read_bytes()[:60])
    return (
        _train(folder, tmp / "runs"),
        tmp / "runs",
        [f"cannot read image {bad}", "remove or replace the file"],
    )


def case_empty_folder(tmp: Path, run: Path):
    (tmp / "empty").mkdir()
    return (
        _train(tmp / "empty", tmp / "runs"),
        tmp / "runs",
        ["no images found in", "<class name>/<image>.png"],
    )


def case_one_class(tmp: Path, run: Path):
    folder = write_image_folder(tmp / "one", classes=1, per_class=3, names=["dogs"])
    return (
        _train(folder, tmp / "runs"),
        tmp / "runs",
        ["only one class ('dogs')", "at least 2 class folders"],
    )


def case_unknown_model(tmp: Path, run: Path):
    folder = write_image_folder(tmp / "imgs", classes=2, per_class=3)
    return (
        _train(folder, tmp / "runs", "--model", "alexnet"),
        tmp / "runs",
        ["unknown model 'alexnet'; choose one of: mlp, cnn-small"],
    )


def case_bad_model_args(tmp: Path, run: Path):
    folder = write_image_folder(tmp / "imgs", classes=2, per_class=3)
    argv = _train(folder, tmp / "runs", "--model", "mlp", "--model_args", '{"hidden": [0]}')
    return argv, tmp / "runs", ["model 'mlp' cannot be built", "hidden size must be >= 1"]


def case_bad_augment(tmp: Path, run: Path):
    folder = write_image_folder(tmp / "imgs", classes=2, per_class=3)
    argv = _train(folder, tmp / "runs", "--model", "mlp", "--augment", "mirror")
    return argv, tmp / "runs", ["unknown augmentation 'mirror'"]


def case_bad_option_type(tmp: Path, run: Path):
    argv = ["train", "--epochs", "x", "--runs_dir", str(tmp / "runs")]
    return argv, tmp / "runs", ["--epochs must be a whole number, got 'x'", "cnnlab train --help"]


def case_out_of_range_option(tmp: Path, run: Path):
    argv = ["train", "--epochs", "0", "--runs_dir", str(tmp / "runs")]
    return argv, tmp / "runs", ["--epochs must be >= 1, got 0"]


def case_gray_npy_into_rgb_model(tmp: Path, run: Path):
    npy = tmp / "gray.npy"
    np.save(npy, np.zeros((12, 12), np.uint8))
    return (
        ["predict", str(run), str(npy)],
        run,
        ["gray.npy has 1 channel(s) but the model was trained on RGB (3 channel(s))"],
    )


def case_predict_not_a_run(tmp: Path, run: Path):
    (tmp / "nothing").mkdir()
    png = tmp / "x.png"
    png.write_bytes((run / "figures" / "curves.png").read_bytes())
    return (
        ["predict", str(tmp / "nothing"), str(png)],
        tmp / "nothing",
        ["is not a cnnlab run (no model.json)"],
    )


def case_corrupt_weights_predict(tmp: Path, run: Path):
    (run / "model.safetensors").write_bytes(b"\x07garbage" * 50)
    npy = tmp / "x.npy"
    np.save(npy, np.zeros((3, 12, 12), np.uint8))
    return (
        ["predict", str(run), str(npy)],
        run,
        ["model.safetensors is corrupt", "re-train or restore the run"],
    )


def case_weights_of_another_model(tmp: Path, run: Path):
    meta = json.loads((run / "model.json").read_text())
    meta["model"] = "mlp"
    (run / "model.json").write_text(json.dumps(meta))
    npy = tmp / "x.npy"
    np.save(npy, np.zeros((3, 12, 12), np.uint8))
    return ["predict", str(run), str(npy)], run, ["does not fit model 'mlp'"]


def case_corrupt_meta_report(tmp: Path, run: Path):
    (run / "model.json").write_text("{not json")
    return ["report", str(run)], run, ["model.json is corrupt"]


def case_report_not_a_run(tmp: Path, run: Path):
    (tmp / "nothing").mkdir()
    return ["report", str(tmp / "nothing")], tmp / "nothing", ["is not a cnnlab run"]


def case_corrupt_state_resume(tmp: Path, run: Path):
    (run / "state.pt").write_bytes(b"PK\x03\x04 this is not a checkpoint")
    return (
        ["train", "--resume", str(run), "--progress", "false"],
        run,
        ["state.pt is corrupt", "start a new run"],
    )


def case_resume_not_a_run(tmp: Path, run: Path):
    (tmp / "nothing").mkdir()
    return ["train", "--resume", str(tmp / "nothing")], tmp / "nothing", ["no config.yaml"]


def case_bad_schedule(tmp: Path, run: Path):
    argv = ["train", "--schedule", "sometimes", "--runs_dir", str(tmp / "runs")]
    return argv, tmp / "runs", ["schedule", "sometimes"]


def case_transfer_zero_devices(tmp: Path, run: Path):
    argv = ["transfer", "--from", str(run), "--data", str(tmp / "d"), "--devices", "0",
            "--runs_dir", str(tmp / "runs")]  # fmt: skip
    return argv, tmp / "runs", ["--devices must be >= 1, got 0"]


def case_transfer_bad_precision(tmp: Path, run: Path):
    argv = ["transfer", "--from", str(run), "--data", str(tmp / "d"), "--precision", "16",
            "--runs_dir", str(tmp / "runs")]  # fmt: skip
    return argv, tmp / "runs", ["--precision must be one of auto, 32, bf16, got '16'"]


# parse errors say what the user typed: the near miss, the flag, the --help of the subcommand
def case_misspelt_command(tmp: Path, run: Path):
    return (
        ["trian", "--runs_dir", str(tmp / "runs")],
        tmp,
        ["unknown command 'trian' (did you mean 'train'?)"],
    )


def case_misspelt_option(tmp: Path, run: Path):
    argv = ["train", "--max_tme", "3", "--runs_dir", str(tmp / "runs")]
    return (
        argv,
        tmp,
        ["unknown option --max_tme (did you mean '--max_time'?)", "cnnlab train --help"],
    )


def case_missing_required_option(tmp: Path, run: Path):
    return ["transfer", "--from", str(run)], run, ["--data is required; see cnnlab transfer --help"]


def case_missing_positionals(tmp: Path, run: Path):
    return ["predict"], tmp, ["RUN and FILES are required; see cnnlab predict --help"]


def case_choice_near_miss(tmp: Path, run: Path):
    argv = ["train", "--optimizer", "adam", "--runs_dir", str(tmp / "runs")]
    return argv, tmp, ["--optimizer must be one of adamw, sgd, got 'adam' (did you mean 'adamw'?)"]


def case_optional_number(tmp: Path, run: Path):
    argv = ["train", "--max_time", "soon", "--runs_dir", str(tmp / "runs")]
    return argv, tmp, ["--max_time must be a number or null, got 'soon'"]


def case_swapped_predict_arguments(tmp: Path, run: Path):
    img = save_png(tmp / "x.png", np.zeros((12, 12), np.uint8))
    return (
        ["predict", str(img), str(run)],
        run,
        [f"the run folder comes first: cnnlab predict {run} {img}"],
    )


def case_misspelt_dataset(tmp: Path, run: Path):
    argv = ["train", "--data", "fashon-mnist", "--runs_dir", str(tmp / "runs")]
    return argv, tmp, ["dataset 'fashon-mnist' (did you mean 'fashion-mnist'?)"]


def case_misspelt_strategy(tmp: Path, run: Path):
    argv = ["transfer", "--from", str(run), "--data", "x", "--strategy", "finetun"]
    return argv, run, ["unknown --strategy 'finetun' (did you mean 'finetune'?)"]


def case_run_name_is_a_path(tmp: Path, run: Path):
    argv = ["train", "--name", "../../outside", "--runs_dir", str(tmp / "runs")]
    return argv, tmp, ["--name must be one folder name", "got '../../outside'"]


def case_transfer_run_name_is_a_path(tmp: Path, run: Path):
    argv = ["transfer", "--from", str(run), "--data", "x", "--name", "../x", "--runs_dir",
            str(tmp / "runs")]  # fmt: skip
    return argv, tmp, ["--name must be one folder name", "got '../x'"]


def case_config_with_unknown_key(tmp: Path, run: Path):
    cfg = tmp / "c.yaml"
    cfg.write_text("epochs: 1\n'lr_max': {}\n")  # a key (with {}) the parser lets through
    argv = ["train", "--config", str(cfg), "--runs_dir", str(tmp / "runs")]
    return argv, tmp / "runs", ["c.yaml has option(s) that cnnlab train does not know: lr_max"]


def case_config_with_misspelt_key(tmp: Path, run: Path):
    cfg = tmp / "c.yaml"
    cfg.write_text("epoch: 3\n")
    argv = ["train", "--config", str(cfg), "--runs_dir", str(tmp / "runs")]
    return argv, tmp / "runs", ["cnnlab train has no option epoch (did you mean 'epochs'?)"]


def case_config_naming_a_config(tmp: Path, run: Path):
    cfg = tmp / "c.yaml"
    cfg.write_text("epochs: 1\nconfig: {}\n")  # the parser itself trips on this one
    argv = ["train", "--config", str(cfg), "--runs_dir", str(tmp / "runs")]
    return argv, tmp / "runs", ["c.yaml names another config file", "copy the other file's"]


def case_config_naming_no_config(tmp: Path, run: Path):
    cfg = tmp / "c.yaml"
    cfg.write_text("config: null\n")  # the parser would ignore it and train with the defaults
    argv = ["train", "--config", str(cfg), "--runs_dir", str(tmp / "runs")]
    return argv, tmp / "runs", ["c.yaml names another config file"]


def case_misspelt_subcommand(tmp: Path, run: Path):
    argv = ["study", "autoencoder", "denoise"]
    return argv, tmp, ["cnnlab study autoencoder has no 'denoise' (did you mean 'denoising'?)"]


CASES = [
    case_bad_schedule, case_transfer_zero_devices, case_transfer_bad_precision,
    case_missing_dataset, case_truncated_image, case_empty_folder, case_one_class,
    case_unknown_model, case_bad_model_args, case_bad_augment, case_bad_option_type,
    case_out_of_range_option, case_gray_npy_into_rgb_model, case_predict_not_a_run,
    case_corrupt_weights_predict, case_weights_of_another_model, case_corrupt_meta_report,
    case_report_not_a_run, case_corrupt_state_resume, case_resume_not_a_run,
    case_misspelt_command, case_misspelt_option, case_missing_required_option,
    case_missing_positionals, case_choice_near_miss, case_optional_number,
    case_misspelt_subcommand, case_swapped_predict_arguments, case_misspelt_dataset,
    case_misspelt_strategy, case_run_name_is_a_path, case_transfer_run_name_is_a_path,
    case_config_with_unknown_key, case_config_with_misspelt_key, case_config_naming_a_config,
    case_config_naming_no_config,
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_bad_input_is_one_line_exit_2(case: Case, tmp_path: Path, trained_run: Path, capsys):
    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    argv, watched, fragments = case(tmp_path, run)
    before = snapshot(watched)
    rc, out, err = cli(capsys, *argv)
    one_line_error(rc, err, *fragments)
    assert snapshot(watched) == before, "the command changed or left files behind"
    assert not list(tmp_path.rglob("*.tmp"))


def test_bad_input_in_a_fresh_process_has_no_traceback(tmp_path: Path):
    if not CNNLAB.is_file():
        pytest.skip("the cnnlab console script is not installed")
    folder = write_image_folder(tmp_path / "imgs", classes=2, per_class=3)
    bad = folder / "class1" / "000.png"
    bad.write_bytes(bad.read_bytes()[:50])
    proc = subprocess.run(
        [str(CNNLAB), *_train(folder, tmp_path / "runs")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    one_line_error(proc.returncode, proc.stderr, f"cannot read image {bad}")
    assert proc.stderr.startswith("cnnlab: error: cannot read image")
    assert not (tmp_path / "runs").exists()


def test_a_diverged_training_is_one_line_exit_1_and_leaves_no_broken_run(
    image_folder, tmp_path, capsys
):
    """lr 1e30: epoch 1's steps stay finite but its end weights give a NaN validation loss:
    the run stops there, says what to try, and leaves no folder that is not a valid run."""
    runs = tmp_path / "runs"
    argv = _train(image_folder, runs, "--model", "mlp", "--lr", "1e30", "--precision", "32",
                  "--epochs", "3", "--name", "d")  # fmt: skip
    rc, _, err = cli(capsys, *argv)
    assert rc == 1 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "training diverged: the loss became nan on the val images after epoch 1" in err
    assert "try --lr 1e+29; nothing was saved" in err
    assert not (runs / "d").exists()


def test_unknown_command_and_no_command(capsys):
    rc, _, err = cli(capsys, "bogus")
    one_line_error(rc, err, "unknown command 'bogus'; see cnnlab --help")
    rc, out, err = cli(capsys)  # no command: the list of commands, as --help shows it
    assert rc == 0 and not err
    assert out == cli(capsys, "--help")[1]
    for command in ("train", "segment", "autoencode", "transfer", "study", "predict"):
        assert f"\n  {command} " in out
    rc, _, err = cli(capsys, "train", "--no_such_option", "1")
    one_line_error(rc, err, "unknown option --no_such_option; see cnnlab train --help")


def test_version(capsys):
    import tomllib

    from cnnlab import __version__

    rc, out, _ = cli(capsys, "--version")
    assert rc == 0 and out.strip() == f"cnnlab {__version__}"
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == __version__


def test_python_dash_m_cnnlab_cli():
    proc = subprocess.run([sys.executable, "-m", "cnnlab.cli", "models"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "cnn-bn" in proc.stdout


# ---- end to end ----------------------------------------------------------------------------


def test_train_end_to_end(image_folder: Path, tmp_path: Path, capsys):
    runs = tmp_path / "runs"
    rc, out, err = cli(capsys, *_train(image_folder, runs, "--model", "mlp", "--epochs", "2",
                                       "--name", "cli", "--precision", "32"))  # fmt: skip
    assert rc == 0, err
    assert "test accuracy" in out and "report:" in out
    assert f"data: image folder {image_folder}" in out
    folder = runs / "cli"
    assert sorted(p.name for p in runs.iterdir()) == ["cli"]
    for name in ("config.yaml", "metrics.csv", "model.safetensors", "state.pt", "report.html"):
        assert (folder / name).is_file(), name
    cfg = yaml.safe_load((folder / "config.yaml").read_text())
    assert cfg["data"] == str(image_folder) and cfg["model"] == "mlp" and cfg["epochs"] == 2
    assert len((folder / "metrics.csv").read_text().splitlines()) == 3  # header + 2 epochs


def test_train_pause_and_resume(image_folder: Path, tmp_path: Path, capsys):
    runs = tmp_path / "runs"
    rc, out, err = cli(capsys, *_train(image_folder, runs, "--model", "mlp", "--epochs", "2",
                                       "--name", "r", "--stop_after", "1"))  # fmt: skip
    assert rc == 0, err
    assert f"cnnlab train --resume {runs / 'r'}" in out.replace("\n", "")
    assert not (runs / "r" / "report.html").exists()
    rc, out, err = cli(capsys, "train", "--resume", runs / "r", "--progress", "false")
    assert rc == 0, err
    assert len((runs / "r" / "metrics.csv").read_text().splitlines()) == 3
    assert (runs / "r" / "report.html").is_file()
    assert sorted(p.name for p in runs.iterdir()) == ["r"]  # no second folder


@pytest.mark.parametrize("command", [e.factory.command for e in TASKS if not e.factory.own_command])
def test_resume_honours_typed_resumable_options_and_refuses_the_rest(command, tmp_path, capsys):
    """Every task command shares one --resume: --max_time and --epochs typed now reach the run
    (and its config.yaml); an option the run's config fixes is refused in one line."""
    run = tmp_path / "r"
    run.mkdir()
    rc, _, err = cli(capsys, command, "--resume", run, "--lr", "0.1")
    assert rc == 2 and "--lr cannot change on --resume" in err and len(err.splitlines()) == 1


def test_resume_with_max_time_is_honoured(image_folder, tmp_path, capsys, quiet):
    import cnnlab

    r = cnnlab.train(data=str(image_folder), model="mlp", epochs=2, batch_size=16, stop_after=1,
                     runs_dir=str(tmp_path), progress=False, console=quiet)  # fmt: skip
    rc, _, err = cli(capsys, "train", "--resume", r.run_dir, "--max_time", "60", "--epochs", "3",
                     "--progress", "false")  # fmt: skip
    assert rc == 0, err
    cfg = yaml.safe_load((r.run_dir / "config.yaml").read_text())
    assert cfg["max_time"] == 60 and cfg["epochs"] == 3  # the config says what the run ran to
    assert len((r.run_dir / "metrics.csv").read_text().splitlines()) == 1 + 3


def test_resume_can_extend_to_the_default_epoch_count(image_folder, tmp_path, capsys, quiet):
    import cnnlab

    r = cnnlab.train(data=str(image_folder), model="mlp", epochs=2, batch_size=16,
                     runs_dir=str(tmp_path), progress=False, console=quiet)  # fmt: skip
    rc, _, err = cli(capsys, "train", "--resume", r.run_dir, "--epochs", "5", "--progress",
                     "false")  # fmt: skip
    assert rc == 0, err
    assert len((r.run_dir / "metrics.csv").read_text().splitlines()) == 1 + 5


def test_last_names_the_newest_run_and_a_finished_resume_says_so(
    image_folder, tmp_path, capsys, monkeypatch
):
    """`last` and `last:PREFIX` name runs under ./runs; --resume of a finished run changes
    nothing and prints how to extend it; extending updates config.yaml and the report."""
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        rc, _, err = cli(capsys, *_train(image_folder, Path("runs"), "--model", "mlp", "--epochs",
                                         "1", "--name", name))  # fmt: skip
        assert rc == 0, err
    before = snapshot(tmp_path / "runs")
    rc, out, err = cli(capsys, "train", "--resume", "last:a")
    assert rc == 0, err
    flat = " ".join(out.split())
    assert "runs/a has already run its 1 epoch(s), nothing to do" in flat
    assert "cnnlab train --resume runs/a --epochs 2" in flat
    assert snapshot(tmp_path / "runs") == before
    rc, out, err = cli(capsys, "train", "--resume", "last", "--epochs", "2", "--progress", "false")
    assert rc == 0, err
    assert yaml.safe_load(Path("runs/b/config.yaml").read_text())["epochs"] == 2  # b is newest
    report = Path("runs/b/report.html").read_text()
    assert "epochs run</td><td>2</td>" in report
    rc, out, err = cli(capsys, "report", "last:a")
    assert rc == 0 and "runs/a/report.html" in out
    rc, _, err = cli(capsys, "predict", "last:zz", "x.png")
    one_line_error(rc, err, "last:zz: no run in runs/ starts with 'zz'; the runs are: a, b")


def test_rerun_from_a_saved_config(trained_run: Path, tmp_path: Path, capsys):
    rc, _, err = cli(capsys, "train", "--config", trained_run / "config.yaml", "--runs_dir",
                     tmp_path, "--name", "again", "--epochs", "1")  # fmt: skip
    assert rc == 0, err
    old = yaml.safe_load((trained_run / "config.yaml").read_text())
    new = yaml.safe_load((tmp_path / "again" / "config.yaml").read_text())
    changed = {k for k in old if old[k] != new[k]}
    assert changed == {"runs_dir", "name", "epochs"}
    assert new["model"] == "cnn-small" and new["epochs"] == 1


def test_print_config(capsys):
    rc, out, _ = cli(capsys, "train", "--model", "resnet", "--epochs", "7", "--print_config")
    assert rc == 0
    cfg = yaml.safe_load(out)
    assert cfg["model"] == "resnet" and cfg["epochs"] == 7 and cfg["batch_size"] == 256


def test_models_lists_every_model_with_its_parameters(capsys):
    rc, out, _ = cli(capsys, "models")
    assert rc == 0
    for row in list_models():
        line = next(ln for ln in out.splitlines() if f" {row['name']} " in ln)
        assert f"{row['parameters']:,}" in line
    assert {r["name"] for r in list_models()} == set(MODELS.names())
    for name in ("ae-conv", "vae-conv", "unet", "fcn", "text-cnn", "bow-mlp"):  # other tasks
        assert name in out
    rc, out, _ = cli(capsys, "models", "--in_channels", "3", "--input_size", "32")
    mlp = next(r for r in list_models(3, 10, (32, 32)) if r["name"] == "mlp")
    assert rc == 0 and f"{mlp['parameters']:,}" in out and "3x32x32" in out


def test_datasets_lists_every_dataset(capsys, no_system_data):
    rc, out, _ = cli(capsys, "datasets")
    assert rc == 0
    for name in DATASETS.names():
        assert name in out
    assert "embedded subset" in out and "not found" in out
    assert "tweets" in out


def test_datasets_shows_the_tweets_slice_when_the_corpus_is_absent(capsys, monkeypatch):
    import cnnlab.data.text as text_mod

    monkeypatch.setattr(text_mod, "find_tweets", lambda: None)
    rc, out, _ = cli(capsys, "datasets")
    assert rc == 0 and "embedded slice (tweets-slice.csv)" in out


def test_datasets_only_looks_even_where_the_network_answers(capsys, tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    import cnnlab.data.datasets as datasets_mod

    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path))  # an empty cache: nothing found there
    monkeypatch.setattr(datasets_mod, "network_allowed", lambda *a, **k: True)
    fetched = []
    for name in ("FashionMNIST", "MNIST", "CIFAR10"):
        monkeypatch.setattr(tvd, name, lambda *a, _n=name, **k: fetched.append(_n))
    rc, out, _ = cli(capsys, "datasets")
    assert rc == 0 and "fashion-mnist" in out
    assert fetched == []  # listing never starts a download
    assert list(tmp_path.iterdir()) == []


def test_report_rewrites_the_report(trained_run: Path, tmp_path: Path, capsys):
    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    (run / "report.html").unlink()
    rc, out, err = cli(capsys, "report", run)
    assert rc == 0, err
    assert "report:" in out
    html = (run / "report.html").read_text()
    assert "cnn-small" in html and "<img" in html


def test_compare_mlp_vs_cnn(image_folder: Path, tmp_path: Path, capsys):
    out_dir = tmp_path / "cmp"
    rc, out, err = cli(capsys, "compare", "mlp-vs-cnn", "--data", image_folder, "--budget", "3",
                       "--epochs", "3", "--out", out_dir)  # fmt: skip
    assert rc == 0, err
    assert (out_dir / "report.html").is_file()
    assert (out_dir / "figures" / "robustness.png").is_file()
    assert "mlp" in out and "cnn-bn" in out
    result = json.loads((out_dir / "result.json").read_text())
    assert [r["name"] for r in result["rows"]] == ["mlp", "cnn-bn"]
    conditions = ["clean", "shift 2px", "shift 4px", "shift 6px", "rotate 10°", "rotate 20°"]
    assert result["conditions"] == conditions
    for row in result["rows"]:
        assert set(row["accuracy"]) == set(conditions)
        assert all(0.0 <= a <= 1.0 for a in row["accuracy"].values())
        assert row["parameters"] > 0 and 1 <= row["epochs"] <= 3
        assert (Path(row["run_dir"]) / "model.safetensors").is_file()
    html = (out_dir / "report.html").read_text()
    assert "MLP vs CNN" in html and "shift 6px" in html


def test_demo(image_folder: Path, tmp_path: Path, capsys):
    out_dir = tmp_path / "demo"
    rc, out, err = cli(capsys, "demo", "--budget", "2", "--data", image_folder, "--out", out_dir)
    assert rc == 0, err
    assert (out_dir / "report.html").is_file()
    assert (out_dir / "figures" / "robustness.png").is_file()
    assert str((out_dir / "report.html").resolve()) in out.replace("\n", "")
