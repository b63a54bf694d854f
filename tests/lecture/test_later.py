"""The book's sections on the later CNN slides (transfer learning, its guide, weight
initialization, autoencoders), each built with tiny budgets (the module's QUICK dict made
smaller): no error, every figure written, a verdict computed from the numbers, and every
command recorded one that cnnlab's own parser takes."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cnnlab.cli import build_parser, main
from cnnlab.lecture import book, later

TINY = later.TINY


def _section(key: str) -> book.Section:
    return next(s for s in later.SECTIONS if s.key == key)


def test_the_sections_follow_the_slides():
    keys = [s.key for s in later.SECTIONS]
    assert keys == ["transfer", "transfer-guide", "init", "autoencoders", "conv-autoencoders"]
    assert set(later.QUICK) == set(later.FULL) == set(keys) == set(TINY)
    for key in keys:  # the tiny budgets name the same options as the real ones
        assert set(TINY[key]) == set(later.QUICK[key]) == set(later.FULL[key])
    for budget in (later.QUICK["transfer"], later.FULL["transfer"]):  # reuse vs scratch
        assert {"head", "retrain"} <= set(budget["strategies"].split(","))
    for s in later.SECTIONS:
        assert s.part == "CNNs" and s.title and s.point and s.claim
        assert s.seconds[0] <= s.seconds[1]
    assert sum(s.seconds[0] for s in later.SECTIONS) <= 100  # the quick book's share


@pytest.mark.parametrize("key", ["init", "autoencoders", "conv-autoencoders", "transfer"])
def test_a_section_builds_with_tiny_budgets(key: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(later.QUICK, key, TINY[key])
    out = book.run_section(_section(key), tmp_path / "lecture", "lecture", "quick", main)
    assert not out.error, out.error
    assert out.verdict in ("holds", "differs") and out.measured
    assert out.verdict == "holds" or out.because  # a difference says why
    folder = tmp_path / "lecture" / "sections" / key
    assert out.figures
    for name, caption in out.figures:
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
        assert caption
    assert out.tables and all(t["rows"] for t in out.tables)
    parser = build_parser()[0]
    assert out.commands
    for cmd in out.commands:
        assert cmd.startswith("cnnlab ") and "lecture/sections/" + key in cmd
        parser.parse_args(shlex.split(cmd)[1:])  # the book shows commands cnnlab takes
        assert str(tmp_path) not in cmd  # shown as typed, not as this machine's path
