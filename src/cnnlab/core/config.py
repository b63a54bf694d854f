"""Checks shared by every frozen config dataclass (DESIGN.md rule 7: a bad value fails early
with a ValueError naming the argument)."""

from __future__ import annotations

import os
from typing import Any


def plain_paths(cfg: Any, names: tuple[str, ...] = ("runs_dir", "data")) -> None:
    """Turn Path fields of a frozen config into str: a Path from Python is fine, but the
    config is saved as YAML and compared as plain values."""
    for name in names:
        if isinstance(getattr(cfg, name, None), os.PathLike):
            object.__setattr__(cfg, name, os.fspath(getattr(cfg, name)))


def check_ranges(cfg: Any, checks: dict[str, bool]) -> None:
    """ValueError naming the first field whose check is False, and its value."""
    for name, ok in checks.items():
        if not ok:
            raise ValueError(f"{name} = {getattr(cfg, name)!r} is out of range")
