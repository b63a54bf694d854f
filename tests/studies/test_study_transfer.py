"""The four-quadrant transfer study end to end on tiny data, its figure/tables and its CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cnnlab.cli import main
from cnnlab.core.errors import ConfigError
from cnnlab.data.glyphs import make_glyphs
from cnnlab.studies.transfer import (
    QUADRANTS,
    TransferStudyConfig,
    TransferStudyResult,
    per_class_subset,
    run,
)
from cnnlab.studies.transfer_report import (
    disagreements,
    markdown_table,
    pick_table,
    summary_table,
    transfer_report,
)
from cnnlab.tasks.transfer import GUIDE

STRATS = ("head", "early", "finetune", "retrain")


@pytest.fixture(scope="module")
def study(fashion_small, tmp_path_factory: pytest.TempPathFactory):
    letters = make_glyphs("ABCDE", per_class=44, test_per_class=10, seed=0)  # 40 train a class
    out = tmp_path_factory.mktemp("study") / "transfer"
    cfg = TransferStudyConfig(
        small=4, small_below=30, seeds=2, backbone_model="cnn-small", backbone_epochs=1,
        train_limit=500, epochs=1, small_epochs=2, batch_size=64, small_batch_size=8,
        similarity_n=100, out=str(out),
    )  # fmt: skip
    logs: list[str] = []
    return run(cfg, data=fashion_small, different=letters, log=logs.append), logs, out


def test_study_has_the_4x4_structure(study):
    result, logs, out = study
    assert [q.quadrant for q in result.quadrants] == list(QUADRANTS)
    assert result.strategies == list(STRATS)
    assert len(result.runs) == 4 * 4 * 2
    for q in QUADRANTS:
        for s in STRATS:
            c = result.cell(q, s)
            assert c["seeds"] == 2 and 0.0 <= c["mean"] <= 1.0 and c["seconds"] > 0
        assert result.winner(q) in STRATS
    assert result.chance["small + similar"] == pytest.approx(1 / 5)
    # the backbone is a real run folder inside out, trained on the 5 source classes
    assert Path(result.backbone) == out / "backbone"
    assert (out / "backbone" / "model.safetensors").is_file()
    assert 0.2 < result.backbone_accuracy <= 1.0
    assert any("backbone" in line for line in logs) and len(logs) == 1 + 4 + 32
    # early records its automatic cut point; the other strategies have none
    assert all(r.cut for r in result.runs if r.strategy == "early")
    assert not any(r.cut for r in result.runs if r.strategy != "early")


def test_study_measures_size_and_similarity_per_quadrant(study):
    result, _, _ = study
    small_sim, small_diff = result.info("small + similar"), result.info("small + different")
    large_sim, large_diff = result.info("large + similar"), result.info("large + different")
    assert small_sim.images_per_class == small_diff.images_per_class == 4
    assert large_diff.images_per_class == 40 and large_sim.images_per_class > 30
    # glyphs are further from Fashion-MNIST 0-4 than Fashion-MNIST 5-9 is, by both measures
    assert large_diff.proxy_a_distance > large_sim.proxy_a_distance
    assert large_diff.feature_gap > large_sim.feature_gap
    for q in QUADRANTS:
        info = result.info(q)
        size, kind = q.split(" + ")
        assert info.measured.startswith(size)  # the size half of the diagnosis is exact
        assert info.expected == GUIDE[(size, kind == "similar")]
        assert info.guide == GUIDE[(size, info.measured.endswith("similar"))]


def test_result_round_trips_and_tables(study):
    result, _, _ = study
    again = TransferStudyResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    headers, body = summary_table(result)
    assert headers[3:7] == list(STRATS) and len(body) == 4
    for row, q in zip(body, QUADRANTS, strict=True):
        guide = result.info(q).guide
        starred = [s for s, cell in zip(STRATS, row[3:7], strict=True) if cell.startswith("*")]
        assert starred == [guide] and row[-2] == guide and row[-1] == result.winner(q)
        assert "±" in row[3]
    md = markdown_table(result).splitlines()
    assert len(md) == 2 + 4 and md[1].count("---") == 3 + 4 + 1
    assert all(line.count("**") == 2 for line in md[2:])  # exactly the guide's cell in bold
    for q in QUADRANTS:
        if result.winner(q) != result.info(q).guide:
            assert any(line.startswith(q) for line in disagreements(result))


def test_report_writes_figure_table_and_html(study, tmp_path: Path):
    result, _, _ = study
    path = transfer_report(result, tmp_path)
    assert path == tmp_path / "report.html"
    html = path.read_text()
    assert "the four cases" in html and "small + different" in html and "data:image/png" in html
    png = tmp_path / "figures" / "quadrants.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 150_000
    assert (tmp_path / "table.md").read_text() == markdown_table(result)


def test_per_class_subset_is_balanced_and_seeded(fashion_small):
    a = per_class_subset(fashion_small, 3, seed=0)
    b = per_class_subset(fashion_small, 3, seed=1)
    assert a.train_y.bincount().tolist() == [3] * 10
    assert not (a.train_x == b.train_x).all()
    assert (per_class_subset(fashion_small, 3, seed=0).train_x == a.train_x).all()
    assert len(a.test_y) == len(fashion_small.test_y)


@pytest.mark.parametrize(
    "kw, exc, words",
    [
        ({"strategies": "head,magic"}, ConfigError, "magic"),
        ({"source_classes": "0,x"}, ValueError, "source_classes"),
        ({"similar_classes": "5"}, ValueError, "at least 2"),
        ({"small": 1}, ValueError, "small"),
        ({"large": 10}, ValueError, "large"),
        ({"seeds": 0}, ValueError, "seeds"),
        ({"lr": 0.0}, ValueError, "lr"),
    ],
)
def test_bad_config_fails_early(kw, exc, words):
    with pytest.raises(exc, match=words):
        TransferStudyConfig(**kw)


def test_out_of_range_class_fails_before_training(fashion_small, tmp_path: Path):
    cfg = TransferStudyConfig(similar_classes="5,6,12", out=str(tmp_path / "s"))
    with pytest.raises(ValueError, match="classes must be distinct indices 0-9"):
        run(cfg, data=fashion_small, different=fashion_small)
    assert not (tmp_path / "s").exists()  # no backbone was trained


@pytest.mark.parametrize(
    "args, words",
    [
        (["--strategies", "head,magic"], "unknown strategy magic"),
        (["--source_classes", "0,1,x"], "source_classes"),
        (["--data", "fashion-mnist", "--similar_classes", "5,6,42"], "0-9"),
        (["--backbone", "imagenet:efficientnet-lite9"], "unknown ImageNet network"),
        (["--test_limit", "1"], "test_limit must be >= 2"),
        (["--train_size", "4"], "train_size must be >= 8"),
        (["--pilot_fraction", "1"], "pilot_fraction must be in (0, 1)"),
    ],
)
def test_cli_errors_are_one_line(capsys, tmp_path: Path, args, words, no_system_data):
    rc = main(["study", "transfer", *args, "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("cnnlab: error:") and words in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def given_study(study, fashion_small):
    """The same targets with the first study's backbone given as a Backbone (so no source
    data: similarity is not measured), 20 test images a target, and the pilot in every
    quadrant and seed."""
    from cnnlab.tasks.transfer import load_backbone

    _, _, out = study
    letters = make_glyphs("ABCDE", per_class=44, test_per_class=10, seed=0)
    cfg = TransferStudyConfig(
        small=4, small_below=30, seeds=2, epochs=1, small_epochs=2, batch_size=64,
        small_batch_size=8, strategies="head,finetune", test_limit=20, pilot=True,
        pilot_epochs=1, out=str(out.parent / "given"),
    )  # fmt: skip
    logs: list[str] = []
    backbone = load_backbone(out / "backbone")
    result = run(cfg, data=fashion_small, different=letters, log=logs.append, backbone=backbone)
    return result, logs


def test_given_backbone_takes_the_built_quadrants_rule(given_study):
    result, logs = given_study
    assert math.isnan(result.backbone_accuracy) and logs[0].startswith("backbone:")
    for q in QUADRANTS:
        info = result.info(q)
        size, kind = q.split(" + ")
        assert math.isnan(info.proxy_a_distance) and info.measured == f"{size} (similarity unknown)"
        assert info.guide == info.expected == GUIDE[(size, kind == "similar")]
    # test_limit: 20 test images a target (4 per class), so every accuracy is k / 20
    assert all(abs(r.accuracy * 20 - round(r.accuracy * 20)) < 1e-6 for r in result.runs)
    md = markdown_table(result)
    assert "| - | - |" in md  # PAD and gap not measured


def test_pilot_per_quadrant_and_seed_and_its_check(given_study, tmp_path: Path):
    result, logs = given_study
    assert [(p.quadrant, p.seed) for p in result.pilots] == [(q, s) for q in QUADRANTS
                                                             for s in (0, 1)]  # fmt: skip
    for p in result.pilots:
        assert set(p.accuracies) == {"head", "finetune"}
        assert p.accuracies[p.winner] == max(p.accuracies.values())
    assert sum("pilot seed" in line for line in logs) == 8
    q = "large + different"
    c = result.pick_check(q)
    best = max(result.cell(q, s)["mean"] for s in ("head", "finetune"))
    picks = [p for p in result.pilots if p.quadrant == q]
    picked = sum(result.accuracy(q, p.winner, p.seed) for p in picks) / 2
    assert c["pilot_gap"] == pytest.approx(best - picked)
    assert c["rule_gap"] == pytest.approx(best - result.cell(q, "finetune")["mean"])
    assert c["pilot_picks"] == [p.winner for p in picks] and c["seeds"] == 2
    seed_best = [max(result.accuracy(q, s, k) for s in ("head", "finetune")) for k in (0, 1)]
    assert c["pilot_seeds"] == sum(
        result.accuracy(q, p.winner, p.seed) >= seed_best[p.seed] - 0.01 for p in picks
    )
    again = TransferStudyResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result or math.isnan(again.backbone_accuracy)  # nan != nan
    assert again.pilots == result.pilots
    table = pick_table(result).splitlines()
    assert len(table) == 2 + 4 + 1 and table[-1].startswith("| all |")
    transfer_report(result, tmp_path)
    assert (tmp_path / "picks.md").read_text() == pick_table(result)
    assert "The pilot against the rule" in (tmp_path / "report.html").read_text()
    assert pick_table(study_without_pilot := result.__class__.from_dict(
        {**result.to_dict(), "pilots": []})) == ""  # fmt: skip
    assert math.isnan(study_without_pilot.pick_check(q)["pilot_gap"])


def test_repilot_reruns_the_pilots_on_the_same_targets(given_study, fashion_small, study):
    """The study's pilot again with other settings, scored against the stored full runs: the
    same settings give the same picks (seeded), cross-validation scores every image."""
    from cnnlab.studies.transfer import repilot
    from cnnlab.tasks.transfer import load_backbone

    result, _ = given_study
    _, _, out = study
    letters = make_glyphs("ABCDE", per_class=44, test_per_class=10, seed=0)
    kw = {"data": fashion_small, "different": letters, "backbone": load_backbone(out / "backbone")}
    same = repilot(result, epochs=1, **kw)
    assert [(p.quadrant, p.seed, p.winner, p.accuracies) for p in same.pilots] == [
        (p.quadrant, p.seed, p.winner, p.accuracies) for p in result.pilots
    ]
    cv = repilot(result, epochs=1, folds=2, **kw)
    assert cv.runs == result.runs and cv.config["pilot_folds"] == 2
    small = next(p for p in cv.pilots if p.quadrant == "small + similar")
    assert all(abs(a * 20 - round(a * 20)) < 1e-6 for a in small.accuracies.values())  # 4 x 5
    assert cv.pick_check("small + similar")["seeds"] == 2


def test_train_size_resizes_the_trained_strategies_only(source_run, fashion_target, monkeypatch):
    import cnnlab.tasks.transfer.task as task_mod
    from cnnlab.tasks.transfer import load_backbone, train_transfer
    from cnnlab.tasks.transfer.backbones import sized_for

    b = load_backbone(source_run)
    assert sized_for(b, "head", 20) is b and sized_for(b, "early", 20) is b
    assert sized_for(b, "finetune", 20).input_shape == (1, 20, 20)
    assert b.at(20).model is b.model and b.at(None) is b
    with pytest.raises(ValueError, match="image side must be >= 8"):
        b.at(4)
    assert b.at(28) is b  # its own side
    seen: list[tuple[int, ...]] = []
    real = task_mod.adapt_input
    monkeypatch.setattr(
        task_mod,
        "adapt_input",
        lambda x, bb: seen.append(tuple(real(x, bb).shape[1:])) or real(x, bb),
    )
    data = per_class_subset(fashion_target, 4, seed=0)
    train_transfer(b, data, "retrain", epochs=1, batch_size=8, train_size=20)
    assert seen and set(seen) == {(1, 20, 20)}
