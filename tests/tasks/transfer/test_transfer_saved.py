"""A transferred model saved as a run folder: rebuilt from model.json alone, same outputs,
usable by predict, as a backbone again, and refused as a backbone when it is no classifier."""

from __future__ import annotations

import json

import pytest
import torch

from cnnlab.cli import main
from cnnlab.core.errors import RunError
from cnnlab.engine import runs
from cnnlab.models import create_task_model
from cnnlab.tasks.classify.prediction import predict
from cnnlab.tasks.transfer import load_backbone, train_transfer
from cnnlab.tasks.transfer.saved import save_transfer_run
from conftest import save_png


@pytest.fixture(scope="module")
def backbone(source_run):
    return load_backbone(source_run)


@pytest.mark.parametrize(("strategy", "kw"), [("head", {}), ("early", {"cut": "body.1"})])
def test_saved_run_gives_the_same_predictions(backbone, fashion_target, tmp_path, strategy, kw):
    r = train_transfer(backbone, fashion_target, strategy, epochs=1, lr=3e-3, **kw)
    folder = save_transfer_run(tmp_path, "t", backbone, fashion_target, r, {"strategy": strategy})
    for f in ("model.safetensors", "model.json", "config.yaml", "metrics.csv", "report.html"):
        assert (folder / f).is_file(), f
    model, meta = runs.load_model(folder)  # rebuilt from model.json, the backbone not needed
    assert meta.task == "transfer" and meta.classes == fashion_target.classes
    x = fashion_target.test_x[:16]
    ref = r.model.eval()((x.float() / 255 - backbone.mean[0]) / backbone.std[0])
    mean, std = fashion_target.mean[0], fashion_target.std[0]
    out = model((x.float() / 255 - mean) / std)  # as every cnnlab classifier is fed
    assert torch.allclose(out, ref, atol=1e-5)
    results = json.loads((folder / "results.json").read_text())
    assert results["transfer"]["strategy"] == strategy
    assert results["test"]["accuracy"] == pytest.approx(r.accuracy, abs=1e-6)
    if strategy == "early":
        assert results["transfer"]["cut"] == "body.1"


def test_saved_run_predicts_and_is_a_backbone_again(backbone, fashion_target, tmp_path):
    r = train_transfer(backbone, fashion_target, "finetune", epochs=1, lr=3e-3)
    folder = save_transfer_run(tmp_path, "ft", backbone, fashion_target, r, {})
    png = save_png(tmp_path / "x.png", fashion_target.test_x[0, 0].numpy())
    (pred,) = predict(folder, [png], topk=2)
    assert pred.top[0][0] in fashion_target.classes
    again = load_backbone(folder)
    r2 = train_transfer(again, fashion_target, "head", epochs=1, lr=3e-3)
    assert r2.accuracy > 0.3  # chance is 0.2


def test_a_run_that_is_no_classifier_is_refused_as_backbone(tmp_path):
    ae = create_task_model("autoencode", "ae-conv", 1, 1, (28, 28))
    meta = runs.ModelMeta("ae-conv", {}, 1, 1, (28, 28), [], (0.0,), (1.0,), task="autoencode")
    folder = runs.new_run_folder(tmp_path, "ae")
    runs.save_model(folder, ae, meta)
    with pytest.raises(RunError, match="not a classifier") as e:
        load_backbone(folder)
    assert "\n" not in str(e.value)


def test_cli_without_save_writes_nothing(source_run, no_system_data, tmp_path, capsys):
    rc = main(["transfer", "--from", str(source_run), "--data", "fashion-mnist", "--classes",
               "5,6,7,8,9", "--train_limit", "100", "--epochs", "1", "--strategy", "early",
               "--save", "false", "--runs_dir", str(tmp_path / "runs")])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and "linear probe accuracy per block" in out
    assert not (tmp_path / "runs").exists()
