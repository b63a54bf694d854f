"""Checks shared by every frozen config dataclass (DESIGN.md rule 7: a bad value fails early
with a ValueError naming the argument)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from cnnlab.core.errors import ConfigError


def plain_paths(cfg: Any, names: tuple[str, ...] = ("runs_dir", "data")) -> None:
    """Turn Path fields of a frozen config into str: a Path from Python is fine, but the
    config is saved as YAML and compared as plain values."""
    for name in names:
        if isinstance(getattr(cfg, name, None), os.PathLike):
            object.__setattr__(cfg, name, os.fspath(getattr(cfg, name)))


Rule = str | tuple[Any, ...]


def check_ranges(cfg: Any, rules: dict[str, Rule]) -> None:
    """ValueError for the first field whose value breaks its rule, stating the rule: ">= 1",
    "> 0", "[0, 1)" (an interval), "None or >= 2", or a tuple of the allowed values.
    e.g. `check_ranges(cfg, {"epochs": ">= 1"})` -> "epochs must be >= 1, got 0"."""
    for name, rule in rules.items():
        value = getattr(cfg, name)
        if not holds(value, rule):
            if isinstance(rule, tuple):
                allowed = ", ".join("None" if r is None else str(r) for r in rule)
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
            what = f"in {rule}" if rule[-1] in ")]" else rule
            raise ValueError(f"{name} must be {what}, got {value!r}")


def holds(value: Any, rule: Rule) -> bool:
    """Whether `value` keeps `rule` (see check_ranges)."""
    if isinstance(rule, tuple):
        return value in rule
    if rule.startswith("None or "):
        if value is None:
            return True
        rule = rule[len("None or ") :]
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if rule[0] in "[(":
        lo, hi = (float(x) for x in rule[1:-1].split(","))
        above = value >= lo if rule[0] == "[" else value > lo
        below = value <= hi if rule[-1] == "]" else value < hi
        return above and below
    op, bound = rule.split()
    return {">=": value >= float(bound), ">": value > float(bound), "<=": value <= float(bound),
            "<": value < float(bound)}[op]  # fmt: skip


def inherit_arg_docs(cls: type) -> type:
    """Class decorator: append to `cls`'s "Args:" section the entries of its dataclass bases
    that it does not document itself, so a config that inherits fields (the loop settings)
    still explains every option in `--help` (jsonargparse reads the class's own docstring)."""
    from docstring_parser import parse

    own = cls.__doc__ or ""
    have = {p.arg_name for p in parse(own).params}
    lines = own.rstrip().splitlines()
    indent = next(
        (ln[: len(ln) - len(ln.lstrip())] for ln in lines[1:] if ln.strip() and ":" in ln), "    "
    )
    extra = []
    for base in cls.__mro__[1:]:
        for p in parse(base.__doc__ or "").params:
            if p.arg_name not in have and p.arg_name in getattr(cls, "__dataclass_fields__", {}):
                have.add(p.arg_name)
                extra.append(f"{indent}{p.arg_name}: {' '.join((p.description or '').split())}")
    if extra:
        if not any(ln.strip() == "Args:" for ln in lines):
            lines += ["", indent[:-4] + "Args:"]
        cls.__doc__ = "\n".join(lines + extra) + "\n"
    return cls


def make_config(cls: type, config: Any = None, what: str = "", **overrides: Any) -> Any:
    """An instance of the config dataclass `cls` from a config, a dict (e.g. a saved
    config.yaml) and keyword overrides. An unknown key or a value out of range is a
    ConfigError that names it."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        base = dataclasses.asdict(config)
    else:
        base = dict(config or {})
    base.update(overrides)
    unknown = sorted(set(base) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ConfigError(
            f"unknown {what + ' ' if what else ''}option(s) {', '.join(unknown)}; "
            f"see {cls.__name__}"
        )
    if isinstance(base.get("model_args"), dict):
        base["model_args"] = dict(base["model_args"])
    try:
        return cls(**base)
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
