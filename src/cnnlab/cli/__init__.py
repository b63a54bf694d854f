"""The command line: thin faces over the Python API, one module per command group.

Every error that is the user's to fix prints as one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from jsonargparse import ArgumentParser

from cnnlab.cli import (
    autoencode,
    common,
    compare,
    explain,
    info,
    runs,
    show,
    study,
    summary,
    tasks,
    transfer,
)

GROUPS = [tasks, info, runs, compare, study, show, summary, explain, transfer, autoencode]


def build_parser() -> tuple[ArgumentParser, dict[str, Callable[[Any], int | None]]]:
    parser = ArgumentParser(
        prog="cnnlab",
        description="cnnlab: the lecture on convolutional neural networks, runnable and measured.",
        exit_on_error=False,
    )
    sub = parser.add_subcommands(dest="command", required=True)
    handlers: dict[str, Callable[[Any], int | None]] = {}
    for group in GROUPS:
        handlers.update(group.register(sub))
    return parser, handlers


def fail(message: str) -> int:
    print(f"cnnlab: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    from cnnlab.core.errors import CnnlabError

    parser, handlers = build_parser()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        ns = parser.parse_args(args)
    except argparse.ArgumentError as exc:
        return fail(f"{exc}; see cnnlab {' '.join(a for a in args[:1])} --help")
    except SystemExit as exc:  # --help, --print_config
        return int(exc.code or 0)
    command = ns.command
    common.ARGV[:] = args
    try:
        return int(handlers[command](ns[command]) or 0)
    except CnnlabError as exc:
        return fail(str(exc))
    except ValueError as exc:  # bad hyper-parameters name the argument (DESIGN.md rule 7)
        return fail(str(exc))
    except KeyboardInterrupt:
        print("\ninterrupted; completed epochs are saved (resume with --resume RUN)")
        return 130
