"""The training loop: short and readable, on Lightning Fabric for devices, precision and
multi-process training. One `step(batch, stage)` serves train and validation."""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console
from torch import nn

from cnnlab.data import Augment, BatchLoader, ImageData, default_augment, load_dataset
from cnnlab.errors import ConfigError, RunError
from cnnlab.models import Classifier, count_parameters
from cnnlab.nn.init import init_weights, parse_init
from cnnlab.train import runs
from cnnlab.train.config import TrainConfig
from cnnlab.train.evaluate import EvalResult
from cnnlab.train.progress import epoch_progress
from cnnlab.train.results import write_results
from cnnlab.train.schedule import one_cycle_lr, one_cycle_lr_at_step, resolve_precision
from cnnlab.train.task_loop import (
    build_for_input,
    checkpoint,
    make_optimizer,
    tensorboard_writer,
)


@dataclass
class TrainResult:
    """What a finished (or paused) run returns. `test` is None when the run was paused."""

    run_dir: Path
    model: Classifier
    meta: runs.ModelMeta
    history: list[dict[str, float]]
    test: EvalResult | None = None
    train_time_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _build_model(cfg: TrainConfig, data: ImageData) -> Classifier:
    shape = data.input_shape
    return build_for_input("classify", cfg.model, shape, data.num_classes, cfg.model_args)  # type: ignore[return-value]


