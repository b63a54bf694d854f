"""Sound files: any WAV becomes 16 kHz mono float32; what is not a sound file, or is empty,
too short or too long, is one clear DataError. A folder of WAVs, one sub-folder per word, is
a keyword set split by speaker."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cnnlab.core.errors import DataError
from cnnlab.data.keywords import load_keywords, read_wav_folder
from cnnlab.data.wav import LONGEST_CLIP, RATE, one_second, read_wav
from conftest import tone, word_folder


def test_stereo_8_bit_44k_is_converted_to_16k_mono(tmp_path):
    x = tone(440, 0.5, 44100)
    path = tmp_path / "s.wav"
    sf.write(path, np.stack([x, x], 1), 44100, subtype="PCM_U8")
    s = read_wav(path)
    assert s.x.dtype == np.float32 and s.x.shape == (RATE // 2,)
    assert abs(np.sqrt(np.mean(s.x**2)) - 0.5 / np.sqrt(2)) < 0.02  # the tone's RMS survives
    spectrum = np.abs(np.fft.rfft(s.x))
    assert abs(np.argmax(spectrum) * RATE / len(s.x) - 440) < 4  # still 440 Hz at 16 kHz
    notes = " ".join(s.notes())
    assert "2 channels" in notes and "44100 Hz" in notes and "PCM_U8" in notes


def test_a_16k_mono_16_bit_file_reads_without_notes(tmp_path):
    sf.write(tmp_path / "a.wav", tone(300, 1.0), RATE, subtype="PCM_16")
    s = read_wav(tmp_path / "a.wav")
    assert s.notes() == [] and len(s.x) == RATE


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"hello, not a sound", "not a readable sound file"), (b"", "not a readable sound file")],
)
def test_text_or_empty_files_are_refused(tmp_path, content, fragment):
    (tmp_path / "x.wav").write_bytes(content)
    with pytest.raises(DataError, match=fragment):
        read_wav(tmp_path / "x.wav")


def test_a_header_without_samples_and_a_truncated_file_are_refused(tmp_path):
    sf.write(tmp_path / "full.wav", tone(300, 1.0), RATE, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "header.wav").write_bytes(data[:44])
    with pytest.raises(DataError, match="has no samples"):
        read_wav(tmp_path / "header.wav")
    (tmp_path / "cut.wav").write_bytes(data[:1000])  # 478 samples left: too short for a word
    with pytest.raises(DataError, match="needs at least 0.25 s"):
        read_wav(tmp_path / "cut.wav")
    with pytest.raises(DataError, match="does not exist"):
        read_wav(tmp_path / "none.wav")


def test_a_tenth_of_a_second_and_ten_minutes_are_refused(tmp_path):
    sf.write(tmp_path / "short.wav", tone(300, 0.1), RATE)
    with pytest.raises(DataError, match=r"0\.10 s long"):
        read_wav(tmp_path / "short.wav")
    sf.write(tmp_path / "long.wav", np.zeros(10 * 60 * 8000, np.int16), 8000, subtype="PCM_16")
    with pytest.raises(DataError, match="10.0 minutes long.*cnnlab listen"):
        read_wav(tmp_path / "long.wav", longest=LONGEST_CLIP)
    assert read_wav(tmp_path / "long.wav").seconds == pytest.approx(600)  # listen takes it


def test_one_second_pads_short_sounds_in_the_middle_and_keeps_the_loudest_second():
    x = one_second(np.ones(4000, np.float32))
    assert x.shape == (RATE,) and x[:6000].sum() == 0 and x[6000:10000].sum() == 4000
    long = np.zeros(3 * RATE, np.float32)
    long[40000:44000] = 1.0  # a burst at 2.5 s
    cut = one_second(long)
    assert cut.shape == (RATE,) and cut.sum() == 4000


def test_a_folder_is_split_by_speaker_and_padded_to_one_second(tmp_path):
    d = load_keywords(str(word_folder(tmp_path / "words")))
    assert d.classes == ["hi", "lo", "mid"] and "flite" not in d.y
    assert all(v.shape[1] == RATE and v.dtype == np.int16 for v in d.x.values())
    assert sum(len(v) for v in d.y.values()) == 3 * 6 * 3
    speakers = {s: set(v) for s, v in d.voices.items()}
    assert not speakers["train"] & speakers["test"] and not speakers["val"] & speakers["test"]
    assert "by speaker (6 speakers)" in d.source


def test_speech_commands_lists_decide_the_split_when_present(tmp_path):
    root = word_folder(tmp_path / "sc")
    (root / "validation_list.txt").write_text("hi/spk0_nohash_0.wav\nlo/spk0_nohash_0.wav\n")
    (root / "testing_list.txt").write_text("mid/spk1_nohash_2.wav\n")
    d = read_wav_folder(root)
    assert len(d.y["val"]) == 2 and len(d.y["test"]) == 1 and len(d.y["train"]) == 51
    assert d.classes[int(d.y["test"][0])] == "mid"


def test_folders_that_cannot_be_keyword_sets_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="0 sub-folder"):
        load_keywords(str(tmp_path / "empty"))
    root = word_folder(tmp_path / "one", speakers=2)
    with pytest.raises(DataError, match="2 speakers; a split by speaker needs 3"):
        read_wav_folder(root)
