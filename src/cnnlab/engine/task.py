"""What the engine asks of a task, and the defaults most tasks keep.

A task owns its data, its model and its numbers; the engine owns the loop. The engine calls,
in this order: `setup(ctx)` (after the processes are launched: read the data, check the
options), `build_model()`, `meta(model)`, then per epoch `train_batches(epoch)` with
`step(model, batch, "train")`, and `val_batches()` with `step(model, batch, "val")`; per-epoch
sums of the step's statistics (over every process) go through `summarize`; at the end, on the
first process only, `finish(folder, best_model, result)` tests the best model and writes the
results, figures and report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

Batch = Any  # what a task's batches are is the task's business: usually (inputs, targets)


@dataclass
class Context:
    """Where the task runs: its process among `world`, the device, and the memory format the
    engine chose for image batches (channels-last for convolutions on the CPU)."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    channels_last: bool = False
    log: Callable[[str], None] = print

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """An image batch in the memory format the engine chose (4-D batches only)."""
        if self.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x


def stride(indices: torch.Tensor, batch_size: int, ctx: Context, drop_last: bool = True):
    """Split `indices` into batches and give this process every world-th one.

    Training (drop_last=True): the ragged last batch goes, unless it is the only one (tiny
    data), and every process gets the same number of batches (an unequal count makes DDP's
    gradient exchange wait forever). Evaluation (drop_last=False): every index is used once,
    and a process may get one batch fewer (no collective runs per batch there).
    Shapes: indices (N,) -> an iterator of (<= batch_size,) index tensors."""
    count = _batch_count(len(indices), batch_size, ctx.world, drop_last)
    for i in range(ctx.rank, count, ctx.world):
        yield indices[i * batch_size : (i + 1) * batch_size]


def num_batches(n: int, batch_size: int, ctx: Context) -> int:
    """How many training batches `stride` gives each process."""
    return _batch_count(n, batch_size, ctx.world, True) // ctx.world


