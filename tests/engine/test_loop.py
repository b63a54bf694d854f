"""The engine's one loop over a toy task: learning, best-model saving, exact resume, clean-up,
and bad settings failing in one line."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pytest
import torch
from torch import nn

from cnnlab.core.errors import ConfigError, DivergedError
from cnnlab.core.registry import Registry
from cnnlab.engine import runs
from cnnlab.engine.config import LoopConfig
from cnnlab.engine.loop import FitResult, fit
from cnnlab.engine.task import Task, num_batches, stride
from cnnlab.models import TASK_MODELS, create_task_model


@dataclass(frozen=True)
class ToyConfig:
    width: int = 4


@dataclass(frozen=True)
class ToyRunConfig:
    model: str = "toy"

    def to_dict(self):
        return asdict(self)


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


class InvertTask(Task):
    """Target = 1 - input: a reconstruction-like task a tiny conv net learns in a few steps."""

    name = command = "toy"

    def __init__(self, n: int = 64, batch: int = 16, seed: int = 0, val: bool = True,
                 run_name: str = "toy") -> None:  # fmt: skip
        g = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, 1, 8, 8, generator=g)
        self.vx = torch.rand(16, 1, 8, 8, generator=g) if val else None
        self.batch, self.seed, self.run_name = batch, seed, run_name
        self.cfg = ToyRunConfig()

    def build_model(self):
        torch.manual_seed(0)
        return create_task_model("toy", "toy", 1, 1, (8, 8))

    def meta(self, model):
        return runs.ModelMeta("toy", {}, 1, 1, (8, 8), [], (0.0,), (1.0,), task="toy")

    def num_train_batches(self) -> int:
        return num_batches(len(self.x), self.batch, self.ctx)

    def train_batches(self, epoch):
        order = torch.randperm(len(self.x), generator=torch.Generator().manual_seed(epoch))
        for idx in stride(order, self.batch, self.ctx):
            yield self.x[idx], 1 - self.x[idx]

    def val_batches(self):
        if self.vx is not None:
            yield self.vx, 1 - self.vx

    def step(self, model, batch, stage):
        x, y = batch
        out = model(x)
        loss = nn.functional.mse_loss(out, y)
        n = len(x)
        return loss, {"n": n, "loss": loss.detach() * n, "mae": (out - y).abs().mean() * n}


@pytest.fixture
def toy_registry(monkeypatch):
    reg = Registry("toy model")
    reg.register("toy", ToyConfig, "test model")(Toy)
    monkeypatch.setitem(TASK_MODELS, "toy", reg)
    return reg


def _run(tmp_path, cfg, task=None, **kw) -> FitResult:
    return fit(task or InvertTask(), cfg, runs_dir=tmp_path, **kw)


def test_fit_learns_and_saves_the_best_model(tmp_path, toy_registry):
    cfg = LoopConfig(epochs=8, lr=3e-2, progress=False)
    res = _run(tmp_path, cfg)
    hist = res.history
    assert len(hist) == 8 and hist[-1]["val/loss"] < 0.5 * hist[0]["val/loss"]
    assert {"train/loss", "train/mae", "val/loss", "val/mae", "lr", "time"} <= set(hist[0])
    assert res.best_epoch == 1 + min(range(8), key=lambda i: hist[i]["val/loss"])
    loaded, meta = runs.load_model(res.folder)  # rebuilt through the task registry
    assert meta.task == "toy" and isinstance(loaded, Toy)
    for f in ("model.safetensors", "model.json", "state.pt", "metrics.csv", "config.yaml"):
        assert (res.folder / f).is_file()
    assert len(runs.read_metrics(res.folder)) == 8
    assert res.folder.parent == tmp_path and res.folder.name == "toy"


def test_resume_gives_the_same_weights(tmp_path, toy_registry):
    cfg = LoopConfig(epochs=4, lr=1e-2, progress=False)
    full = _run(tmp_path, cfg, InvertTask(run_name="full"))
    part = _run(tmp_path, cfg, InvertTask(run_name="part"), stop_after=2)
    assert part.paused and len(part.history) == 2 and part.test is None
    res = _run(tmp_path, cfg, InvertTask(run_name="part"), resume=part.folder)
    assert len(res.history) == 4 and res.folder == part.folder
    last = torch.load(res.folder / "state.pt", weights_only=True)["model"]
    ref = torch.load(full.folder / "state.pt", weights_only=True)["model"]
    for k, a in ref.items():
        assert torch.equal(a, last[k]), k


def test_without_validation_the_train_loss_picks_the_best(tmp_path, toy_registry):
    res = _run(tmp_path, LoopConfig(epochs=3, progress=False), InvertTask(val=False))
    assert res.best_epoch >= 1 and "val/loss" not in res.history[0]


def test_a_run_that_fails_in_its_first_epoch_leaves_no_folder(tmp_path, toy_registry):
    class Broken(InvertTask):
        def step(self, model, batch, stage):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        _run(tmp_path, LoopConfig(epochs=1, progress=False), Broken())
    assert list(tmp_path.iterdir()) == []


class DivergesAt(InvertTask):
    """The loss becomes NaN at one global step (a learning rate that blew up, say)."""

    def __init__(self, at: int, **kw) -> None:
        super().__init__(**kw)
        self.at, self.steps = at, 0

    def step(self, model, batch, stage):
        loss, stats = super().step(model, batch, stage)
        if stage == "train":
            self.steps += 1
            if self.steps >= self.at:
                loss = loss * float("nan")
        return loss, stats


def test_a_diverged_loss_stops_at_its_step_and_keeps_the_last_good_epoch(tmp_path, toy_registry):
    cfg = LoopConfig(epochs=3, lr=1e-2, progress=False)
    with pytest.raises(
        DivergedError,
        match=r"loss became nan at epoch 2, step 3 \(lr .*\); the "
        r"learning rate is likely too high: try --lr .*; the run keeps epoch 1",
    ):
        _run(tmp_path, cfg, DivergesAt(7))  # 4 steps an epoch: step 7 is epoch 2's third
    folder = tmp_path / "toy"
    assert len(runs.read_metrics(folder)) == 1  # a valid run of its one good epoch
    model, _ = runs.load_model(folder)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    with pytest.raises(DivergedError, match="at epoch 1, step 1 .* nothing was saved"):
        _run(tmp_path / "b", cfg, DivergesAt(1))
    assert not (tmp_path / "b").exists() or list((tmp_path / "b").iterdir()) == []


def test_on_step_sees_every_step(tmp_path, toy_registry):
    seen = []
    _run(tmp_path, LoopConfig(epochs=2, progress=False), on_step=lambda s, loss: seen.append(s))
    assert seen == list(range(1, 9))  # 64 images, batches of 16, 2 epochs


def test_no_batches_and_bad_settings_fail_with_one_line(tmp_path, toy_registry):
    with pytest.raises(ConfigError, match="no batch"):
        _run(tmp_path, LoopConfig(progress=False), InvertTask(n=0, batch=16))
    assert list(tmp_path.iterdir()) == []  # nothing written
    with pytest.raises(ValueError, match="optimizer"):
        LoopConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="epochs"):
        LoopConfig(epochs=0)


def test_stride_gives_every_process_the_same_number_of_batches():
    from cnnlab.engine.task import Context

    idx = torch.arange(50)
    parts = [list(stride(idx, 8, Context(rank=r, world=2))) for r in range(2)]
    assert len(parts[0]) == len(parts[1]) == 3 == num_batches(50, 8, Context(rank=0, world=2))
    seen = torch.cat([b for p in parts for b in p])
    assert len(seen) == len(set(seen.tolist())) == 48  # 6 full batches, no image twice
    assert num_batches(5, 8, Context()) == 1  # tiny data: the one partial batch
    # evaluation uses every index once, even when the processes get unequal counts
    val = [list(stride(torch.arange(6), 16, Context(rank=r, world=2), drop_last=False))
           for r in range(2)]  # fmt: skip
    assert [len(v) for v in val] == [1, 0] and val[0][0].tolist() == list(range(6))
