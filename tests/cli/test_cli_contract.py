"""Contracts of the command line that no single command's test would catch: the fast command
index agrees with what the group modules register, every task entry's facts are its Task
class's own, every option says what it does, and the light paths do not import torch."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from cnnlab.cli import COMMANDS, GROUPS, build_parser, group_module
from cnnlab.tasks import TASKS


def _walk(parser: Any, path: list[str]):
    """(command path, parser) for every command and subcommand."""
    yield path, parser
    sub = getattr(parser, "_subcommands_action", None)
    if sub is not None:
        for name, child in sub.choices.items():
            yield from _walk(child, [*path, name])


def test_the_command_index_is_what_the_groups_register():
    for group in GROUPS:
        parser, handlers = build_parser([group])
        helps = {c.dest: c.help for c in parser._subcommands_action._choices_actions}
        index = {name: text for name, (g, text) in COMMANDS.items() if g == group}
        assert helps == index, group
        assert set(handlers) == set(index), group
    assert group_module("tasks").__name__ == "cnnlab.cli.tasks"


@pytest.mark.parametrize("name", TASKS.names())
def test_task_entries_say_what_their_task_class_says(name):
    entry = TASKS.get(name)
    task = entry.factory
    assert (task.name, task.command, task.config_cls) == (
        name,
        entry.facts["command"],
        entry.config,
    )
    assert (task.help, task.own_command) == (entry.help, entry.facts["own_command"])


def test_every_option_of_every_command_has_a_help_text():
    parser, _ = build_parser()
    missing = []
    for path, p in _walk(parser, []):
        sub = getattr(p, "_subcommands_action", None)
        for action in p._actions:
            if action is sub or action.dest == "help":
                continue
            if not (action.help or "").strip():
                missing.append(
                    f"cnnlab {' '.join(path)} {(action.option_strings or [action.dest])[-1]}"
                )
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["trian"], ["train", "--epochs", "0"], ["train", "--help"],
     ["transfer", "--from", "x"], ["predict"], ["predict", "no-such-run", "x.png"],
     ["study", "init", "--bogus", "1"], ["study", "autoencoder", "denoising", "--help"],
     ["datasets"], ["datasets", "--examples"]],
)  # fmt: skip
def test_help_and_bad_options_answer_without_importing_torch(args):
    code = (
        "import sys; from cnnlab.cli import main; rc = main(sys.argv[1:]); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert "torch was imported" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 2), proc.stderr


def test_tables_keep_their_width_when_piped():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run([sys.executable, "-m", "cnnlab.cli", "inits"], capture_output=True,
                          text=True, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "│ zeros" in line)
    assert "computes the same thing" in row  # one row, not wrapped at 80 columns
