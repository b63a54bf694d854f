"""Helpers shared by the command modules."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from typing import Any

from jsonargparse import ActionConfigFile, ArgumentParser
from rich.console import Console
from rich.table import Table


def parser_for(config_cls: type | None = None, help: str = "") -> ArgumentParser:
    """A sub-command parser with --config FILE (and --print_config) and, when given, every
    field of `config_cls` as an option."""
    p = ArgumentParser(description=help, exit_on_error=False)
    p.add_argument("--config", action=ActionConfigFile, help="read options from a YAML file")
    if config_cls is not None:
        p.add_class_arguments(config_cls, as_group=False, instantiate=False)
    return p


def config_from(ns: Any, config_cls: type, drop: tuple[str, ...] = ()) -> Any:
    """Instantiate `config_cls` from the namespace fields it declares."""
    d = ns.as_dict() if hasattr(ns, "as_dict") else dict(vars(ns))
    names = set(config_cls.__dataclass_fields__)
    kw = {k: v for k, v in d.items() if k in names and k not in drop}
    return config_cls(**kw)


def table(
    headers: list[str], rows: list[list[Any]], title: str = "", text: tuple[int, ...] = ()
) -> Table:
    """A rich table: the first column and the `text` columns left-aligned, numbers right."""
    t = Table(title=title or None, show_lines=False)
    for i, h in enumerate(headers):
        t.add_column(h, justify="left" if i == 0 or i in text else "right")
    for r in rows:
        t.add_row(*(str(v) for v in r))
    return t


# piped or redirected output has no width: tables keep their natural width rather than rich's
# 80 columns ("quadr...", "finet..."); COLUMNS still rules where it is set
PIPED_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 240
console = Console(soft_wrap=True, width=PIPED_WIDTH)
ARGV: list[str] = []  # the arguments of this invocation, to tell typed options from defaults
# cnnlab.cli.main itself, set by main() before a command runs: for a command that runs other
# commands in this process (cnnlab lecture), without importing the package that imports it
MAIN: Any = None


def given(name: str) -> bool:
    """Whether --name was typed on the command line (not just defaulted)."""
    flag = f"--{name}"
    return any(a == flag or a.startswith(flag + "=") for a in ARGV)


__all__ = ["asdict", "config_from", "console", "parser_for", "table"]
