"""The parser's errors, said the way the user typed the command: options as --name, types in
words, the allowed values, a near miss ("did you mean"), and the --help to read."""

from __future__ import annotations

import re
from typing import Any

from cnnlab.core.registry import did_you_mean

TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false",
              "str": "text", "NoneType": "null"}  # fmt: skip


def command_path(parser: Any, args: list[str]) -> tuple[list[str], Any]:
    """The (sub)commands typed at the start of `args` and the parser of the deepest one."""
    path: list[str] = []
    for arg in args:
        action = getattr(parser, "_subcommands_action", None)
        if action is None or arg not in action.choices:
            break
        path.append(arg)
        parser = action.choices[arg]
    return path, parser


def options_of(parser: Any) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]


def _value(text: str) -> str:
    text = text.strip().rstrip(".")
    return repr(text)


def parse_error(message: str, parser: Any, args: list[str]) -> str:
    """One line for a parse error of `cnnlab ARGS`: what is wrong, and which --help to read."""
    path, deepest = command_path(parser, args)
    see = f"see cnnlab {' '.join(path)} --help"
    text = " ".join(message.split())
    prefix = f"{'.'.join(path)}." if path else ""

    def flag(key: str) -> str:
        key = key.removeprefix(prefix).split(".")[-1]
        return f"--{key}" if f"--{key}" in options_of(deepest) else key.upper()

    m = re.match(
        r'Parser key "([\w.]+)": Expected a typing\.Literal\[(.*?)\]\. Got value: (.*)', text
    )
    if m:
        allowed = [a.strip(" '\"") for a in m.group(2).split(",")]
        got = m.group(3).strip()
        return (f"{flag(m.group(1))} must be one of {', '.join(allowed)}, got {_value(got)}"
                f"{did_you_mean(got, allowed)}; {see}")  # fmt: skip
    m = re.match(r"Parser key \"([\w.]+)\": Expected a <class '(\w+)'>\. Got value: (.*)", text)
    if m:
        kind = TYPE_WORDS.get(m.group(2), m.group(2))
        return f"{flag(m.group(1))} must be {kind}, got {_value(m.group(3))}; {see}"
    m = re.match(r'Parser key "([\w.]+)": Does not validate against any of the Union', text)
    if m:
        kinds = re.findall(r"<class '(\w+)'>", text.split("Errors:")[0])
        words = " or ".join(TYPE_WORDS.get(k, k) for k in kinds)
        got = text.rsplit("Given value:", 1)[-1]
        return f"{flag(m.group(1))} must be {words}, got {_value(got)}; {see}"
    m = re.match(r"the following arguments are required: (.*)", text)
    if m:
        names = [flag(n.strip()) for n in m.group(1).split(",")]
        verb = "is" if len(names) == 1 else "are"
        return f"{' and '.join(names)} {verb} required; {see}"
    m = re.match(r"Subcommand '[\w-]+' does not accept option '([\w.-]+)'", text)
    if m:  # a key of a --config file
        key = m.group(1)
        known = [o.removeprefix("--") for o in options_of(deepest)]
        return (f"cnnlab {' '.join(path)} has no option {key}{did_you_mean(key, known)} (in the "
                f"--config file); {see}")  # fmt: skip
    m = re.match(r"unrecognized arguments: (.*)", text)
    if m:
        first = m.group(1).split()[0]
        if first.startswith("-"):
            hint = did_you_mean(first.split("=")[0], options_of(deepest))
            return f"unknown option {first}{hint}; {see}"
        return f"unexpected argument {first!r}; {see}"
    m = re.match(r"argument (\w+): invalid choice: '(.*?)' \(choose from (.*)\)", text)
    if m:
        allowed = [a.strip(" '") for a in m.group(3).split(",")]
        got = m.group(2)
        return (f"cnnlab {' '.join(path)} has no {got!r}{did_you_mean(got, allowed)}; choose "
                f"one of {', '.join(allowed)}")  # fmt: skip
    m = re.match(r'expected "([\w.]+)" to be one of \{(.*?)\}, but it was not provided', text)
    if m:
        return f"cnnlab {' '.join(path)} needs one of: {m.group(2).replace(',', ', ')}; {see}"
    return f"{text}; {see}"


def config_doc(args: list[str]) -> tuple[str | None, Any]:
    """The --config file of `args` and what yaml.safe_load reads from it (as the parser
    does); (None, None) without --config, (path, None) when it cannot be read (the parser
    says why)."""
    import yaml

    path = None
    for i, arg in enumerate(args[:-1]):
        if arg == "--config":
            path = args[i + 1]
    if path is None:
        return None, None
    try:
        with open(path, encoding="utf-8") as f:
            return path, yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return path, None


def nested_config_error(args: list[str]) -> str | None:
    """The error for a --config file that names another config file (the parser trips on
    `config: {}` and ignores `config: null`), checked before parsing; or None."""
    path, doc = config_doc(args)
    if isinstance(doc, dict) and {"config", "print_config"} & {str(k) for k in doc}:
        return (
            f"{path} names another config file (or print_config) inside it; a config "
            "file holds option: value lines only: copy the other file's options in"
        )
    return None


def config_keys_error(parser: Any, args: list[str]) -> str | None:
    """The error for a --config file with keys the command does not have (the parser lets
    some through, e.g. `0: {}`), or None."""
    deepest = command_path(parser, args)[1]
    path, doc = config_doc(args)
    if path is None:
        return None
    known = {o.removeprefix("--") for o in options_of(deepest)}
    extra = [str(k) for k in (doc or {}) if str(k) not in known] if isinstance(doc, dict) else []
    if not isinstance(doc, dict | type(None)):
        return f"{path} must hold option: value lines, not a {type(doc).__name__}"
    if extra:
        hint = did_you_mean(extra[0], known)
        return (f"{path} has option(s) that cnnlab {' '.join(command_path(parser, args)[0])} "
                f"does not know: {', '.join(extra)}{hint}")  # fmt: skip
    return None
