"""The whole book, every section, built on tiny budgets (the test suite's level): every
section present in the lecture's order, no section failed, every figure the page references
exists, the HTML parses, and every command it quotes parses with cnnlab's own parser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.lecture.test_book import assert_commands_parse, parse_book

from cnnlab.cli import main
from cnnlab.lecture import book, builder


def _tools_missing() -> list[str]:
    missing = [t for t in ("espeak-ng", "flite") if shutil.which(t) is None]
    try:
        import pybullet  # noqa: F401
    except ImportError:
        missing.append("pybullet")
    return missing


@pytest.mark.skipif(bool(_tools_missing()), reason="the voice and robotics sections need "
                    "espeak-ng, flite and pybullet")  # fmt: skip
def test_every_section_builds_into_one_book(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "cache"))  # nothing of the user's
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        res = builder.build("lecture", book.TINY, runner=main)
    finally:
        os.chdir(here)
    out = tmp_path / "lecture"
    keys = [s.key for s in builder.sections()]
    failed = {k: o.error for k, o in res.outcomes.items() if o.error}
    assert not failed, failed
    assert res.built == keys and list(res.outcomes) == keys
    page = parse_book(out / "index.html")
    assert page.ids == keys  # every section, in the lecture's order
    assert len(page.images) >= len(keys) // 2
    for src in page.images:
        assert (out / src).is_file(), src
    assert_commands_parse(page.code)
    assert all(o.verdict in book.VERDICTS for o in res.outcomes.values())
    assert all(o.commands for o in res.outcomes.values())  # every section shows a command