def _batch_count(n: int, batch_size: int, world: int, drop_last: bool) -> int:
    """Batches over all processes: without the ragged last one (unless it is the only one)
    and trimmed to a multiple of `world` when drop_last; every one otherwise."""
    if not drop_last:
        return -(-n // batch_size)
    count = n // batch_size if n > batch_size else -(-n // batch_size)
    return count - count % world


class Task:
    """The base of every task: override what your task does differently.

    Class attributes every task sets: `name` (its key in TASKS and in model.json), `command`
    (its CLI command), `help` (one line for `cnnlab --help`), `config_cls` (its frozen config
    dataclass, a LoopConfig: the CLI's options, saved as config.yaml) and `data_type`. An
    instance holds `cfg` and, after setup, `run_name` (the default run folder name).
    """

    name = "task"
    command = "train"
    help = ""
    config_cls: type = object  # the task's frozen config dataclass (a LoopConfig)
    data_type: type | None = None  # data already in memory that the task accepts
    run_name = "run"
    cfg: Any = None
    ctx: Context = Context()
    # True: the task's command is written by hand (it needs more than its config: transfer's
    # backbone and diagnosis), so cli/tasks.py does not generate one
    own_command = False
    # which epoch's model the run keeps: the best (lowest val/<monitor>, else train/<monitor>)
    # or the last; monitor: the metric that decides (a locate run keeps its best position error,
    # not its best loss, which also counts the yaw)
    keep = "best"
    monitor = "loss"
    # whether the task's image batches come channels-last when ctx.channels_last asks for it
    # (the engine then converts the model too: measured faster for convolutions on the CPU)
    channels_last = False
    # a NaN or infinite loss stops the run (DivergedError); a study that measures divergence
    # itself (the init study: some schemes are meant to blow up) turns this off
    stop_on_divergence = True

    def setup(self, ctx: Context) -> None:
        """Read the data and check the options; runs in every process after the launch."""
        self.ctx = ctx

    def build_model(self) -> nn.Module:
        raise NotImplementedError

    def meta(self, model: nn.Module) -> Any:
        """The run's ModelMeta: what it takes to rebuild and feed the model."""
        raise NotImplementedError

    def describe(self, model: nn.Module) -> str:
        """The end of the run line, e.g. "1000 train / 100 val images"."""
        return ""

    def param_groups(self, model: nn.Module) -> list[dict[str, Any]] | None:
        """Optimizer parameter groups (each may carry its own "lr"), or None for the engine's
        default: every trainable parameter, no weight decay on biases and norms."""
        return None

    def num_train_batches(self) -> int:
        raise NotImplementedError

    def train_batches(self, epoch: int) -> Iterator[Batch]:
        """This process's batches of `epoch`; the order depends only on (seed, epoch), so a
        resumed run sees exactly the batches of an uninterrupted one."""
        raise NotImplementedError

    def val_batches(self) -> Iterator[Batch]:
        """This process's validation batches (none: no val/ metrics, the train loss picks the
        best epoch)."""
        return iter(())

    def step(
        self, model: nn.Module, batch: Batch, stage: str
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss to minimize (a mean over the batch) and statistics summed over the batch,
        with "n" the batch's size: {"n": B, "loss": loss * B, ...}. Stage is train or val."""
        raise NotImplementedError

    def summarize(self, stage: str, sums: dict[str, torch.Tensor]) -> dict[str, float]:
        """Epoch metrics named stage/name from the summed statistics of every process; the
        default divides each sum by n."""
        n = float(sums.get("n", 0))
        if n == 0:
            return {}
        return {f"{stage}/{k}": float(v) / n for k, v in sums.items() if k != "n"}

    def epoch_line(self, row: dict[str, float], epochs: int) -> str:
        parts = [f"epoch {int(row['epoch'])}/{epochs}"]
        parts += [f"{k} {v:.4g}" for k, v in row.items() if "/" in k]
        parts.append(f"{row['img_per_s']:,.0f} img/s  {row['time']:.1f} s")
        return "  ".join(parts)

    @staticmethod
    def summary(result: Any) -> list[Any]:
        """What the command line prints after a finished run: lines (str) and tables as
        (title, headers, rows)."""
        return []

    @classmethod
    def predict(cls, run: Path, files: list[str], **options: Any) -> list[str]:
        """Apply the run's model to files; the lines `cnnlab predict` prints."""
        from cnnlab.core.errors import ConfigError

        raise ConfigError(f"{run} is a {cls.name} run; `cnnlab predict` takes classifier and "
                          "segmentation runs")  # fmt: skip

    @staticmethod
    def report(folder: Path) -> Path:
        """(Re)write folder/report.html from the run folder's files; returns its path."""
        raise NotImplementedError

    def state_dict(self) -> Any:
        """What the task itself must keep for --resume beyond the model and the optimizer
        (an agent's replay memory and environments); None: nothing. Saved in state.pt."""
        return None

    def load_state_dict(self, state: Any) -> None:
        """Take back what state_dict gave, on --resume (after build_model)."""

    def finish(self, folder: Path, model: nn.Module, result: Any) -> Any:
        """Test the best model; write results.json, figures and report.html. Returns the test
        metrics (first process only)."""
        return None


def label_step(
    model: nn.Module, batch: Batch, stage: str, label_smoothing: float = 0.0
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The step of a task with one label per input (images, texts): cross-entropy, with label
    smoothing only while training, and the summed loss and correct answers of the batch."""
    x, y = batch
    logits = model(x).float()
    smoothing = label_smoothing if stage == "train" else 0.0
    loss = torch.nn.functional.cross_entropy(logits, y, label_smoothing=smoothing)
    n = len(y)
    return loss, {"n": n, "loss": loss.detach() * n, "acc": (logits.argmax(1) == y).sum()}


def first_process() -> bool:
    """Whether this process is the first of its run, read from the launcher's environment
    (Lightning's and torchrun's RANK, LOCAL_RANK, NODE_RANK): code that runs before the engine
    launches its processes uses it to print once."""
    return all(os.environ.get(k, "0") == "0" for k in ("RANK", "LOCAL_RANK", "NODE_RANK"))
