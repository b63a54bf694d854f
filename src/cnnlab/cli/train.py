"""cnnlab train: train a classifier into a run folder, or resume one."""

from __future__ import annotations

from typing import Any

from cnnlab.cli.common import config_from, console, given, parser_for
from cnnlab.tasks.classify import TrainConfig
from cnnlab.tasks.classify import train as train_api

RESUMABLE = ("epochs", "progress", "devices", "num_nodes", "strategy", "accelerator", "patience")


def register(sub: Any) -> dict:
    p = parser_for(TrainConfig, "train a classifier; writes runs/<name>/ (see docs/training.md)")
    p.add_argument(
        "--resume",
        type=str | None,
        default=None,
        help="continue the run folder RUN (its config; --epochs may extend it)",
    )
    p.add_argument(
        "--stop_after",
        type=int | None,
        default=None,
        help="pause after this many epochs of this call; --resume continues",
    )
    sub.add_subcommand("train", p, help="train a classifier (MLP, CNN, VGG, ResNet)")
    return {"train": run}


def run(ns: Any) -> int:
    if ns.resume:
        # the saved config rules; only options typed now override it
        overrides = {k: v for k, v in ns.as_dict().items() if k in RESUMABLE and given(k)}
        result = train_api(resume=ns.resume, stop_after=ns.stop_after, console=console, **overrides)
    else:
        cfg = config_from(ns, TrainConfig)
        result = train_api(cfg, stop_after=ns.stop_after, console=console)
    return 0 if result is not None else 1
