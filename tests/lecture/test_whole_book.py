"""The whole book, every section, built once on tiny budgets (the test suite's level): every
section present in the lecture's order, no section failed, every figure the page references
exists, the HTML parses, and every command it quotes parses with cnnlab's own parser. Then,
section by section, from the same build: a verdict computed from the numbers (a difference
says why), every figure written with a caption, and the outcome kept for the next build."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

import pytest
from tests.lecture.test_book import assert_commands_parse, parse_book

from cnnlab.cli import build_parser, main
from cnnlab.lecture import book, builder, later


def _tools_missing() -> list[str]:
    missing = [t for t in ("espeak-ng", "flite") if shutil.which(t) is None]
    try:
        import pybullet  # noqa: F401
    except ImportError:
        missing.append("pybullet")
    return missing


pytestmark = pytest.mark.skipif(bool(_tools_missing()), reason="the voice and robotics sections "
                                "need espeak-ng, flite and pybullet")  # fmt: skip
KEYS = [s.key for s in builder.sections()]


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory) -> tuple[Path, builder.BuildResult]:
    """The book built once at the tiny level in a folder of its own (cache included)."""
    root = tmp_path_factory.mktemp("whole-book")
    here = os.getcwd()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNNLAB_CACHE", str(root / "cache"))  # nothing of the user's
        os.chdir(root)
        try:
            res = builder.build("lecture", book.TINY, runner=main)
        finally:
            os.chdir(here)
    return root, res


def test_every_section_builds_into_one_book(tiny_book):
    root, res = tiny_book
    out = root / "lecture"
    failed = {k: o.error for k, o in res.outcomes.items() if o.error}
    assert not failed, failed
    assert res.built == KEYS and list(res.outcomes) == KEYS
    page = parse_book(out / "index.html")
    assert page.ids == KEYS  # every section, in the lecture's order
    assert len(page.images) >= len(KEYS) // 2
    for src in page.images:
        assert (out / src).is_file(), src
    assert_commands_parse(page.code)
    assert all(o.verdict in book.VERDICTS for o in res.outcomes.values())
    assert all(o.commands for o in res.outcomes.values())  # every section shows a command


APPLIED = {s.key for s in builder.sections() if s.part == "Applications of CNNs"}
LATER = {s.key for s in later.SECTIONS}


@pytest.mark.parametrize("key", sorted(APPLIED | LATER))
def test_a_section_measures_and_shows_its_claim(tiny_book, key: str):
    """The sections that train something: a verdict from the numbers, figures and tables."""
    root, res = tiny_book
    out = res.outcomes[key]
    assert not out.error, out.error
    assert out.verdict in ("holds", "differs") and out.measured
    assert out.verdict == "holds" or out.because  # a difference says why
    folder = root / "lecture" / "sections" / key
    assert out.figures
    for name, caption in out.figures:
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
        assert caption
    assert out.tables and all(t["rows"] for t in out.tables)
    parser = build_parser()[0]
    for cmd in out.commands:
        argv = shlex.split(cmd)
        assert argv[0] == "cnnlab", cmd
        parser.parse_args(argv[1:])  # raises on a command cnnlab would not take
        assert str(root) not in cmd  # shown as the book's folder was typed
        if key in LATER:
            assert "lecture/sections/" + key in cmd
    kept = json.loads((folder / "outcome.json").read_text())
    assert kept["outcome"]["verdict"] == out.verdict
    small = {"voice": "keywords", "robotics": "tabletop"}  # --out: a set of the section's own
    if key in small:  # kept in the section's folder, the cache neither replaced nor used
        assert not (root / "cache" / small[key]).exists()
        assert (folder / f"{small[key]}.npz").is_file()
        assert any(f"--out lecture/sections/{key}/{small[key]}.npz" in c for c in out.commands)
