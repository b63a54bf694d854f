"""The text task's parts: tokenizers trained on the training split, ids with 0 as padding,
and the TF-IDF baseline on the embedded tweets slice."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlab.data.text as text_mod
from cnnlab.core.errors import RunError
from cnnlab.data.text import load_text_data
from cnnlab.tasks.text.baseline import tfidf_baseline
from cnnlab.tasks.text.tokens import encode, load_tokenizer, save_tokenizer, train_tokenizer

TEXTS = ["the flight was late again", "great crew, great flight!", "late and rude",
         "the crew was great", "rude rude rude", "a flight"] * 5  # fmt: skip


@pytest.mark.parametrize("kind", ["bpe", "word"])
def test_ids_pad_with_zero_cut_at_max_len_and_survive_a_save(kind, tmp_path):
    tok = train_tokenizer(TEXTS, kind, vocab_size=300, min_frequency=1)
    assert tok.get_vocab_size() <= 300 and tok.token_to_id("<pad>") == 0
    ids = encode(tok, ["The flight", "great " * 40], max_len=8)
    assert ids.shape == (2, 8) and ids.dtype == np.int64
    assert (ids[0, 2:] == 0).all() and (ids[0, :2] > 0).all()  # lower-cased, then padded
    assert (ids[1] > 0).all()  # cut at 8
    save_tokenizer(tok, tmp_path / "tokenizer.json")
    again = load_tokenizer(tmp_path / "tokenizer.json")
    assert (encode(again, ["late crew"], 8) == encode(tok, ["late crew"], 8)).all()


def test_words_outside_the_vocabulary_become_unk_and_bytes_never_do():
    word = train_tokenizer(TEXTS, "word", vocab_size=300, min_frequency=1)
    assert encode(word, ["zebra flight"], 4)[0, :2].tolist() == [1, word.token_to_id("flight")]
    bpe = train_tokenizer(TEXTS, "bpe", vocab_size=300, min_frequency=1)
    assert bpe.decode(encode(bpe, ["zebra ☕"], 32)[0].tolist(), skip_special_tokens=True).strip() \
        == "zebra ☕"  # fmt: skip


def test_bad_tokenizer_settings_and_files(tmp_path):
    with pytest.raises(ValueError, match="tokenizer must be one of bpe, word"):
        train_tokenizer(TEXTS, "chars")
    (tmp_path / "t.json").write_text("{not json")
    with pytest.raises(RunError, match="is not a readable tokenizer"):
        load_tokenizer(tmp_path / "t.json")


def test_the_tfidf_baseline_beats_chance_on_the_tweets_slice(monkeypatch):
    monkeypatch.setattr(text_mod, "find_tweets", lambda: None)
    data = load_text_data("tweets", seed=0)
    r = tfidf_baseline(data)
    majority = np.bincount(data.test_y).max() / len(data.test_y)
    assert r.accuracy > majority + 0.1 and 0.4 < r.macro_f1 <= 1
    assert r.predictions.shape == data.test_y.shape and r.features > 1000


@pytest.mark.parametrize("kind", ["bpe", "word"])
def test_long_texts_give_the_ids_of_the_whole_text(kind):
    tok = train_tokenizer(["the flight was late again", "great crew and seat"] * 5, kind, 200)
    long = "the flight was late again " * 4000  # 104,000 characters
    spaced = " " * 5000 + "great crew " * 100  # its tokens start far in
    for text in (long, spaced, "great crew"):
        want = tok.encode(text).ids[:16]
        got = encode(tok, [text], 16)[0]
        assert got[: len(want)].tolist() == want and not got[len(want) :].any()
