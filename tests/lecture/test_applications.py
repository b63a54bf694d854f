"""The book's "Applications of CNNs" sections, each built at the test suite's tiny level (the
module's TINY budgets): no error, every figure written, a verdict computed from the numbers,
and every command recorded one that cnnlab's own parser takes."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest

from cnnlab.cli import build_parser, main
from cnnlab.lecture import applications, book


def _needs(key: str) -> str | None:
    """Why section `key` cannot run on this machine, or None."""
    if key == "voice":
        from cnnlab.data.keywords import has_espeak

        if not has_espeak() or shutil.which("flite") is None:
            return "espeak-ng and flite are not installed (apt-get install espeak-ng flite)"
    if key == "robotics":
        try:
            import pybullet  # noqa: F401
        except ImportError:
            return "pybullet is not installed (pip install 'cnnlab[robotics]')"
    return None


def _section(key: str) -> book.Section:
    return next(s for s in applications.SECTIONS if s.key == key)


def test_the_sections_follow_the_slides():
    keys = [s.key for s in applications.SECTIONS]
    assert keys == ["voice", "sentiment", "classification", "segmentation", "unet-3d", "rl",
                    "robotics"]  # fmt: skip
    budgets = applications.QUICK, applications.FULL, applications.TINY
    assert all(list(b) == keys for b in budgets)
    for key in keys:  # every level names the same options
        assert set(applications.TINY[key]) == set(applications.QUICK[key])
        assert set(applications.TINY[key]) == set(applications.FULL[key])
    for s in applications.SECTIONS:
        assert s.part == "Applications of CNNs" and s.title and s.point and s.claim
        assert s.seconds[0] <= s.seconds[1]
    assert {s.key: s.live for s in applications.SECTIONS if s.live} == {
        "voice": "audio", "sentiment": "text", "classification": "draw"}  # fmt: skip


@pytest.mark.parametrize("key", list(applications.TINY))
def test_a_section_builds_with_tiny_budgets(key: str, tmp_path: Path, monkeypatch):
    why = _needs(key)
    if why:
        pytest.skip(why)
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "cache"))  # generated data goes here
    out = book.run_section(_section(key), tmp_path / "lecture", "lecture", book.TINY, main)
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
        argv = shlex.split(cmd)
        assert argv[0] == "cnnlab", cmd
        parser.parse_args(argv[1:])  # raises on a command cnnlab would not take
        assert str(tmp_path) not in cmd  # shown as the book's folder was typed
    kept = json.loads((folder / "outcome.json").read_text())
    assert kept["outcome"]["verdict"] == out.verdict
    small = {"voice": "keywords", "robotics": "tabletop"}  # --out: a set of the section's own
    if key in small:  # kept in the section's folder, the cache neither replaced nor used
        assert not (tmp_path / "cache" / small[key]).exists()
        assert (folder / f"{small[key]}.npz").is_file()
        assert any(f"--out lecture/sections/{key}/{small[key]}.npz" in c for c in out.commands)
