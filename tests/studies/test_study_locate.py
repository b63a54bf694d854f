"""cnnlab study locate on a folder of squares: one run folder per model and seed, the table
read from those runs, --resume reading finished runs instead of training them again, and
one-line errors."""

from __future__ import annotations

import json

import pytest

from conftest import cli, one_line_error, position_folder


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from cnnlab.cli import main

    root = tmp_path_factory.mktemp("ls")
    folder = position_folder(root / "sq", n=60)
    out = root / "study"
    code = main(["study", "locate", "--data", str(folder), "--models", "locate-cnn,locate-mlp",
                 "--seeds", "2", "--max_time", "30", "--epochs", "2",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    return folder, out


def test_the_study_trains_a_run_per_model_and_seed_and_tables_them(study):
    _, out = study
    result = json.loads((out / "result.json").read_text())
    assert [(r["model"], r["seed"]) for r in result["runs"]] == [
        ("locate-cnn", 0),
        ("locate-cnn", 1),
        ("locate-mlp", 0),
        ("locate-mlp", 1),
    ]
    for r in result["runs"]:
        folder = out / "runs" / f"{r['model']}-s{r['seed']}"
        res = json.loads((folder / "results.json").read_text())
        assert r["median_cm"] == res["test"]["median_cm"] and r["epochs"] == 2
        assert len(r["errors"]) == res["test"]["n"] == 6
    table = (out / "table.md").read_text()
    assert "locate-cnn" in table and "the centre (floor)" in table
    assert (out / "figures" / "cdf.png").is_file() and (out / "report.html").is_file()


def test_resume_reads_finished_runs_without_training_them_again(capsys, study):
    folder, out = study
    before = (out / "runs" / "locate-mlp-s1" / "model.safetensors").stat().st_mtime_ns
    rc, text, err = cli(capsys, "study", "locate", "--data", folder, "--models", "locate-mlp",
                        "--seeds", "2", "--max_time", "30", "--epochs", "2", "--out", out,
                        "--resume", "true")  # fmt: skip
    assert rc == 0, err
    assert (out / "runs" / "locate-mlp-s1" / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.parametrize("args, fragments", [
    (["--models", "locate-cnn,locate-vit"], ["locate-vit"]),
    (["--models", ","], ["models is empty"]),
    (["--seeds", "0"], ["seeds must be >= 1"]),
])  # fmt: skip
def test_bad_study_options_are_one_line(capsys, tmp_path, args, fragments):
    rc, _, err = cli(capsys, "study", "locate", *args, "--out", tmp_path / "o")
    one_line_error(rc, err, *fragments)
