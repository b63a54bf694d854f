"""The one training loop, on Lightning Fabric (devices, precision, DDP, several machines).

Read it top to bottom: `fit` launches the processes, lets the task read its data and build
its model, restores a run to resume, then trains epoch after epoch with a one-cycle schedule
(driven by the step count, or by the clock under a time budget), validates, keeps the best
model and a resume checkpoint after every epoch, and at the end hands the best model back to
the task to test and report. What a batch is, the loss and the metrics are the task's
(engine/task.py); the loop knows nothing of images, masks or text.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import nn

from cnnlab.core.config import make_config
from cnnlab.core.errors import ConfigError, RunError, first_line
from cnnlab.core.io import find_run, read_config, remove_stale_temps
from cnnlab.engine import runs
from cnnlab.engine.allocator import keep_freed_memory
from cnnlab.engine.config import LoopConfig
from cnnlab.engine.divergence import check_epoch, check_step
from cnnlab.engine.optim import make_optimizer
from cnnlab.engine.progress import epoch_progress
from cnnlab.engine.schedule import one_cycle_lr, one_cycle_lr_at_step, resolve_precision
from cnnlab.engine.task import Context, Task
from cnnlab.models import count_parameters


@dataclass
class FitResult:
    """What `fit` returns. `model` is the best epoch's model on the first process (the last
    state elsewhere, or when paused); `test` is the task's test metrics, None when paused or
    when a resumed run had no epoch left to train (stopped "finished")."""

    folder: Path
    model: nn.Module
    meta: Any
    history: list[dict[str, float]]
    best_epoch: int
    train_time_s: float
    stopped: str = ""
    test: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def paused(self) -> bool:
        return self.stopped == "paused"


def make_fabric(cfg: LoopConfig):
    """A Lightning Fabric for the config's accelerator, devices, nodes, strategy, precision."""
    from cnnlab.engine.fabric import LOGGERS, fabric_class

    Fabric = fabric_class()  # noqa: N806
    # Lightning's info lines ("Using bfloat16 Automatic Mixed Precision") go to stderr; the
    # run line names the precision, and a bad-input error must stay one line
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    accelerator = cfg.accelerator
    if accelerator == "auto":
        accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    return Fabric(
        accelerator=accelerator,
        devices=cfg.devices,
        num_nodes=cfg.num_nodes,
        strategy=cfg.strategy,
        precision=resolve_precision(cfg.precision, accelerator),  # type: ignore[arg-type]
    )


def train_task(
    task_cls: type[Task],
    config: Any = None,
    *,
    data: Any = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    console: Console | None = None,
    **overrides: Any,
) -> FitResult:
    """The Python face every task shares: build the task's config from `config` (a config,
    a dict or None) and keyword overrides, or from the run folder `resume` (its saved
    config, with overrides such as a larger `epochs`), then `fit`. `data` is a name or a
    folder (the config's `data`), or data already in memory (of task_cls.data_type)."""
    loaded = (
        data if task_cls.data_type is not None and isinstance(data, task_cls.data_type) else None
    )
    if data is not None and loaded is None:
        overrides["data"] = str(data)
    elif loaded is not None:
        overrides.setdefault("data", getattr(loaded, "origin", "") or loaded.name)
    if resume is not None:
        resume = find_run(resume)  # a path, or last / last:PREFIX under runs/
        config = read_config(Path(resume))
        meta = runs.read_meta(Path(resume))  # a folder without a finished epoch fails here
        if meta.task != task_cls.name:
            raise RunError(f"{resume} is a {meta.task} run, not a {task_cls.name} run; "
                           f"--resume needs a run of `cnnlab {task_cls.command}`")  # fmt: skip
    cfg = make_config(task_cls.config_cls, config, task_cls.name, **overrides)
    return fit(task_cls(cfg, loaded), cfg, resume=resume, console=console, stop_after=stop_after)


