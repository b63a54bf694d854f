"""`cnnlab lecture`: the book's framework: sections in the lecture's order, an index.html that
parses and references only files that exist, commands that parse with cnnlab's own parser,
resuming, --force, rebuilding a book of another version, the PDF, and bad input."""

from __future__ import annotations

import json
import shlex
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.conftest import one_line_error

from cnnlab.cli import build_parser, main
from cnnlab.lecture import book, builder
from cnnlab.lecture.book import Outcome, Section, SectionFailed

CHEAP = "local-connectivity,stride"  # two sections that run in seconds


def build(*args, **kw):  # noqa: ANN002, ANN003, ANN201
    """builder.build with cnnlab's command line as the runner, as `cnnlab lecture` calls it."""
    return builder.build(*args, runner=main, **kw)


class _Page(HTMLParser):
    """The section ids, image sources and code blocks of the book; raises on broken nesting
    of the tags the book uses."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.code: list[str] = []
        self.stack: list[str] = []
        self._in_code = False

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        a = dict(attrs)
        if tag == "section":
            self.ids.append(a["id"])
        if tag == "img":
            self.images.append(a["src"])
        if tag in ("section", "figure", "table", "pre", "code", "main", "nav"):
            self.stack.append(tag)
        self._in_code = tag == "code" or self._in_code

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in ("section", "figure", "table", "pre", "code", "main", "nav"):
            assert self.stack.pop() == tag, f"</{tag}> closes another tag"
        if tag == "code":
            self._in_code = False

    def handle_data(self, data):  # noqa: ANN001
        if self._in_code:
            self.code.append(data)


def parse_book(index: Path) -> _Page:
    page = _Page()
    page.feed(index.read_text())
    page.close()
    assert not page.stack
    return page


def assert_commands_parse(commands: list[str]) -> None:
    parser = build_parser()[0]
    for cmd in commands:
        argv = shlex.split(cmd)
        assert argv[0] == "cnnlab", cmd
        parser.parse_args(argv[1:])  # raises on a command cnnlab would not take


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The two cheap sections, built with --out typed as a relative folder."""
    import os

    here, root = os.getcwd(), tmp_path_factory.mktemp("book")
    os.chdir(root)
    try:
        rc = main(["lecture", "--out", "lecture", "--sections", CHEAP, "--progress", "false"])
    finally:
        os.chdir(here)
    assert rc == 0
    return root / "lecture"


def test_sections_follow_the_lecture_and_have_unique_keys():
    every = builder.sections()
    keys = [s.key for s in every]
    assert len(keys) == len(set(keys))
    parts = [s.part for s in every]
    # the lecture's order: the applications, then MLP vs CNNs, then the CNN slides
    order = ["Applications of CNNs", "MLP vs CNNs", "CNNs"]
    assert [p for i, p in enumerate(parts) if i == 0 or parts[i - 1] != p] == [
        p for p in order if p in parts
    ]
    for s in every:
        assert s.title and s.point and s.claim and s.seconds[0] <= s.seconds[1]
    assert keys.index("stride") < keys.index("padding") < keys.index("pooling")


def test_the_book_parses_and_its_figures_and_commands_are_real(built: Path):
    page = parse_book(built / "index.html")
    assert page.ids == CHEAP.split(",")
    for src in page.images:
        assert (built / src).is_file(), src
    assert page.images, "the stride section draws its animation"
    assert_commands_parse(page.code)
    assert any("explain conv" in c and "--stride 2" in c for c in page.code)
    assert all(str(built.resolve()) not in c for c in page.code)  # shown as typed:
    assert any("--out lecture/sections/stride" in c for c in page.code)
    kept = json.loads((built / "sections" / "stride" / "outcome.json").read_text())
    assert kept["outcome"]["verdict"] == "holds" and not kept["outcome"]["error"]
    html = (built / "index.html").read_text()
    assert "The lecture:" in html and "Measured here:" in html
    assert "Not built yet:" in html  # the sections left out are listed


