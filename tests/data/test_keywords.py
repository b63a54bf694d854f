"""The synthetic keyword set: speech from espeak-ng and flite, clips of one second at 16 kHz,
splits by voice, and the file it is cached in. The synthesizers are Debian packages: the tests
that need them skip without them, except under CI (the CI variable set), where they fail."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.core.errors import DataError
from cnnlab.data.keywords import (
    CLASSES,
    FLITE_VOICES,
    RATE,
    SILENCE,
    make_keywords,
    place,
    read_keywords,
    resample,
    split_voices,
)
from conftest import cli, needs_speech, one_line_error, skip_without_speech


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    skip_without_speech()
    path = tmp_path_factory.mktemp("kw") / "k.npz"
    return read_keywords(make_keywords(path, voices=5, per_word=1, seed=0))


def test_the_tiny_set_has_every_class_in_every_split_and_voices_never_shared(tiny):
    assert tiny.classes == list(CLASSES)
    for split in ("train", "val", "test", "flite"):
        x, y = tiny.x[split], tiny.y[split]
        assert x.dtype == np.int16 and x.shape == (len(y), RATE)
        assert np.bincount(y, minlength=12).min() >= 1
    train, val, test = (set(tiny.voices[s]) for s in ("train", "val", "test"))
    assert len(train) == 3 and not (train & val) and not (train & test) and not (val & test)
    assert set(tiny.voices["flite"]) == set(FLITE_VOICES)
    silence = tiny.y["train"] == CLASSES.index(SILENCE)
    assert not tiny.x["train"][silence].any()  # noise only: the noise comes when batches are drawn
    peaks = np.abs(tiny.x["train"][~silence].astype(np.float32)).max(axis=1) / 32767
    assert peaks.min() > 0.29 and peaks.max() < 0.91


def test_the_same_seed_makes_the_same_set(tiny, tmp_path):
    again = read_keywords(make_keywords(tmp_path / "k.npz", voices=5, per_word=1, seed=0))
    assert np.array_equal(again.x["train"], tiny.x["train"]) and again.voices == tiny.voices


def test_splits_by_voice_are_disjoint_seeded_and_need_three_voices():
    voices = [f"v{i}" for i in range(20)]
    tr, va, te = split_voices(voices, seed=1)
    assert sorted(tr + va + te) == sorted(voices) and len(va) == 2 and len(te) == 3
    assert split_voices(voices, seed=1) == (tr, va, te) != split_voices(voices, seed=2)
    with pytest.raises(DataError, match="cannot be split"):
        split_voices(["a", "b"], seed=0)


def test_a_word_is_placed_in_one_second_and_a_long_one_cropped():
    rng = np.random.default_rng(0)
    word = np.sin(np.linspace(0, 200, 4000)).astype(np.float32)
    clip = place(word, rng)
    loud = np.flatnonzero(np.abs(clip) > 1e-3)
    assert clip.shape == (RATE,) and 3900 < loud[-1] - loud[0] < 4001
    assert 0.3 <= np.abs(clip).max() <= 0.9
    assert len(np.flatnonzero(place(np.ones(40_000, np.float32), rng))) == RATE
    faster = place(word, rng, speed=1.25)
    assert abs(np.ptp(np.flatnonzero(np.abs(faster) > 1e-3)) - 3200) < 10


def test_resampling_keeps_a_tone_at_its_frequency():
    t = np.arange(22050) / 22050
    x = resample(np.sin(2 * np.pi * 440 * t).astype(np.float32), 22050)
    assert len(x) == RATE
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spectrum) * RATE / len(x) - 440) < 2


def test_a_damaged_cache_file_and_bad_options_are_one_line(capsys, tmp_path, monkeypatch):
    bad = tmp_path / "k.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable keyword set"):
        read_keywords(bad)
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "cache"))
    rc, _, err = cli(capsys, "datasets", "make", "keywords", "--voices", "2")
    one_line_error(rc, err, "--voices must be >= 3")
    rc, _, err = cli(capsys, "datasets", "make", "tweets")
    one_line_error(rc, err, "knows keywords and tabletop")
    rc, _, err = cli(capsys, "datasets", "make", "keywords", "--out", tmp_path)
    one_line_error(rc, err, "is a folder", str(tmp_path / "keywords.npz"))
    rc, _, err = cli(capsys, "datasets", "make", "tabletop", "--out", tmp_path / "t.csv")
    one_line_error(rc, err, "ending in .npz")
    assert not (tmp_path / "cache" / "keywords" / "keywords.npz").exists()


@needs_speech
def test_datasets_make_keywords_writes_the_cache_and_datasets_shows_it(capsys, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path))
    rc, out, err = cli(capsys, "datasets", "make", "keywords", "--voices", "4", "--per_word", "1")
    assert rc == 0, err
    assert "synthetic (espeak-ng, 2 train / 1 val / 1 test voices" in out
    rc, out, _ = cli(capsys, "datasets")
    assert rc == 0 and str(tmp_path / "keywords" / "keywords.npz") in out.replace("\n", "")
    cached = (tmp_path / "keywords" / "keywords.npz").read_bytes()
    own = tmp_path / "mine" / "small.npz"  # --out: a set of its own, the cache left as it was
    rc, out, err = cli(capsys, "datasets", "make", "keywords", "--voices", "3", "--per_word",
                       "1", "--out", own)  # fmt: skip
    assert rc == 0, err
    assert "1 train / 1 val / 1 test voices" in out
    assert (tmp_path / "keywords" / "keywords.npz").read_bytes() == cached
    assert read_keywords(own).x["train"].shape[1:] == read_keywords(own).x["test"].shape[1:]


def test_a_cache_from_an_older_cnnlab_is_made_anew(tmp_path, monkeypatch):
    import json

    from cnnlab.data import keywords as kw

    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path))
    path = kw.cached_keywords()
    path.parent.mkdir(parents=True)
    np.savez(path, meta=np.array(json.dumps({"format": kw.FORMAT - 1})))
    made = []

    def fake_make(p, seed=0):  # stands in for the synthesizers: records the call
        made.append(p)
        raise DataError("made anew")

    monkeypatch.setattr(kw, "make_keywords", fake_make)
    with pytest.raises(DataError, match="made anew"):
        kw.load_keywords("keywords")
    assert made == [path] and kw.npz_format(tmp_path / "none.npz") is None