def fit(
    task: Task,
    cfg: LoopConfig,
    *,
    runs_dir: str | Path | None = None,
    resume: str | Path | None = None,
    console: Console | None = None,
    stop_after: int | None = None,
    on_step: Any = None,
) -> FitResult:
    """Train `task`'s model into a run folder and keep it up to date after every epoch.

    A new run gets runs_dir (default cfg.runs_dir)/<task.run_name> (name-2, ... if taken) with
    config.yaml from task.cfg; `resume` continues the run folder RUN from its state.pt.
    `stop_after` pauses after that many epochs of this call; `on_step(step, loss)` is called
    after every training step (a study's per-step curve). A new run that fails before its
    first epoch ends is removed.
    """
    keep_freed_memory()  # measured: 8-17 % faster CPU steps (engine/allocator.py)
    console = console or Console(soft_wrap=True)
    fabric = make_fabric(cfg)
    fabric.launch()
    if fabric.device.type == "cpu" and fabric.world_size > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 2) // cfg.devices))

    def log(msg: str) -> None:
        if fabric.is_global_zero:
            console.print(msg, highlight=False)

    ctx = Context(fabric.global_rank, fabric.world_size, fabric.device, log=log)
    task.setup(ctx)
    model = task.build_model()
    ctx.channels_last = task.channels_last and fabric.device.type == "cpu" and _uses_conv2d(model)
    if ctx.channels_last:
        model = model.to(memory_format=torch.channels_last)
    meta = task.meta(model)
    opt = make_optimizer(model, cfg, task.param_groups(model))
    state: dict[str, Any] = {"epoch": 0, "step": 0, "history": [], "best": float("inf"),
                             "best_epoch": 0, "bad_epochs": 0, "elapsed": 0.0}  # fmt: skip
    if resume is not None:
        task.load_state_dict(_restore(Path(resume), model, opt, state))
        if state["epoch"] >= cfg.epochs:  # nothing left to train: say so, change nothing
            log(f"{resume} has already run its {state['epoch']} epoch(s), nothing to do; to "
                f"train it further: cnnlab {task.command} --resume {resume} --epochs "
                f"{state['epoch'] + max(1, state['epoch'] // 2)}")  # fmt: skip
            kept = runs.load_model(Path(resume))[0] if task.keep == "best" else model
            return FitResult(Path(resume), kept, meta, state["history"], state["best_epoch"],
                             state["elapsed"], "finished")  # fmt: skip
    model, opt = fabric.setup(model, opt)
    n_batches = task.num_train_batches()
    if n_batches == 0:
        raise ConfigError("the training split gives no batch; lower --batch_size or add data")
    runs_dir = runs_dir if runs_dir is not None else getattr(cfg, "runs_dir", "runs")
    folder, fresh = _run_folder(fabric, task, runs_dir, resume)
    if fabric.is_global_zero:
        runs.mark_running(folder)
    tb = runs.tensorboard_writer(folder) if fabric.is_global_zero else None
    about = task.describe(model)
    log(f"run: {folder}  model {task.cfg.model} ({count_parameters(model):,} parameters)"
        f"{', ' + about if about else ''}, {_precision_words(cfg, fabric)}"
        f"{_processes(fabric)}")  # fmt: skip
    stopped, this_call = "", 0
    clock = time.perf_counter() - state["elapsed"]
    try:
        with epoch_progress(console, cfg.progress and fabric.is_global_zero) as progress:
            for epoch in range(state["epoch"], cfg.epochs):
                row, stopped, speed = _train_epoch(
                    fabric, task, model, opt, cfg, state, epoch, n_batches, clock, this_call,
                    progress, on_step)  # fmt: skip
                if row is None:
                    break
                row.update(_validate(fabric, task, model))
                check_epoch(task, row, state)
                row["time"] = round(time.perf_counter() - clock, 3)
                row["img_per_s"] = speed
                state["history"].append(row)
                state["epoch"], state["elapsed"] = epoch + 1, time.perf_counter() - clock
                improved = task.keep == "last" or _score(row, task.monitor) < state["best"]
                if improved:
                    state["best"], state["bad_epochs"], state["best_epoch"] = (
                        _score(row, task.monitor), 0, epoch + 1)  # fmt: skip
                else:
                    state["bad_epochs"] += 1
                if fabric.is_global_zero:
                    extra = task.state_dict()
                    saved = state if extra is None else {**state, "task": extra}
                    runs.checkpoint(folder, _raw(model), opt, meta, saved, improved, tb, row)
                log(task.epoch_line(row, cfg.epochs))
                this_call += 1
                stopped = stopped or _stop_reason(cfg, state, this_call, stop_after, task.monitor)
                if stopped:
                    break
    except BaseException:
        if fresh and not (folder / "state.pt").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a run without an epoch leaves nothing
        raise
    finally:
        if tb is not None:
            tb.close()
        if fabric.is_global_zero:
            runs.clear_running(folder)
    fabric.barrier()
    result = FitResult(folder, _raw(model), meta, state["history"], state["best_epoch"],
                       state["elapsed"], stopped)  # fmt: skip
    if stopped == "paused" and state["epoch"] < cfg.epochs:
        log(f"paused after epoch {state['epoch']}; continue with: "
            f"cnnlab {task.command} --resume {folder}")  # fmt: skip
        return result
    if stopped and stopped != "paused":
        log(stopped)
    if fabric.is_global_zero and task.keep == "best":
        result.model, _ = runs.load_model(folder)
        if ctx.channels_last:
            result.model = result.model.to(memory_format=torch.channels_last)
    if fabric.is_global_zero:
        result.test = task.finish(folder, result.model, result)
    fabric.barrier()
    return result


