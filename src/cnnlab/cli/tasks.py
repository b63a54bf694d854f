"""One command per registered task (cnnlab train, segment, autoencode, ...), generated from
TASKS: the options are the fields of the task's config dataclass, plus --resume and
--stop_after, and one resume rule for all: the run's config.yaml rules, and only what may change
on resume (RESUMABLE: --epochs, --max_time, --patience, ...) can be typed beside --resume."""

from __future__ import annotations

from functools import partial
from typing import Any

from cnnlab.cli.common import config_from, console, given, parser_for, table
from cnnlab.core.errors import ConfigError
from cnnlab.engine.config import RESUMABLE
from cnnlab.engine.loop import train_task
from cnnlab.tasks import TASKS


def register(sub: Any) -> dict:
    handlers = {}
    for entry in TASKS:
        task = entry.factory
        if task.own_command:
            continue
        p = parser_for(task.config_cls, task.help)
        p.add_argument(
            "--resume", type=str | None, default=None,
            help="continue the run folder RUN (its config; --epochs may extend it, and "
            f"--{', --'.join(RESUMABLE)} may change)",
        )  # fmt: skip
        p.add_argument(
            "--stop_after", type=int | None, default=None,
            help="pause after this many epochs of this call; --resume continues",
        )  # fmt: skip
        sub.add_subcommand(task.command, p, help=task.help.split(";")[0])
        handlers[task.command] = partial(run, task)
    return handlers


def run(task: Any, ns: Any) -> int:
    if ns.resume:
        # the saved config rules; only options typed now override it
        fields = task.config_cls.__dataclass_fields__
        typed = {k: v for k, v in ns.as_dict().items() if k in fields and given(k)}
        fixed = [k for k in typed if k not in RESUMABLE]
        if fixed:
            raise ConfigError(
                f"--{fixed[0]} cannot change on --resume (the run's config.yaml fixes it); "
                f"only --{', --'.join(RESUMABLE)} can, or start a new run with --config "
                f"{ns.resume}/config.yaml --{fixed[0]} ..."
            )
        result = train_task(task, resume=ns.resume, stop_after=ns.stop_after, console=console,
                            **typed)  # fmt: skip
    else:
        cfg = config_from(ns, task.config_cls)
        result = train_task(task, cfg, stop_after=ns.stop_after, console=console)
    for item in task.summary(result) if result.test is not None else []:
        if isinstance(item, tuple):
            title, headers, rows = item
            console.print(table(headers, rows, title=title))
        else:
            console.print(item, highlight=False)
    return 0
