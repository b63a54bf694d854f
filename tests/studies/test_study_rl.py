"""cnnlab study rl on the built-in catch game: one run folder per game, variant and seed with
the variant's setting, the table read from those runs, --resume training only what is
missing, runs side by side in worker processes, and one-line errors."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import yaml

from cnnlab.cli import main
from cnnlab.studies.rl import run_settings
from cnnlab.studies.rl_configs import RLStudyConfig
from conftest import cli, one_line_error

TINY = ["--games", "catch", "--steps", "1200", "--eval_every", "600", "--num_envs", "2",
        "--n_step", "1", "--lr", "1e-3", "--epsilon_steps", "800", "--eval_episodes", "5",
        "--test_episodes", "10"]  # fmt: skip


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out, buf = tmp_path_factory.mktemp("rl") / "study", io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["study", "rl", *TINY, "--variants", "dqn,no-replay", "--seeds", "2",
                     "--out", str(out)])  # fmt: skip
    assert code == 0, buf.getvalue()
    return out, buf.getvalue()


def test_each_variant_changes_its_own_setting_only():
    cfg = RLStudyConfig(games="catch", variants="dqn,no-replay,no-target,q-mlp,no-double,wide-cnn")
    base = run_settings(cfg, "catch", "dqn", 0)
    changed = {v: {k: val for k, val in run_settings(cfg, "catch", v, 0).items()
                   if base.get(k) != val and k != "name"}
               for v in cfg.variant_list}  # fmt: skip
    assert changed == {"dqn": {}, "no-replay": {"buffer": 0}, "no-target": {"target": False},
                       "q-mlp": {"model": "q-mlp"}, "no-double": {"double": False},
                       "wide-cnn": {"model_args": {"channels": 32, "hidden": 256}}}  # fmt: skip
    assert base["steps"] == cfg.steps and base["epsilon"] == (1.0, cfg.epsilon_end)


def test_the_study_trains_a_run_per_variant_and_seed_and_tables_them(study):
    out, text = study
    for f in ("table.md", "result.json", "report.html", "figures/curves.png"):
        assert (out / f).is_file(), f
    result = json.loads((out / "result.json").read_text())
    assert [(r["variant"], r["seed"]) for r in result["runs"]] == [
        ("dqn", 0),
        ("dqn", 1),
        ("no-replay", 0),
        ("no-replay", 1),
    ]
    for r in result["runs"]:  # the table's figures are the run folders' own
        folder = out / "runs" / f"catch-{r['variant']}-s{r['seed']}"
        res = json.loads((folder / "results.json").read_text())
        assert r["test"] == res["test"]["return"] and res["env_steps"] == 1200
        cfg = yaml.safe_load((folder / "config.yaml").read_text())
        assert cfg["buffer"] == (0 if r["variant"] == "no-replay" else 100_000)
        assert cfg["seed"] == r["seed"]
    log = (out / "runs" / "catch-no-replay-s0.log").read_text()
    assert "replay 2 transitions" in log  # no replay: the newest transition of each env
    rows = [x for x in (out / "table.md").read_text().splitlines() if x.startswith("| catch")]
    assert len(rows) == 2
    dqn = [r["test"] for r in result["runs"] if r["variant"] == "dqn"]
    assert " / ".join(f"{t:.1f}" for t in dqn) in rows[0]
    assert "kept agent" in text and "[4/4]" in text


def test_resume_trains_only_the_missing_runs(study, capsys):
    out, _ = study
    before = (out / "runs" / "catch-dqn-s0" / "results.json").stat().st_mtime_ns
    code, text, err = cli(capsys, "study", "rl", *TINY, "--variants", "dqn", "--seeds", "3",
                          "--resume", "true", "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert "2 run(s) done before, 1 to train" in text
    assert (out / "runs" / "catch-dqn-s2" / "results.json").is_file()
    assert (out / "runs" / "catch-dqn-s0" / "results.json").stat().st_mtime_ns == before
    result = json.loads((out / "result.json").read_text())
    assert [(r["variant"], r["seed"]) for r in result["runs"]] == [("dqn", s) for s in range(3)]


def test_runs_train_side_by_side_in_worker_processes(tmp_path, capsys):
    out = tmp_path / "jobs"
    code, text, err = cli(capsys, "study", "rl", *TINY, "--steps", "600", "--eval_every", "300",
                          "--variants", "dqn,q-mlp", "--seeds", "1", "--jobs", "2", "--out",
                          str(out))  # fmt: skip
    assert code == 0, err
    assert "(2 at a time)" in text
    result = json.loads((out / "result.json").read_text())
    assert sorted(r["variant"] for r in result["runs"]) == ["dqn", "q-mlp"]
    assert all(r["env_steps"] == 600 for r in result["runs"])


@pytest.mark.parametrize("args, fragments", [
    (["--games", "catch,minatar-tetris"], ["tetris", "breakout"]),
    (["--variants", "dqn,no-brain"], ["no-brain", "no-replay"]),
    (["--games", " , "], ["games"]),
    (["--seeds", "0"], ["seeds"]),
    (["--epsilon_end", "2"], ["epsilon_end"]),
])  # fmt: skip
def test_bad_options_are_one_line_and_train_nothing(tmp_path, capsys, args, fragments):
    code, _, err = cli(capsys, "study", "rl", *args, "--out", tmp_path / "s")
    one_line_error(code, err, *fragments)
    assert not (tmp_path / "s").exists()
