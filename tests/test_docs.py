"""Docs that cannot rot: every `cnnlab ...` command in README.md and docs/ parses with the
command line's own parser, every relative link points at a file of the repository, and no
doc cites a scratch file (/tmp/...) or a file outside the project."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cnnlab.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(text: str, langs: tuple[str, ...]) -> list[str]:
    return re.findall(rf"```(?:{'|'.join(langs)})\n(.*?)```", text, re.S)


def commands(doc: Path) -> list[tuple[str, list[str]]]:
    """(line, argv) of every cnnlab command in the doc's shell blocks and inline code."""
    text = doc.read_text()
    lines = []
    for block in _blocks(text, ("bash", "sh", "console", "")):
        lines += [(line, False) for line in block.replace("\\\n", " ").splitlines()]
    # inline code: usage notation ([--noise 0.5] is optional) reads as the options themselves
    lines += [(re.sub(r"\[(-[^\]]*)\]", r"\1", m), True)
              for m in re.findall(r"`(cnnlab [^`]+)`", text)]  # fmt: skip
    out = []
    for line, inline in lines:
        line = line.strip().removeprefix("$ ")
        if not line.startswith("cnnlab ") or "..." in line or "<" in line:
            continue  # prose placeholders (cnnlab train ... / <name>) are not commands
        line = re.sub(r"\s+#.*$", "", line)  # a trailing comment
        line = re.split(r"\s[>|]\s", line)[0]  # a redirection or a pipe
        try:
            argv = shlex.split(line)[1:]
        except ValueError:
            argv = line.split()[1:]
        out.append((line, argv, inline))
    return out


def _without_missing_configs(argv: list[str]) -> list[str]:
    """--config FILE is read while parsing: a file the reader writes first (my.yaml) or a
    placeholder (RUN/config.yaml) is left out, the rest of the command is still checked."""
    out, skip = [], False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--config" and i + 1 < len(argv) and not (ROOT / argv[i + 1]).exists():
            skip = True
            continue
        out.append(arg)
    return out


ALL = [(doc.name, line, argv, inline) for doc in DOCS for line, argv, inline in commands(doc)]


def test_the_docs_have_commands_to_check():
    assert len(ALL) > 50, "the extraction found too few commands; has the docs' format changed?"


@pytest.mark.parametrize("doc, line, argv, inline", ALL,
                         ids=[f"{d}:{line[:60]}" for d, line, _, _ in ALL])  # fmt: skip
def test_every_documented_command_parses(doc, line, argv, inline):
    """Commands in shell blocks parse whole; an inline mention may leave out what is required
    (`cnnlab predict` names the command), but what it does say must exist."""
    parser, _ = build_parser()
    argv = _without_missing_configs(argv)
    if "--help" in argv or "-h" in argv or argv in ([], ["--version"]):
        return  # answered before parsing; the contract tests run them
    try:
        parser.parse_args(argv)
    except SystemExit as exc:  # --print_config exits after printing
        assert "--print_config" in argv, f"{doc}: {line}: exit {exc.code}"
    except Exception as exc:  # noqa: BLE001 - the message is the point
        if inline and "arguments are required" in str(exc):
            return
        pytest.fail(f"{doc}: `{line}` does not parse: {exc}")


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_links_and_cited_files_are_in_the_repository(doc):
    text = doc.read_text()
    bad = []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://", target):
            continue  # a web address (cited sources)
        path = (doc.parent / target).resolve()
        if not path.exists() or ROOT not in path.parents:
            bad.append(f"link {target}")
    bad += [f"cites {m}" for m in re.findall(r"(/tmp/[\w./-]+\.py)", text)]
    assert not bad, f"{doc.name}: " + "; ".join(bad)