def _uses_conv(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


class Trainer:
    """Runs one training: set-up, epochs, checkpoints, the final test and the report."""

    def __init__(self, cfg: TrainConfig, console: Console | None = None) -> None:
        from lightning.fabric import Fabric

        # Lightning's info lines ("Using bfloat16 Automatic Mixed Precision") go to stderr; the
        # run line below names the precision, and a bad-input error must stay one line
        for name in ("lightning", "lightning.fabric", "lightning.pytorch"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.cfg = cfg
        accelerator = cfg.accelerator
        if accelerator == "auto":
            accelerator = "cuda" if torch.cuda.is_available() else "cpu"
        self.fabric = Fabric(
            accelerator=accelerator,
            devices=cfg.devices,
            num_nodes=cfg.num_nodes,
            strategy=cfg.strategy,
            precision=resolve_precision(cfg.precision, accelerator),  # type: ignore[arg-type]
        )
        self.accelerator = accelerator
        self.precision = resolve_precision(cfg.precision, accelerator)
        self.console = console or Console(soft_wrap=True)

    def _why_precision(self) -> str:
        if self.cfg.precision != "auto" or self.accelerator != "cpu":
            return ""
        from cnnlab.train.precision import auto_reason

        return f" ({auto_reason()})"

    def log(self, msg: str) -> None:
        if self.fabric.is_global_zero:
            self.console.print(msg, highlight=False)

    def step(self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor], stage: str):
        """Loss and logits of one batch; label smoothing only while training."""
        x, y = batch
        logits = model(x)
        smoothing = self.cfg.label_smoothing if stage == "train" else 0.0
        loss = F.cross_entropy(logits.float(), y, label_smoothing=smoothing)
        return loss, logits

    def fit(
        self,
        data: ImageData | None = None,
        resume: str | Path | None = None,
        stop_after: int | None = None,
    ) -> TrainResult:
        cfg, fabric = self.cfg, self.fabric
        fabric.launch()
        if self.accelerator == "cpu" and fabric.world_size > 1:
            torch.set_num_threads(max(1, (os.cpu_count() or 2) // cfg.devices))
        t_start = time.perf_counter()
        from cnnlab.models import MODELS

        MODELS.get(cfg.model)  # an unknown name fails before the data is read
        if data is None:
            data = load_dataset(
                cfg.data,
                val_fraction=cfg.val_fraction,
                train_limit=cfg.train_limit,
                image_size=cfg.image_size,
                seed=cfg.seed,
            )
            self.log(f"data: {data.source}")
        torch.manual_seed(cfg.seed)
        model = _build_model(cfg, data)
        _apply_init(model, cfg.init)
        augment = Augment.parse(default_augment(cfg.data) if cfg.augment == "auto" else cfg.augment)
        channels_last = self.accelerator == "cpu" and _uses_conv(model)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        opt = make_optimizer(model, cfg)  # type: ignore[arg-type]
        state: dict[str, Any] = {
            "epoch": 0,
            "step": 0,
            "history": [],
            "best": float("inf"),
            "bad_epochs": 0,
            "elapsed": 0.0,
        }
        folder: Path | None = None
        if resume is not None:
            folder = Path(resume)
            saved = runs.load_state(folder)
            try:
                model.load_state_dict(saved["model"])
                opt.load_state_dict(saved["optimizer"])
            except (RuntimeError, ValueError, KeyError) as exc:
                msg = str(exc).strip().splitlines()[0][:120]
                raise RunError(f"{folder}/state.pt does not fit this model ({msg})") from None
            torch.set_rng_state(saved["rng"])
            state.update({k: saved[k] for k in (*state, "best_epoch") if k in saved})
        meta = runs.ModelMeta(
            model=cfg.model,
            config=dict(cfg.model_args),
            in_channels=data.input_shape[0],
            num_classes=data.num_classes,
            input_size=tuple(data.input_shape[1:]),
            classes=list(data.classes),
            mean=data.mean,
            std=data.std,
            data=data.source,
        )
        train = BatchLoader(
            data.train_x,
            data.train_y,
            cfg.batch_size,
            data.mean,
            data.std,
            shuffle=True,
            augment=augment,
            seed=cfg.seed,
            drop_last=len(data.train_y) > cfg.batch_size,
            rank=fabric.global_rank,
            world_size=fabric.world_size,
            channels_last=channels_last,
        )
        if len(train) == 0:
            raise ConfigError(f"batch_size {cfg.batch_size} leaves no batch; lower it")
        model, opt = fabric.setup(model, opt)
        fresh: Path | None = None
        if fabric.is_global_zero and folder is None:
            fresh = folder = runs.new_run_folder(
                cfg.runs_dir, cfg.name or f"{cfg.model}-{data.name}"
            )
            runs.write_config(folder, cfg.to_dict())
        folder = Path(fabric.broadcast(str(folder)))
        total_steps = cfg.epochs * len(train)
        tb = tensorboard_writer(folder) if fabric.is_global_zero else None
        self.log(
            f"run: {folder}  model {cfg.model} ({count_parameters(model):,} parameters), "
            f"{len(data.train_y)} train / {len(data.val_y)} val images, "
            f"precision {self.precision}{self._why_precision()}"
        )
        clock = time.perf_counter() - state["elapsed"]
        stopped, epochs_this_call = "", 0
        progress = epoch_progress(self.console, cfg.progress and fabric.is_global_zero)
        try:
            with progress:
                for epoch in range(state["epoch"], cfg.epochs):
                    model.train()
                    task = progress.add_task(
                        "",
                        total=len(train),
                        epoch=f"{epoch + 1}/{cfg.epochs}",
                        loss=float("nan"),
                        speed=0.0,
                    )
                    t0, seen, loss_sum, correct = time.perf_counter(), 0, torch.zeros(()), 0
                    for i, batch in enumerate(train.epoch(epoch)):
                        elapsed = time.perf_counter() - clock
                        if cfg.max_time:
                            # every call trains at least one step, so a run always has an epoch
                            if elapsed >= cfg.max_time and (seen or epochs_this_call):
                                stopped = f"time budget of {cfg.max_time:g} s used"
                                break
                            p = max(state["step"] / total_steps, elapsed / cfg.max_time)
                            lr = one_cycle_lr(p, cfg.lr)
                        else:
                            lr = one_cycle_lr_at_step(state["step"], total_steps, cfg.lr)
                        for g in opt.param_groups:
                            g["lr"] = lr
                        loss, logits = self.step(model, batch, "train")
                        opt.zero_grad(set_to_none=True)
                        fabric.backward(loss)
                        opt.step()
                        state["step"] += 1
                        n = len(batch[1])
                        seen += n
                        loss_sum += loss.detach() * n
                        correct += int((logits.argmax(1) == batch[1]).sum())
                        if i % 10 == 0:
                            speed = seen * fabric.world_size / (time.perf_counter() - t0)
                            progress.update(
                                task, completed=i + 1, loss=float(loss.detach()), speed=speed
                            )
                    progress.remove_task(task)
                    if seen == 0:
                        break
                    speed = seen * fabric.world_size / (time.perf_counter() - t0)
                    row = {
                        "epoch": epoch + 1,
                        "train/loss": float(loss_sum) / seen,
                        "train/acc": correct / seen,
                        "lr": lr,
                    }
                    row.update(self._validate(model, data, channels_last))
                    row["time"] = round(time.perf_counter() - clock, 3)
                    row["img_per_s"] = round(speed, 1)
                    state["history"].append(row)
                    state["epoch"] = epoch + 1
                    state["elapsed"] = time.perf_counter() - clock
                    improved = row.get("val/loss", -epoch) < state["best"]
                    if improved:
                        state["best"], state["bad_epochs"] = row.get("val/loss", -epoch), 0
                        state["best_epoch"] = epoch + 1
                    else:
                        state["bad_epochs"] += 1
                    self._checkpoint(folder, model, opt, meta, state, improved, tb, row)
                    self.log(_epoch_line(row, cfg.epochs))
                    epochs_this_call += 1
                    if stopped:
                        break
                    if cfg.patience and state["bad_epochs"] >= cfg.patience:
                        stopped = f"early stop: val/loss did not improve for {cfg.patience} epochs"
                        break
                    if stop_after is not None and epochs_this_call >= stop_after:
                        stopped = "paused"
                        break
        except BaseException:
            # a run that never completed an epoch leaves nothing behind
            if fresh is not None and not (fresh / "state.pt").exists():
                shutil.rmtree(fresh, ignore_errors=True)
            raise
        if tb is not None:
            tb.close()
        fabric.barrier()
        train_time = state["elapsed"]
        raw = model.module if hasattr(model, "module") else model
        if stopped and stopped != "paused":
            self.log(stopped)
        if stopped == "paused" and state["epoch"] < cfg.epochs:
            self.log(
                f"paused after epoch {state['epoch']}; continue with: "
                f"cnnlab train --resume {folder}"
            )
            return TrainResult(folder, raw, meta, state["history"], None, train_time)
        best, _ = runs.load_model(folder) if fabric.is_global_zero else (raw, None)
        if channels_last:
            best = best.to(memory_format=torch.channels_last)
        result = TrainResult(folder, best, meta, state["history"], None, train_time)
        if fabric.is_global_zero:
            result.test = write_results(
                folder, best, data, meta, state, train_time, cfg.tta, channels_last
            )
            self.log(
                f"test accuracy {result.test.accuracy:.2%}  ({time.perf_counter() - t_start:.1f} s)"
                f"  report: {folder / 'report.html'}"
            )
        fabric.barrier()
        return result

    def _validate(self, model: nn.Module, data: ImageData, channels_last: bool) -> dict[str, float]:
        if len(data.val_y) == 0:
            return {}
        fabric = self.fabric
        r, ws = fabric.global_rank, fabric.world_size
        x, y = data.val_x[r::ws], data.val_y[r::ws]
        stats = torch.zeros(3)
        if len(y):
            from cnnlab.train.evaluate import predict_logits

            logits = predict_logits(model, x, data.mean, data.std, channels_last=channels_last)
            stats = torch.tensor(
                [
                    F.cross_entropy(logits, y, reduction="sum").item(),
                    float((logits.argmax(1) == y).sum()),
                    float(len(y)),
                ]
            )
        if ws > 1:
            stats = fabric.all_reduce(stats, reduce_op="sum")
        return {"val/loss": float(stats[0] / stats[2]), "val/acc": float(stats[1] / stats[2])}

    def _checkpoint(self, folder, model, opt, meta, state, improved, tb, row) -> None:
        if self.fabric.is_global_zero:
            raw = model.module if hasattr(model, "module") else model
            checkpoint(folder, raw, opt, meta, state, improved, tb, row)


def _epoch_line(row: dict[str, float], epochs: int) -> str:
    parts = [
        f"epoch {int(row['epoch'])}/{epochs}",
        f"train loss {row['train/loss']:.4f} acc {row['train/acc']:.2%}",
    ]
    if "val/loss" in row:
        parts.append(f"val loss {row['val/loss']:.4f} acc {row['val/acc']:.2%}")
    parts.append(f"{row['img_per_s']:,.0f} img/s  {row['time']:.1f} s")
    return "  ".join(parts)


def _apply_init(model: nn.Module, scheme: str) -> None:
    # a fresh model already has PyTorch's default weights; re-drawing them would change the
    # random stream, and with it every earlier run's result
    if parse_init(scheme)[0] != "default":
        init_weights(model, scheme)