def _train_epoch(fabric, task, model, opt, cfg, state, epoch, n_batches, clock, this_call,
                 progress, on_step) -> tuple[dict[str, float] | None, str, float]:  # fmt: skip
    """One pass over this process's training batches; the row of train/ metrics (None when
    the time budget ended the run before a step of this epoch), the stop reason, images/s."""
    model.train()
    total = cfg.epochs * n_batches
    bar = progress.add_task("", total=n_batches, epoch=f"{epoch + 1}/{cfg.epochs}",
                            loss=float("nan"), speed=0.0)  # fmt: skip
    t0, seen, sums, stopped, lr = time.perf_counter(), 0, {}, "", cfg.lr
    for i, batch in enumerate(task.train_batches(epoch)):
        elapsed = time.perf_counter() - clock
        if cfg.max_time:
            # every call trains at least one step, so a run always has an epoch
            if elapsed >= cfg.max_time and (seen or this_call):
                stopped = f"time budget of {cfg.max_time:g} s used"
                break
            lr = one_cycle_lr(max(state["step"] / total, elapsed / cfg.max_time), cfg.lr)
        else:
            lr = one_cycle_lr_at_step(state["step"], total, cfg.lr)
        if cfg.schedule == "constant":
            lr = cfg.lr
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)
        loss, stats = task.step(model, _to_device(fabric, batch), "train")
        check_step(fabric, task, loss, state, epoch, i, lr)
        opt.zero_grad(set_to_none=True)
        fabric.backward(loss)
        opt.step()
        state["step"] += 1
        _add(sums, stats)
        seen += int(stats["n"])
        if on_step is not None:
            on_step(state["step"], loss.detach())
        if i % 10 == 0:
            speed = seen * fabric.world_size / (time.perf_counter() - t0)
            progress.update(bar, completed=i + 1, loss=float(loss.detach()), speed=speed)
    progress.remove_task(bar)
    if seen == 0:
        return None, stopped, 0.0
    speed = round(seen * fabric.world_size / (time.perf_counter() - t0), 1)
    row: dict[str, float] = {"epoch": epoch + 1}
    row.update(task.summarize("train", _all_sum(fabric, sums)))
    row["lr"] = lr
    return row, stopped, speed


@torch.no_grad()
def _validate(fabric, task: Task, model: nn.Module) -> dict[str, float]:
    """val/ metrics over every process's validation batches ({} without a validation split)."""
    raw = _raw(model).eval()  # not DDP's forward: no collective per validation batch
    sums: dict[str, torch.Tensor] = {}
    with fabric.autocast():
        for batch in task.val_batches():
            _add(sums, task.step(raw, _to_device(fabric, batch), "val")[1])
    model.train()
    sums = _all_sum(fabric, sums)
    return task.summarize("val", sums) if sums else {}


