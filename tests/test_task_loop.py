"""The generic loop of image-target tasks: learning, best-model saving, exact resume, clean-up."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from cnnlab.errors import ConfigError
from cnnlab.models import TASK_MODELS, create_task_model
from cnnlab.registry import Registry
from cnnlab.train import runs
from cnnlab.train.task_loop import FitResult, LoopConfig, fit


@dataclass(frozen=True)
class ToyConfig:
    width: int = 4


class Toy(nn.Module):
    """A two-layer conv net that should learn to invert its input."""

    def __init__(self, in_channels, out_channels, input_size, cfg: ToyConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, cfg.width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(cfg.width, out_channels, 3, padding=1),
        )

    def forward(self, x):
        return self.net(x)


class InvertTask:
    """Target = 1 - input: a reconstruction-like task a tiny conv net learns in a few steps."""

    def __init__(self, n: int = 64, batch: int = 16, seed: int = 0, val: bool = True) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, 1, 8, 8, generator=g)
        self.vx = torch.rand(16, 1, 8, 8, generator=g) if val else None
        self.batch, self.seed = batch, seed

    def num_train_batches(self) -> int:
        return len(self.x) // self.batch

    def train_batches(self, epoch):
        order = torch.randperm(len(self.x), generator=torch.Generator().manual_seed(epoch))
        for i in range(self.num_train_batches()):
            xb = self.x[order[i * self.batch : (i + 1) * self.batch]]
            yield xb, 1 - xb

    def loss(self, model, batch):
        x, y = batch
        out = model(x)
        return nn.functional.mse_loss(out, y), {"mae": (out - y).abs().mean()}

    def validate(self, model):
        if self.vx is None:
            return {}
        return {"val/loss": float(nn.functional.mse_loss(model(self.vx), 1 - self.vx))}


@pytest.fixture
def toy_registry(monkeypatch):
    reg = Registry("toy model")
    reg.register("toy", ToyConfig, "test model")(Toy)
    monkeypatch.setitem(TASK_MODELS, "toy", reg)
    return reg


def _meta() -> runs.ModelMeta:
    return runs.ModelMeta("toy", {}, 1, 1, (8, 8), [], (0.0,), (1.0,), task="toy")


def _run(tmp_path, name, cfg, **kw) -> tuple[nn.Module, FitResult]:
    torch.manual_seed(0)
    model = create_task_model("toy", "toy", 1, 1, (8, 8))
    folder = runs.new_run_folder(tmp_path, name)
    res = fit(model, InvertTask(), cfg, folder, _meta(), **kw)
    return model, res


def test_fit_learns_and_saves_the_best_model(tmp_path, toy_registry):
    cfg = LoopConfig(epochs=8, lr=3e-2, progress=False)
    model, res = _run(tmp_path, "a", cfg)
    hist = res.history
    assert len(hist) == 8 and hist[-1]["val/loss"] < 0.5 * hist[0]["val/loss"]
    assert {"train/loss", "train/mae", "val/loss", "lr", "time"} <= set(hist[0])
    assert res.best_epoch == 1 + min(range(8), key=lambda i: hist[i]["val/loss"])
    loaded, meta = runs.load_model(res.folder)  # rebuilt through the task registry
    assert meta.task == "toy" and isinstance(loaded, Toy)
    for f in ("model.safetensors", "model.json", "state.pt", "metrics.csv"):
        assert (res.folder / f).is_file()
    assert len(runs.read_metrics(res.folder)) == 8


def test_resume_gives_the_same_weights(tmp_path, toy_registry):
    cfg = LoopConfig(epochs=4, lr=1e-2, progress=False)
    full, _ = _run(tmp_path, "full", cfg)
    torch.manual_seed(0)
    model = create_task_model("toy", "toy", 1, 1, (8, 8))
    folder = runs.new_run_folder(tmp_path, "part")
    fit(model, InvertTask(), cfg, folder, _meta(), stop_after=2)
    again = create_task_model("toy", "toy", 1, 1, (8, 8))
    res = fit(again, InvertTask(), cfg, folder, _meta(), resume=True)
    assert len(res.history) == 4
    for (k, a), b in zip(full.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_without_validation_the_train_loss_picks_the_best(tmp_path, toy_registry):
    torch.manual_seed(0)
    model = create_task_model("toy", "toy", 1, 1, (8, 8))
    folder = runs.new_run_folder(tmp_path, "noval")
    res = fit(model, InvertTask(val=False), LoopConfig(epochs=3, progress=False), folder, _meta())
    assert res.best_epoch >= 1 and "val/loss" not in res.history[0]


def test_a_run_that_fails_in_its_first_epoch_leaves_no_folder(tmp_path, toy_registry):
    class Broken(InvertTask):
        def loss(self, model, batch):
            raise RuntimeError("boom")

    folder = runs.new_run_folder(tmp_path, "broken")
    model = create_task_model("toy", "toy", 1, 1, (8, 8))
    with pytest.raises(RuntimeError, match="boom"):
        fit(model, Broken(), LoopConfig(epochs=1, progress=False), folder, _meta())
    assert not folder.exists()


def test_no_batches_and_bad_settings_fail_with_one_line(tmp_path, toy_registry):
    folder = runs.new_run_folder(tmp_path, "empty")
    model = create_task_model("toy", "toy", 1, 1, (8, 8))
    with pytest.raises(ConfigError, match="no batch"):
        fit(model, InvertTask(n=4, batch=16), LoopConfig(progress=False), folder, _meta())
    with pytest.raises(ValueError, match="optimizer"):
        LoopConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="epochs"):
        LoopConfig(epochs=0)
