"""The weight-initialization study end to end on tiny data, and its CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from cnnlab.cli import main
from cnnlab.models import create_model
from cnnlab.nn.init import init_weights
from cnnlab.studies.init import InitStudyConfig, InitStudyResult, layer_stats, run
from cnnlab.studies.init_report import init_report, summary_table


def test_layer_stats_show_symmetry_and_scale():
    torch.manual_seed(0)
    x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    stats = {}
    for scheme in ("ones", "normal", "kaiming-normal"):
        model = create_model("cnn-plain", 1, 10, (28, 28))
        init_weights(model, scheme)
        stats[scheme] = layer_stats(model, x, y)
    assert [s.layer for s in stats["ones"]][-1] == "head"
    assert len(stats["ones"]) == 10  # 8 convs, the dense layer, the head
    assert all(s.same_units == 1.0 for s in stats["ones"][:-1])
    assert all(s.same_units == 0.0 for s in stats["kaiming-normal"])
    # std 1 weights multiply the scale at every layer; Kaiming keeps it within a small factor
    normal = [s.act_std for s in stats["normal"]]
    kaiming = [s.act_std for s in stats["kaiming-normal"]]
    assert normal[7] / normal[0] > 1e4
    assert 0.1 < kaiming[7] / kaiming[0] < 10
    assert sum(stats["normal"][0].act_hist) == 32 * 8 * 28 * 28


def test_study_runs_end_to_end(tiny_data, tmp_path: Path):
    cfg = InitStudyConfig(model="mlp,cnn-plain", schemes="zeros,kaiming-normal", epochs=2,
                          seeds=2, batch_size=8, lr=3e-3, out=str(tmp_path))  # fmt: skip
    result = run(cfg, data=tiny_data)
    assert len(result.runs) == 2 * 2 * 2
    rows = {(r["model"], r["scheme"]): r for r in result.summary()}
    assert rows["mlp", "zeros"]["same_units"] == 1.0
    assert rows["mlp", "kaiming-normal"]["same_units"] == 0.0
    # zeros cannot learn beyond the majority class; Kaiming learns the easy shapes
    assert rows["mlp", "zeros"]["val_acc"] <= 0.5
    assert rows["mlp", "kaiming-normal"]["val_acc"] > 0.6
    assert all(len(r.losses) >= 5 and r.steps == sorted(r.steps) for r in result.runs)
    path = init_report(result, tmp_path)
    html = path.read_text()
    assert "Weight initialization" in html and "kaiming-normal" in html
    assert {p.name for p in (tmp_path / "figures").iterdir()} == {
        "loss-curves.png", "layer-scales.png", "activations-mlp.png", "gradients-mlp.png",
        "activations-cnn-plain.png", "gradients-cnn-plain.png",
    }  # fmt: skip
    again = InitStudyResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.summary() == result.summary()
    headers, body = summary_table(result)
    assert headers[2] == "val accuracy" and body[0][:2] == ["mlp", "zeros"]
    assert body[0][-1] == "9.7 %"  # the course's figure beside ours


def test_diverged_runs_are_reported_not_crashed(tiny_data):
    cfg = InitStudyConfig(model="cnn-plain", schemes="normal:std=50", epochs=1, seeds=1,
                          batch_size=8)  # fmt: skip
    (row,) = run(cfg, data=tiny_data).summary()
    assert not math.isfinite(row["val_loss"]) or row["val_loss"] > 10
    assert 0.0 <= row["val_acc"] <= 1.0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--schemes", "zeros,he"], "unknown init scheme 'he'"),
        (["--model", "alexnet"], "unknown model 'alexnet'"),
        (["--seeds", "0"], "seeds must be >= 1"),
        (["--schemes", " , "], "schemes must name at least one"),
    ],
)
def test_cli_errors(args, message, image_folder, tmp_path, capsys):
    code = main(["study", "init", "--data", str(image_folder), "--out", str(tmp_path / "s"),
                 *args])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_cli_writes_report_and_json(image_folder, tmp_path, capsys):
    out = tmp_path / "study"
    code = main(["study", "init", "--data", str(image_folder), "--model", "mlp", "--schemes",
                 "ones,normal-rule", "--seeds", "1", "--epochs", "1", "--batch_size", "8",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "normal-rule" in text and "report:" in text
    assert "units equal to unit 0: the share" in " ".join(text.split())  # the legend
    saved = json.loads((out / "result.json").read_text())
    assert [r["scheme"] for r in saved["runs"]] == ["ones", "normal-rule"]
    assert (out / "report.html").exists()