def _add(sums: dict[str, Any], stats: dict[str, Any]) -> None:
    """Accumulate a step's statistics: tensors stay tensors (no sync with the device per
    step), plain numbers stay numbers."""
    for k, v in stats.items():
        v = v.detach() if isinstance(v, torch.Tensor) else float(v)
        sums[k] = sums[k] + v if k in sums else v


def _to_device(fabric, batch: Any) -> Any:
    """The batch on the engine's device (on the CPU it is there already: no per-step walk)."""
    return batch if fabric.device.type == "cpu" else fabric.to_device(batch)


def _all_sum(fabric, sums: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The per-key sum over every process (a process may have no batch, and so no keys)."""
    local = {k: torch.as_tensor(v).detach().float().cpu() for k, v in sums.items()}
    if fabric.world_size == 1:
        return local
    import torch.distributed as dist

    gathered: list[Any] = [None] * fabric.world_size
    dist.all_gather_object(gathered, local)
    out: dict[str, torch.Tensor] = {}
    for part in gathered:
        for k, v in part.items():
            out[k] = out[k] + v if k in out else v
    return out


def _score(row: dict[str, float], monitor: str = "loss") -> float:
    """What picks the best epoch: val/<monitor> (lower is better), else train/<monitor>."""
    return row.get(f"val/{monitor}", row.get(f"train/{monitor}", float("inf")))


def _stop_reason(cfg: LoopConfig, state: dict[str, Any], this_call: int, stop_after,
                 monitor: str = "loss") -> str:  # fmt: skip
    if cfg.patience and state["bad_epochs"] >= cfg.patience:
        return f"early stop: val/{monitor} did not improve for {cfg.patience} epochs"
    if stop_after is not None and this_call >= stop_after:
        return "paused"
    return ""


def _restore(folder: Path, model: nn.Module, opt, state: dict[str, Any]) -> Any:
    """Load state.pt into the model, the optimizer and `state`; returns the task's own part."""
    saved = runs.load_state(folder)
    try:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        msg = first_line(exc)
        raise RunError(f"{folder}/state.pt does not fit this model ({msg})") from None
    torch.set_rng_state(saved["rng"])
    state.update({k: saved[k] for k in state if k in saved})
    return saved.get("task")


def _run_folder(fabric, task: Task, runs_dir, resume) -> tuple[Path, bool]:
    """The run folder (made by the first process, then shared) and whether it is new; its
    config.yaml is written now, so a resumed run's config says what it runs to."""
    folder: Path | None = Path(resume) if resume is not None else None
    if fabric.is_global_zero:
        if folder is None:
            folder = runs.new_run_folder(runs_dir, task.run_name)
        else:  # a resumed run: what a killed write left behind goes
            remove_stale_temps(folder)
        runs.write_config(folder, task.cfg.to_dict())
    return Path(fabric.broadcast(str(folder))), resume is None and fabric.is_global_zero


def _raw(model: nn.Module) -> nn.Module:
    """The user's module inside Fabric's (and DDP's) wrappers."""
    return model.module if hasattr(model, "module") else model


def _uses_conv2d(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def _precision_words(cfg: LoopConfig, fabric) -> str:
    """The precision of the run line, in words, and why `auto` chose it."""
    chosen = resolve_precision(cfg.precision, fabric.device.type)
    words = {"bf16-mixed": "matrix products in bfloat16, weights and sums in float32",
             "32-true": "float32 throughout"}.get(chosen, chosen)  # fmt: skip
    if cfg.precision == "auto" and fabric.device.type == "cpu":
        from cnnlab.engine.precision import auto_reason

        words += f"; auto chose it: {auto_reason()}"
    return f"precision {chosen} ({words})"


def _processes(fabric) -> str:
    n = fabric.world_size
    if n == 1:
        return ""
    return (f", {n} processes under DDP (each takes every {n}th batch of an epoch; their "
            f"gradients are averaged, so one step learns from {n} batches)")  # fmt: skip
