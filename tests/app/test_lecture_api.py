"""The Lecture tab's API without a browser: the book `cnnlab lecture` built (two sections, at
the suite's level) read back in the lecture's order, its figures served with their content
type, nothing outside the book's folder served, and no book is no error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from cnnlab.app.lecture import resolve_file  # noqa: E402
from cnnlab.app.server import create_app  # noqa: E402

_BOOK: dict[str, Path] = {}


def tiny_book(factory: pytest.TempPathFactory) -> Path:
    """A book of two sections at the suite's level (about 10 s), built once per session
    (read-only)."""
    if "path" not in _BOOK:
        from cnnlab.cli import main
        from cnnlab.lecture.book import TINY
        from cnnlab.lecture.builder import build

        out = factory.mktemp("book") / "lecture"
        build(out, TINY, ["local-connectivity", "stride"], runner=main)
        _BOOK["path"] = out
    return _BOOK["path"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tiny_book(tmp_path_factory)
    (out.parent / "secret.txt").write_text("do not serve")  # beside the book, not in it
    return out


@pytest.fixture
def client(book, tmp_path):
    return TestClient(create_app(tmp_path / "runs", book))


def test_the_built_sections_come_in_the_lectures_order_with_whats_not_built(client, book):
    d = client.get("/api/lecture").json()
    assert d["built"] is True and d["folder"] == str(book) and d["index"] is True
    assert [s["key"] for s in d["sections"]] == ["local-connectivity", "stride"]
    loc, stride = d["sections"]
    assert stride["title"] == "Stride" and stride["part"] == "CNNs"
    assert stride["verdict"] == "holds" and stride["measured"] and not stride["error"]
    assert stride["commands"][0].startswith("cnnlab explain conv")
    assert loc["tables"] and not loc["figures"] and loc["live_with"] is None
    # the stride slide's explainer: its own numbers (input 7, kernel 3, stride 2)
    assert stride["live_with"]["tab"] == "explain"
    assert {"op": "conv", "size": 7, "stride": 2}.items() <= stride["live_with"]["settings"].items()
    assert "Padding" in d["missing"] and "Stride" not in d["missing"]


def test_figures_are_served_from_the_book_with_their_content_type(client):
    d = client.get("/api/lecture").json()
    figures = [f for s in d["sections"] for f in s["figures"]]
    assert figures and all(f["url"] == "/lecture/files/" + f["src"] for f in figures)
    gif = next(f["url"] for f in figures if f["url"].endswith(".gif"))
    r = client.get(gif)
    assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
    assert r.content[:6] in (b"GIF87a", b"GIF89a")
    page = client.get("/lecture/files/index.html")  # the book as one page, its figures beside it
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="sections/stride/' in page.text


@pytest.mark.parametrize(
    "url",
    [
        "/lecture/files/%2e%2e/secret.txt",  # .. (encoded: a client would fold a plain ../)
        "/lecture/files/sections/..%2f..%2fsecret.txt",
        "/lecture/files/sections/%2e%2e/%2e%2e/secret.txt",
        "/lecture/files//etc/passwd",  # an absolute path
        "/lecture/files/%2fetc%2fpasswd",
        "/lecture/files/sections/stride/missing.png",
        "/lecture/files/sections/stride",  # a folder
        "/lecture/files/",
    ],
)
def test_nothing_outside_the_book_is_served(client, url):
    r = client.get(url)
    assert r.status_code == 404, (url, r.status_code)
    assert "do not serve" not in r.text and "root:" not in r.text


def test_the_guard_refuses_dots_absolute_paths_and_links_out(book, tmp_path):
    assert resolve_file(book, "sections/stride/conv-stride2.gif") is not None
    absolute = str(book / "book.json")  # inside the book, but named by an absolute path
    for name in ("../secret.txt", "sections/../../secret.txt", "/etc/passwd", absolute,
                 "..\\secret.txt", "C:/x.png", ""):  # fmt: skip
        assert resolve_file(book, name) is None, name
    out = tmp_path / "book"
    (out / "sections").mkdir(parents=True)
    (tmp_path / "outside.png").write_bytes(b"\x89PNG outside")
    os.symlink(tmp_path / "outside.png", out / "sections" / "link.png")
    (out / "secret.py").write_text("a file a book does not hold")
    assert resolve_file(out, "sections/link.png") is None  # a link leading out
    assert resolve_file(out, "secret.py") is None  # not a kind of file the book holds
    c = TestClient(create_app(tmp_path / "runs", out))
    assert c.get("/lecture/files/sections/link.png").status_code == 404


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_no_book_is_not_an_error(tmp_path, kind):
    folder = tmp_path / "lecture"
    if kind == "empty":
        folder.mkdir()
    c = TestClient(create_app(tmp_path / "runs", folder))
    r = c.get("/api/lecture")
    assert r.status_code == 200
    d = r.json()
    assert d["built"] is False and d["sections"] == [] and d["folder"] == str(folder)
    assert "Stride" in d["missing"]
    assert c.get("/lecture/files/index.html").status_code == 404


def test_serve_takes_the_books_folder(capsys, monkeypatch, book):
    """cnnlab serve --lecture DIR: the app it starts reads the book in DIR (default lecture)."""
    import uvicorn

    from conftest import cli

    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append((app, kw)))
    rc, out, _ = cli(capsys, "serve", "--lecture", book, "--port", "8799")
    assert rc == 0 and f"thelecturefrom{book}" in "".join(out.split())
    app, kw = started[0]
    assert kw["port"] == 8799 and kw["host"] == "127.0.0.1"
    assert [s["key"] for s in TestClient(app).get("/api/lecture").json()["sections"]] == [
        "local-connectivity",
        "stride",
    ]
    rc, out, _ = cli(capsys, "serve")
    assert rc == 0 and "thelecturefromlecture;" in "".join(out.split())
