"""Docs that cannot rot: every `cnnlab ...` command in README.md and docs/ parses with the
command line's own parser, every relative link points at a file of the repository, and no
doc cites a scratch file (/tmp/...) or a file outside the project."""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path

import pytest

from cnnlab.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(text: str, langs: tuple[str, ...]) -> list[str]:
    """The bodies of the fenced blocks whose language is one of `langs` ("" = none given),
    read fence by fence, so a closing fence is never taken for an opening one."""
    out, lang, body = [], None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if lang is None:
                lang, body = line[3:].strip(), []
            else:
                if lang in langs:
                    out.append("\n".join(body) + "\n")
                lang = None
        elif lang is not None:
            body.append(line)
    return out


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


@functools.lru_cache(maxsize=1)
def _parser():
    """The whole command line's parser, built once (parsing does not change it)."""
    return build_parser()[0]


ALL = [(doc.name, line, argv, inline) for doc in DOCS for line, argv, inline in commands(doc)]


def test_the_docs_have_commands_to_check():
    assert len(ALL) > 50, "the extraction found too few commands; has the docs' format changed?"


@pytest.mark.parametrize("doc, line, argv, inline", ALL,
                         ids=[f"{d}:{line[:60]}" for d, line, _, _ in ALL])  # fmt: skip
def test_every_documented_command_parses(doc, line, argv, inline):
    """Commands in shell blocks parse whole; an inline mention may leave out what is required
    (`cnnlab predict` names the command), but what it does say must exist."""
    parser = _parser()
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
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) + re.findall(r'src="([^"]+)"', text)
    for target in targets:
        if re.match(r"[a-z]+://", target):
            continue  # a web address (cited sources)
        path = (doc.parent / target).resolve()
        if not path.exists() or ROOT not in path.parents:
            bad.append(f"link {target}")
    bad += [f"cites {m}" for m in re.findall(r"(/tmp/[\w./-]+\.py)", text)]
    assert not bad, f"{doc.name}: " + "; ".join(bad)


# --- the Python blocks: run in order per doc, in a scratch folder, with tiny data budgets ---

SKIP = "# not run by the docs test:"
BLOCKS = [doc for doc in DOCS if "```python" in doc.read_text()]


def _tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Budgets for the docs' own calls: at most 400 training and 500 test images a dataset,
    small generated scenes, and a one-epoch segmentation."""
    import cnnlab.data
    import cnnlab.data.datasets as datasets
    import cnnlab.tasks.segment.run as segment_run

    load, segment = datasets.load_dataset, segment_run.segment

    def small(name="fashion-mnist", **kw):
        import dataclasses

        kw["train_limit"] = min(kw.get("train_limit") or 400, 400)
        d = load(name, **kw)
        return dataclasses.replace(d, test_x=d.test_x[:500], test_y=d.test_y[:500])

    def tiny_segment(config=None, **kw):
        kw.update(n_train=48, n_val=8, n_test=8, epochs=1)
        return segment(config, **kw)

    for module in (datasets, cnnlab.data):
        monkeypatch.setattr(module, "load_dataset", small)
    monkeypatch.setattr(segment_run, "segment", tiny_segment)


@pytest.mark.parametrize("doc", BLOCKS, ids=lambda d: d.name)
def test_every_python_block_runs(doc, tmp_path, monkeypatch, quiet):
    """The blocks of one doc run top to bottom in one namespace (a later block may use an
    earlier one's names), in a folder that has the files the docs name (shoe.png, photo.png)
    and the runs they load. A block that starts with SKIP says why it is not run."""
    import shutil

    import cnnlab
    from cnnlab.data.examples import FOLDER

    _tiny(monkeypatch)
    monkeypatch.chdir(tmp_path)
    for name in ("shoe.png", "photo.png"):
        shutil.copy(FOLDER / "sneaker-photo.png", name)
    if doc.name == "transfer.md":  # the run folder its first block loads
        cnnlab.train(data="fashion-mnist", model="cnn-bn", epochs=1, name="cnn-bn-fashion-mnist",
                     console=quiet, progress=False)  # fmt: skip
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(_blocks(doc.read_text(), ("python",))):
        if block.startswith(SKIP):
            assert len(block.splitlines()[0]) > len(SKIP) + 5, "say why the block is not run"
            continue
        try:
            exec(compile(block, f"{doc.name}#python-{i}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{doc.name}, python block {i}: {type(exc).__name__}: {exc}")


def _generated(text: str) -> str:
    """The sections of a doc that a benchmark script writes (between begin/end markers)."""
    return "\n".join(m[1] for m in GENERATED.findall(text))


GENERATED = re.compile(r"<!-- begin:([\w:-]+) -->(.*?)<!-- end:\1 -->", re.S)
# a measured figure: a number with a unit of measure, a speed-up (2.8x; not a size, 28 x 28),
# or mean ± spread
UNIT = r"(?:\d(?:\.\d+)?\s?(?:%|dB\b|ms\b|s\b|MB\b)|\d\.\d+x\b)"
MEASURED = re.compile(UNIT + r"|img/s|images/s|\d\s?(?:±|\+-)\s?\d")
FIGURE = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?\s?(?:%|dB\b|ms\b|s\b|MB\b)|[+-]?\d+\.\d+x\b")


def _squeeze(text: str) -> str:
    return re.sub(r"(\d)\s+(%|s\b|x\b|dB\b|ms\b|MB\b)", r"\1\2", text)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_measured_tables_are_generated_or_quote_generated_figures(doc):
    """A table of measured figures sits in a section a script writes (benchmarks/*.py, e.g.
    benchmarks/doc_tables.py for the study tables), or quotes only figures that such a section
    holds (in this doc or docs/benchmarks.md): no figure in a table is typed by hand."""
    text = doc.read_text()
    outside = re.sub(r"```.*?```", "", GENERATED.sub("", text), flags=re.S)
    quoted = _squeeze(_generated(text) + _generated((ROOT / "docs/benchmarks.md").read_text()))
    typed = []
    for block in re.findall(r"(?:^\|.*\|\n)+", outside, re.M):
        for line in block.splitlines():
            line = re.sub(r"`[^`]*`", "", line)  # options and commands are not measurements
            if not MEASURED.search(line):
                continue
            figures = [_squeeze(f.replace(" ", "")) for f in FIGURE.findall(line)]
            typed += [f"{f} in {line[:60]!r}" for f in figures if f.lstrip("+") not in quoted]
            if not figures:
                typed.append(f"a measured row: {line[:80]!r}")
    assert not typed, f"{doc.name}: figures typed by hand in tables: {typed}"


def test_the_readme_figures_are_the_benchmarks_own():
    """Every measured figure in README's "Measured" paragraph (a %, a time in s, a speed-up
    in x) appears in a section of docs/benchmarks.md that a benchmark script wrote: a rerun
    that changes a figure makes this fail until README says the same."""
    readme = (ROOT / "README.md").read_text()
    paragraph = readme[readme.index("Measured (") :].split("\n\n")[0]
    tables = re.sub(
        r"(\d)\s+(%|s\b|x\b)", r"\1\2", _generated((ROOT / "docs/benchmarks.md").read_text())
    )
    figures = re.findall(r"[+-]?\d+(?:\.\d+)?\s?(?:%|x\b|s\b)", paragraph)
    assert len(figures) >= 8, figures
    missing = [f for f in figures if re.sub(r"\s", "", f) not in tables]
    assert not missing, f"README figures not in docs/benchmarks.md's generated tables: {missing}"
