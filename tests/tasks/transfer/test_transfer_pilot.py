"""`cnnlab transfer --pilot`: every strategy on a small budget, on the target's training
images only, then the winner in full; the report says where it differs from the guide."""

from __future__ import annotations

import json

import pytest
from tests.conftest import one_line_error

import cnnlab
from cnnlab.cli import main
from cnnlab.tasks.transfer.pilot import PilotResult, PilotRow, pilot_folds, pilot_split


def test_pilot_split_is_class_balanced_disjoint_and_leaves_the_test_split(fashion_target):
    data = fashion_target
    split = pilot_split(data, 0.75, seed=0)
    assert len(split.train_y) + len(split.test_y) == len(data.train_y)
    for c in range(data.num_classes):
        n = int((data.train_y == c).sum())
        assert int((split.train_y == c).sum()) == min(n - 1, max(1, round(0.75 * n)))
        assert int((split.test_y == c).sum()) >= 1
    # the held-out images are training images, none of the real test images
    train_rows = {bytes(x.numpy().tobytes()) for x in data.train_x}
    assert all(bytes(x.numpy().tobytes()) in train_rows for x in split.test_x)
    with pytest.raises(ValueError, match="pilot_fraction"):
        pilot_split(data, 1.0, seed=0)


def test_pilot_folds_score_every_training_image_once(fashion_target):
    data = fashion_target
    splits = pilot_folds(data, 4, seed=0)
    assert len(splits) == 4
    scored = [bytes(x.numpy().tobytes()) for s in splits for x in s.test_x]
    assert sorted(scored) == sorted(bytes(x.numpy().tobytes()) for x in data.train_x)
    for s in splits:
        assert len(s.train_y) + len(s.test_y) == len(data.train_y)
        held = {bytes(x.numpy().tobytes()) for x in s.test_x}
        assert not any(bytes(x.numpy().tobytes()) in held for x in s.train_x)
        for c in range(data.num_classes):  # each class split into near-equal parts
            n = int((data.train_y == c).sum())
            assert int((s.test_y == c).sum()) in (n // 4, -(-n // 4))
    assert [s.test_y.tolist() for s in pilot_folds(data, 4, seed=0)] == [
        s.test_y.tolist() for s in splits
    ]  # seeded
    few = pilot_split(data, 0.5, seed=0)  # fewer images a class than folds
    with pytest.raises(ValueError, match="pilot folds need"):
        pilot_folds(few, 10_000, seed=0)


def test_verdict_says_by_how_much_the_pilot_disagrees() -> None:
    rows = [PilotRow("head", 0.61, 1.0), PilotRow("early", 0.70, 2.0),
            PilotRow("finetune", 0.745, 3.0), PilotRow("retrain", 0.5, 3.0)]  # fmt: skip
    p = PilotResult(rows, "finetune", "early", 80, 20)
    assert "disagrees" in p.verdict() and "+4.5 points" in p.verdict()
    assert "agrees" in PilotResult(rows, "early", "early", 80, 20).verdict()


@pytest.mark.parametrize("folds", [1, 2])
def test_cli_pilot_trains_the_winner_and_records_the_table(run_dir_pilot, capsys, tmp_path,
                                                           folds):  # fmt: skip
    rc = main(["transfer", "--from", str(run_dir_pilot), "--data", "glyphs", "--train_limit",
               "100", "--pilot", "--pilot_epochs", "1", "--epochs", "1",
               "--pilot_folds", str(folds), "--runs_dir", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0, out
    for name in ("head", "early", "finetune", "retrain"):
        assert f"│ {name}" in out  # a row of the pilot table per strategy
    assert "the pilot agrees" in out or "the pilot disagrees" in out
    (folder,) = tmp_path.iterdir()
    res = json.loads((folder / "results.json").read_text())
    pilot = res["transfer"]["diagnosis"]["pilot"]
    assert [r["strategy"] for r in pilot["rows"]] == ["head", "early", "finetune", "retrain"]
    best = max(pilot["rows"], key=lambda r: r["accuracy"])["accuracy"]
    winner = next(r for r in pilot["rows"] if r["strategy"] == pilot["winner"])
    assert winner["accuracy"] == best  # the most accurate pilot run won ...
    assert res["transfer"]["strategy"] == pilot["winner"]  # ... and was trained in full
    if folds == 1:
        assert pilot["train_images"] + pilot["held_out"] == 100
    else:  # every training image scored once, each fold trains on the rest
        assert pilot["held_out"] == 100 and pilot["train_images"] == 50 and pilot["folds"] == 2
        assert "in each of 2 folds" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pilot", "--strategy", "head"], "--pilot chooses the strategy"),
        (
            ["--pilot", "--pilot_folds", "1", "--pilot_fraction", "1.5"],
            "--pilot_fraction must be in (0, 1)",
        ),
        (["--pilot", "--pilot_fraction", "0.5"], "add --pilot_folds 1"),  # 4 folds by default
        (["--pilot", "--pilot_epochs", "0"], "--pilot_epochs must be >= 1"),
        (["--pilot", "--pilot_folds", "0"], "--pilot_folds must be >= 1"),
    ],
)
def test_cli_pilot_errors_are_one_line(run_dir_pilot, capsys, args, message):
    rc = main(["transfer", "--from", str(run_dir_pilot), "--data", "glyphs", *args])
    one_line_error(rc, capsys.readouterr().err, message)


@pytest.fixture(scope="module")
def run_dir_pilot(source_run):
    return source_run


def test_run_pilot_on_a_learnable_target_beats_chance(source_run) -> None:
    from cnnlab.tasks.transfer import load_backbone
    from cnnlab.tasks.transfer.pilot import run_pilot

    data = cnnlab.load_dataset("glyphs", train_limit=200, seed=0)
    p = run_pilot(load_backbone(source_run), data, "early", epochs=2, lr=3e-3, batch_size=32,
                  strategies=["head", "early"], folds=1)  # fmt: skip
    assert p.names == ["head", "early"] and p.winner in p.names
    assert p.row(p.winner).accuracy > 1.5 / data.num_classes  # well above chance
    cv = run_pilot(load_backbone(source_run), data, "early", epochs=1, lr=3e-3, batch_size=32,
                   strategies=["head"], folds=3)  # fmt: skip
    assert cv.held_out == len(data.train_y) and cv.folds == 3  # every training image scored
    assert abs(cv.rows[0].accuracy * cv.held_out - round(cv.rows[0].accuracy * cv.held_out)) < 1e-6
    assert "3 folds" in cv.verdict()
    with pytest.raises(ValueError, match="pilot_folds must be >= 1"):
        run_pilot(load_backbone(source_run), data, "head", folds=0)
