"""Weight initialization study: the same model, data and optimizer once per scheme and seed.

The lecture's question: all zeros, all ones, uniform, normal, truncated normal, and the
rules that scale with the fan-in. Constant inits make every unit of a layer compute the same
thing (and gradient steps keep them equal); badly scaled inits make activations vanish or
explode with depth. The study measures both: loss curves and final validation accuracy/loss,
and per-layer activation and gradient statistics at the start of training.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from torch import nn

from cnnlab.core.io import safe_name
from cnnlab.data import ImageData, load_dataset
from cnnlab.engine.loop import fit
from cnnlab.models import create_model
from cnnlab.nn.init import LAYERS, init_weights, parse_init
from cnnlab.studies.configs import InitStudyConfig
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.evaluation import predict_logits
from cnnlab.tasks.classify.task import ClassifyTask


@dataclass
class LayerStats:
    """One weight layer at the start of training, on one batch."""

    layer: str
    act_std: float  # std of the layer's output after its activation
    grad_std: float  # std of the loss gradient w.r.t. the layer's weights
    same_units: float  # share of the other units whose output equals unit 0's on every image
    act_hist: list[float]  # counts over ACT_BINS (log-spaced |activation|)
    grad_hist: list[float]  # counts over GRAD_BINS (log-spaced |gradient|)


@dataclass
class RunRow:
    model: str
    scheme: str
    seed: int
    val_acc: float
    val_loss: float
    steps: list[int]
    losses: list[float]  # mean training loss over each log_every steps (nan: diverged)
    seconds: float


@dataclass
class InitStudyResult:
    config: dict[str, Any]
    data_source: str
    chance: float
    runs: list[RunRow] = field(default_factory=list)
    start: dict[str, dict[str, list[LayerStats]]] = field(default_factory=dict)  # model/scheme

    def summary(self) -> list[dict[str, Any]]:
        """One row per model and scheme: mean and std over seeds of val accuracy and loss."""
        rows = []
        for m in dict.fromkeys(r.model for r in self.runs):
            for s in dict.fromkeys(r.scheme for r in self.runs if r.model == m):
                rs = [r for r in self.runs if r.model == m and r.scheme == s]
                acc = np.array([r.val_acc for r in rs])
                loss = np.array([r.val_loss for r in rs])
                first = self.start.get(m, {}).get(s, [])
                ok = loss[np.isfinite(loss)]  # diverged seeds have no loss to average
                rows.append(
                    {
                        "model": m,
                        "scheme": s,
                        "val_acc": float(acc.mean()),
                        "val_acc_std": float(acc.std()),
                        "val_loss": float(ok.mean()) if len(ok) else math.nan,
                        "val_loss_std": float(ok.std()) if len(ok) else 0.0,
                        "seeds": len(rs),
                        "same_units": first[0].same_units if first else math.nan,
                    }
                )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InitStudyResult:
        """The inverse of to_dict (e.g. of a study's result.json), to redraw its figures."""
        start = {
            m: {s: [LayerStats(**x) for x in layers] for s, layers in per.items()}
            for m, per in d["start"].items()
        }
        runs = [RunRow(**r) for r in d["runs"]]
        return cls(d["config"], d["data_source"], d["chance"], runs, start)


# log-spaced bins wide enough for exploding inits (all ones reaches 1e19 in 10 layers);
# the first bin holds exact zeros (dead ReLUs, zero inits)
ACT_BINS = np.concatenate([[0.0], np.logspace(-6, 21, 55)])
GRAD_BINS = np.concatenate([[0.0], np.logspace(-12, 21, 67)])


def _activation_of(model: nn.Module) -> dict[str, nn.Module]:
    """For each conv/linear layer (in order), the module whose output is the layer's
    activation: the next ReLU when one follows, else the layer itself (e.g. the head)."""
    mods = list(model.named_modules())
    out: dict[str, nn.Module] = {}
    for i, (name, m) in enumerate(mods):
        if not isinstance(m, LAYERS):
            continue
        target = m
        for _, nxt in mods[i + 1 :]:
            if isinstance(nxt, LAYERS):
                break
            if isinstance(nxt, nn.ReLU):
                target = nxt
                break
        out[name] = target
    return out


def layer_stats(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[LayerStats]:
    """Activation and gradient statistics of every weight layer on one batch.

    Shapes: x (B, C, H, W) normalized float, y (B,).
    """
    acts: dict[str, torch.Tensor] = {}
    hooks = []
    for name, mod in _activation_of(model).items():

        def keep(_m: nn.Module, _i: Any, out: torch.Tensor, name: str = name) -> None:
            acts[name] = out.detach().clone()

        hooks.append(mod.register_forward_hook(keep))
    model.zero_grad(set_to_none=True)
    model.train()
    try:
        F.cross_entropy(model(x), y).backward()
    finally:
        for h in hooks:
            h.remove()
    layers = dict(model.named_modules())
    stats = []
    for name, a in acts.items():
        w = layers[name].weight
        g = w.grad if w.grad is not None else torch.zeros_like(w)
        units = a.transpose(0, 1).reshape(a.shape[1], -1)  # (units or channels, B * positions)
        twins = (units[1:] == units[:1]).all(dim=1)  # units computing exactly what unit 0 does
        same = twins.float().mean().item() if len(twins) else 0.0
        stats.append(
            LayerStats(
                layer=name,
                act_std=_finite_std(a),
                grad_std=_finite_std(g),
                same_units=same,
                act_hist=np.histogram(_abs_clip(a, ACT_BINS), ACT_BINS)[0].tolist(),
                grad_hist=np.histogram(_abs_clip(g, GRAD_BINS), GRAD_BINS)[0].tolist(),
            )
        )
    model.zero_grad(set_to_none=True)
    return stats


def _finite_std(t: torch.Tensor) -> float:
    t = t.double()
    return float(t.std()) if torch.isfinite(t).all() else math.inf


def _abs_clip(t: torch.Tensor, bins: np.ndarray) -> np.ndarray:
    a = np.nan_to_num(t.detach().abs().double().numpy().ravel(), nan=bins[-1], posinf=bins[-1])
    return np.clip(a, 0.0, bins[-1])


class _StudyRun(ClassifyTask):
    """One run of the study on the engine: the classifier task with the course's settings,
    its start statistics taken on the first batch before any step, and the last epoch's model
    kept (a diverged run has no best one). No validation per epoch and no report: the study
    scores the validation split once at the end and draws its own figures."""

    keep = "last"
    stop_on_divergence = False  # a scheme that blows up is a result here, not an error

    def build_model(self) -> nn.Module:
        model = super().build_model()
        if parse_init(self.cfg.init)[0] == "default":
            init_weights(model, "default")  # the study re-draws PyTorch's default too
        first_x, first_y = next(iter(self.loader().epoch(0)))
        self.start = layer_stats(model, first_x.contiguous(), first_y)
        return model

    def val_batches(self):
        return iter(())

    def finish(self, folder: Path, model: nn.Module, result: Any) -> dict[str, float]:
        d = self.data
        logits = predict_logits(model, d.val_x, d.mean, d.std)
        val_loss = F.cross_entropy(logits, d.val_y).item()
        ok = torch.isfinite(logits).all(dim=1)
        pred = torch.where(ok, logits.nan_to_num().argmax(1), -1)  # a diverged output is wrong
        return {"val_acc": (pred == d.val_y).float().mean().item(),
                "val_loss": val_loss if math.isfinite(val_loss) else math.nan}  # fmt: skip


def _train_one(
    cfg: InitStudyConfig, data: ImageData, model_name: str, scheme: str, seed: int, runs_dir: str
) -> tuple[RunRow, list[LayerStats]]:
    """One model, scheme and seed through the engine: Adam (AdamW without decay) at a constant
    lr, no augmentation or label smoothing, fp32: the course's settings."""
    run_cfg = TrainConfig(
        data=data.origin or data.name, model=model_name, epochs=cfg.epochs,
        batch_size=cfg.batch_size, lr=cfg.lr, optimizer="adamw", weight_decay=0.0,
        schedule="constant", label_smoothing=0.0, augment="none", seed=seed, init=scheme,
        precision="32", progress=False, runs_dir=runs_dir,
        name=safe_name(f"{model_name}-{scheme}-{seed}"),
    )  # fmt: skip
    per_epoch = len(data.train_y) // cfg.batch_size if len(data.train_y) > cfg.batch_size else 1
    every = max(1, min(cfg.log_every, cfg.epochs * per_epoch // 10))  # >= 10 points a curve
    steps: list[int] = []
    losses: list[float] = []
    window: list[float] = []

    def on_step(step: int, loss: torch.Tensor) -> None:
        window.append(loss.item())
        if len(window) == every:
            steps.append(step)
            losses.append(float(np.mean(window)) if np.isfinite(window).all() else math.nan)
            window.clear()

    task = _StudyRun(run_cfg, data)
    r = fit(task, run_cfg, console=Console(quiet=True), on_step=on_step)
    row = RunRow(model=model_name, scheme=scheme, seed=seed, val_acc=r.test["val_acc"],
                 val_loss=r.test["val_loss"], steps=steps, losses=losses,
                 seconds=r.train_time_s)  # fmt: skip
    return row, task.start


def run(
    cfg: InitStudyConfig,
    data: ImageData | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> InitStudyResult:
    """Train every model x scheme x seed; return losses, accuracies and start statistics."""
    if data is None:
        data = load_dataset(
            cfg.data, val_fraction=cfg.val_fraction, train_limit=cfg.train_limit, seed=0
        )
    for name in cfg.models:  # unknown models fail before any training
        create_model(name, data.input_shape[0], data.num_classes, data.input_shape[1:])
    result = InitStudyResult(
        config=asdict(cfg), data_source=data.source, chance=1.0 / data.num_classes
    )
    with tempfile.TemporaryDirectory() as runs_dir:  # the engine's run folders, not kept
        for name in cfg.models:
            result.start[name] = {}
            for scheme in cfg.scheme_list:
                for seed in range(cfg.seeds):
                    row, start = _train_one(cfg, data, name, scheme, seed, runs_dir)
                    result.runs.append(row)
                    if seed == 0:
                        result.start[name][scheme] = start
                    log(
                        f"{name:10s} {scheme:18s} seed {seed}: val acc {row.val_acc:6.1%}  "
                        f"loss {row.val_loss:.3f}  ({row.seconds:.1f} s)"
                    )
    return result


def run_with_data_line(
    cfg: InitStudyConfig, log: Callable[[str], None] = lambda s: None
) -> InitStudyResult:
    """`run` on the config's data, saying first which data it is (what `cnnlab study init`
    does)."""
    data = load_dataset(cfg.data, val_fraction=cfg.val_fraction, train_limit=cfg.train_limit,
                        seed=0)  # fmt: skip
    log(f"data: {data.source}")
    return run(cfg, data=data, log=log)
