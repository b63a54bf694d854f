"""The command line: thin faces over the Python API, one module per command group.

Every error that is the user's to fix prints as one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from cnnlab.core.registry import did_you_mean
from cnnlab.core.version import VERSION
from cnnlab.tasks import TASKS

DESCRIPTION = "cnnlab: the lecture on convolutional neural networks, runnable and measured."
# Every command but the generated task commands: its group module (imported only when the
# command is typed, so --help and a mistyped command answer without torch) and its help. A
# test checks this table against what each group module registers.
COMMANDS = {  # the task commands first, generated from TASKS
    _e.facts["command"]: ("tasks", _e.help.split(";")[0])
    for _e in TASKS
    if not _e.facts["own_command"]
}
COMMANDS |= {
    "models": ("info", "list models and parameter counts"),
    "datasets": ("info", "list datasets and where they are found"),
    "inits": ("info", "list weight-initialization schemes"),
    "predict": ("runs", "use a trained run on your files (classes, masks, reconstructions)"),
    "report": ("runs", "write runs/<name>/report.html"),
    "listen": ("sound", "find keywords in a long recording"),
    "play": ("rl", "play with a trained agent (returns, a GIF)"),
    "grasp": ("robotics", "grasp with a simulated arm where a locate run says"),
    "serve": ("serve", "the web app (lecture, explainer, runs) on 127.0.0.1:8765"),
    "export": ("export", "export a run as ONNX, checked with onnxruntime"),
    "compare": ("compare", "compare models (mlp-vs-cnn, text, keywords)"),
    "demo": ("compare", "MLP vs CNN on Fashion-MNIST with a report (~2 min)"),
    "study": ("study", "run a study (init, transfer, autoencoder, rl, locate)"),
    "show": ("show", "filters on an image, feature maps, learned kernels"),
    "summary": ("summary", "layer table: shapes, parameters, MACs, receptive field"),
    "explain": ("explain", "animate convolution or pooling (GIF + sheet)"),
    "transfer": ("transfer", "diagnose the transfer case and run its strategy"),
    "sample": ("autoencode", "draw new images from a VAE run; interpolate codes"),
    "lecture": ("lecture", "build the lecture as a book of runs on this machine"),
}
GROUPS = sorted({group for group, _ in COMMANDS.values()})


def group_module(group: str) -> Any:
    """The module that registers a group's commands (imported here, on demand)."""
    if group == "tasks":
        from cnnlab.cli import tasks as module
    elif group == "info":
        from cnnlab.cli import info as module
    elif group == "runs":
        from cnnlab.cli import runs as module
    elif group == "compare":
        from cnnlab.cli import compare as module
    elif group == "study":
        from cnnlab.cli import study as module
    elif group == "show":
        from cnnlab.cli import show as module
    elif group == "summary":
        from cnnlab.cli import summary as module
    elif group == "explain":
        from cnnlab.cli import explain as module
    elif group == "transfer":
        from cnnlab.cli import transfer as module
    elif group == "autoencode":
        from cnnlab.cli import autoencode as module
    elif group == "export":
        from cnnlab.cli import export as module
    elif group == "sound":
        from cnnlab.cli import sound as module
    elif group == "serve":
        from cnnlab.cli import serve as module
    elif group == "rl":
        from cnnlab.cli import rl as module
    elif group == "robotics":
        from cnnlab.cli import robotics as module
    elif group == "lecture":
        from cnnlab.cli import lecture as module
    else:
        raise KeyError(group)
    return module


def build_parser(groups: Sequence[str] = ()) -> tuple[Any, dict[str, Callable[[Any], int | None]]]:
    """The parser of the commands of `groups` (all when empty) and their handlers."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser(prog="cnnlab", description=DESCRIPTION, exit_on_error=False)
    sub = parser.add_subcommands(dest="command", required=True)
    handlers: dict[str, Callable[[Any], int | None]] = {}
    for group in groups or GROUPS:
        handlers.update(group_module(group).register(sub))
    return parser, handlers


def overview() -> str:
    """`cnnlab --help`: every command with its one line, without building any parser."""
    width = max(len(c) for c in COMMANDS) + 2
    lines = ["usage: cnnlab [-h] [--version] COMMAND ...", "", DESCRIPTION, "", "commands:"]
    lines += [f"  {name:<{width}}{text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "options:", "  -h, --help  show this help and exit",
              "  --version   print the version and exit", "",
              "Each command has its own --help, e.g. cnnlab train --help."]  # fmt: skip
    return "\n".join(lines)


RUN_OPTIONS = ("run", "resume", "from", "model")  # where a run folder may be named `last`


def name_runs(ns: Any, runs_dir: str = "runs") -> None:
    """Replace `last` / `last:PREFIX` in every run option (nested commands too) by the run
    folder it names (core.io.find_run), so the command and its messages see the real path."""
    from cnnlab.core.io import find_run

    if not hasattr(ns, "keys"):
        return
    runs_dir = ns.get("runs_dir") or runs_dir
    for key in list(ns.keys()):  # nested keys come flattened: "features.run"
        value = ns[key]
        if key.split(".")[-1] in RUN_OPTIONS and isinstance(value, str):
            if value.split(":")[0] == "last":
                ns[key] = str(find_run(value, runs_dir))
            elif value.startswith("imagenet:") and key.split(".")[-1] != "from":
                # a network with ImageNet weights, as a run folder made once in the cache
                # (transfer --from keeps the name: its backbone has no source data to measure)
                from cnnlab.tasks.transfer.imagenet import imagenet_run

                ns[key] = str(imagenet_run(value))


def as_flag(message: str, options: dict[str, Any]) -> str:
    """A message that starts with an option's name names it as typed: "--epochs must ..."."""
    head, sep, rest = message.partition(" ")
    return f"--{head}{sep}{rest}" if head in options and not head.startswith("-") else message


def fail(message: str) -> int:
    print(f"cnnlab: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    from cnnlab.core.errors import CnnlabError

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(overview())
        return 0
    if args[0] == "--version":
        print(f"cnnlab {VERSION}")
        return 0
    if args[0] not in COMMANDS:
        what = "option" if args[0].startswith("-") else "command"
        hint = did_you_mean(args[0], COMMANDS)
        return fail(f"unknown {what} {args[0]!r}{hint}; see cnnlab --help for the commands")
    parser, handlers = build_parser([COMMANDS[args[0]][0]])
    if "--config" in args:  # before parsing: the parser trips on a nested `config: {}`
        from cnnlab.cli.messages import nested_config_error

        problem = nested_config_error(args)
        if problem:
            return fail(problem)
    try:
        ns = parser.parse_args(args)
    except argparse.ArgumentError as exc:
        from cnnlab.cli.messages import parse_error

        return fail(parse_error(str(exc), parser, args))
    except SystemExit as exc:  # --help, --print_config
        return int(exc.code or 0)
    if "--config" in args:
        from cnnlab.cli.messages import config_keys_error

        problem = config_keys_error(parser, args)
        if problem:
            return fail(problem)
    from cnnlab.cli import common

    command = ns.command
    common.ARGV[:] = args
    common.MAIN = main
    options = ns[command].as_dict() if hasattr(ns[command], "as_dict") else {}
    try:
        name_runs(ns[command])
        return int(handlers[command](ns[command]) or 0)
    except (CnnlabError, ValueError) as exc:  # bad values name the argument (DESIGN.md rule 7)
        fail(as_flag(str(exc), options))
        return getattr(exc, "exit_code", 2)  # 1: a run that diverged
    except KeyboardInterrupt:
        print("\ninterrupted; completed epochs are saved (resume with --resume RUN)")
        return 130
