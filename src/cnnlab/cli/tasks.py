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
from cnnlab.tasks import TASKS


def register(sub: Any) -> dict:
    handlers = {}
    for entry in TASKS:  # the entries' facts only: no Task class (nor torch) is imported here
        if entry.facts["own_command"]:
            continue
        p = parser_for(entry.config, entry.help)
        p.add_argument(
            "--resume", type=str | None, default=None,
            help="continue the run folder RUN (its config; --epochs may extend it, and "
            f"--{', --'.join(RESUMABLE)} may change)",
        )  # fmt: skip
        p.add_argument(
            "--stop_after", type=int | None, default=None,
            help="pause after this many epochs of this call; --resume continues",
        )  # fmt: skip
        command = entry.facts["command"]
        sub.add_subcommand(command, p, help=entry.help.split(";")[0])
        handlers[command] = partial(run, entry)
    return handlers


def run(entry: Any, ns: Any) -> int:
    # the options are checked before the Task class (and torch) is imported
    if ns.resume:
        # the saved config rules; only options typed now override it
        fields = entry.config.__dataclass_fields__
        typed = {k: v for k, v in ns.as_dict().items() if k in fields and given(k)}
        fixed = [k for k in typed if k not in RESUMABLE]
        if fixed:
            raise ConfigError(
                f"--{fixed[0]} cannot change on --resume (the run's config.yaml fixes it); "
                f"only --{', --'.join(RESUMABLE)} can, or start a new run with --config "
                f"{ns.resume}/config.yaml --{fixed[0]} ..."
            )
        how: dict[str, Any] = {"resume": ns.resume, **typed}
    else:
        how = {"config": config_from(ns, entry.config)}
        if getattr(ns, "recipe", None):  # its settings, except the options typed beside it
            from dataclasses import asdict

            from cnnlab.tasks.classify.recipes import with_recipe

            fields = entry.config.__dataclass_fields__
            options = asdict(how["config"])
            how = {"config": with_recipe(options, {k for k in fields if given(k)} | {"recipe"})}
    from cnnlab.engine.loop import train_task

    task = entry.factory
    result = train_task(task, stop_after=ns.stop_after, console=console, **how)
    for item in task.summary(result) if result.test is not None else []:
        if isinstance(item, tuple):
            title, headers, rows = item
            console.print(table(headers, rows, title=title))
        else:
            console.print(item, highlight=False)
    return 0