def test_a_second_build_keeps_and_force_reruns(built: Path, capsys):
    res = build(built, "quick", [CHEAP])
    assert res.built == [] and res.kept == CHEAP.split(",")
    res = build(built, "quick", [CHEAP], force=["stride"])
    assert res.built == ["stride"] and res.kept == ["local-connectivity"]
    res = build(built, "full", [CHEAP])  # another level: another fingerprint
    assert res.built == CHEAP.split(",")


def test_a_book_of_another_version_is_rebuilt(tmp_path: Path):
    out = tmp_path / "lecture"
    build(out, "quick", ["local-connectivity"])
    (out / "book.json").write_text(json.dumps({"format": 0, "cnnlab": "0.0.1"}))
    said: list[str] = []
    res = build(out, "quick", ["local-connectivity"], log=said.append)
    assert res.built == ["local-connectivity"] and len(said) == 1 and "rebuilding" in said[0]
    assert json.loads((out / "book.json").read_text())["format"] == book.FORMAT


def test_a_failing_section_is_shown_and_the_build_goes_on(tmp_path: Path, monkeypatch):
    def broken(ctx):  # noqa: ANN001, ANN202
        ctx.cli("explain", "conv", "--input", "3", "--kernel", "9", "--out", ctx.folder)
        raise AssertionError("not reached: the command fails")

    def fine(ctx):  # noqa: ANN001, ANN202
        return Outcome(measured="1 + 1 = 2", verdict="holds")

    fake = [Section("broken", "Broken", "p", "c", broken), Section("fine", "Fine", "p", "c", fine)]
    monkeypatch.setattr(builder, "sections", lambda: fake)
    res = build(tmp_path / "b", "quick")
    assert res.built == ["broken", "fine"]
    assert "kernel" in res.outcomes["broken"].error and res.outcomes["fine"].verdict == "holds"
    html = (tmp_path / "b" / "index.html").read_text()
    assert "not built" in html and "1 + 1 = 2" in html
    assert build(tmp_path / "b", "quick").built == ["broken"]  # a failure is retried
    with pytest.raises(SectionFailed):
        ctx = book.Context(tmp_path, "quick", "x", tmp_path, main)
        ctx.cli("explain", "conv", "--input", "3", "--kernel", "9", "--out", tmp_path)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sections", "strides"], "unknown section 'strides'"),
        (["--force", "nope"], "unknown section 'nope'"),
        (["--level", "medium"], "unknown --level 'medium'"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, capsys, args, words):
    rc = main(["lecture", "--out", str(tmp_path / "b"), *args])
    one_line_error(rc, capsys.readouterr().err, words)
    assert not (tmp_path / "b").exists()  # nothing written


def test_an_out_that_is_a_file_or_holds_other_things_is_left_alone(tmp_path: Path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    rc = main(["lecture", "--out", str(f), "--sections", "stride"])
    one_line_error(rc, capsys.readouterr().err, "is a file")
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("mine")
    rc = main(["lecture", "--out", str(folder), "--sections", "stride"])
    one_line_error(rc, capsys.readouterr().err, "holds other files")
    assert f.read_text() == "mine" and sorted(p.name for p in folder.iterdir()) == ["chapter1.tex"]


def test_list_names_every_section(capsys):
    assert main(["lecture", "--list"]) == 0
    out = capsys.readouterr().out
    for s in builder.sections():
        assert s.key in out


def test_pdf_prints_the_book(built: Path, tmp_path: Path):
    from cnnlab.cli.lecture import print_pdf

    try:
        from cnnlab.cli.lecture import chromium

        chromium()
    except Exception:  # noqa: BLE001
        pytest.skip("chromium is not installed")
    pdf = print_pdf(built / "index.html", tmp_path / "book.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    assert not list(tmp_path.glob(".*.tmp"))
