"""A long recording for `cnnlab listen --example`: words of a keyword set's clips, trimmed and
spaced out in time, under noise, with the truth of what was said where. numpy only."""

from __future__ import annotations

import numpy as np

from cnnlab.core.errors import DataError
from cnnlab.data.keywords import SILENCE, UNKNOWN, KeywordData, trim
from cnnlab.data.wav import RATE


def make_stream(d: KeywordData, split: str = "test", seconds: float = 60.0, seed: int = 0,
                snr: tuple[float, float] = (10.0, 20.0), unknown: float = 0.25):  # fmt: skip
    """A recording of words and noise for `cnnlab listen`: words of the split's clips (each
    trimmed to the word, level drawn per word) with pauses of 0.6 to 2 s, a share `unknown`
    of them other words; pink and white noise under all of it at an SNR drawn from `snr`
    (dB, against the mean power of the words). Returns (float32 (n,), [(word, start, end)])."""
    rng = np.random.default_rng(seed)
    y = d.y[split]
    by_class = {c: np.flatnonzero(y == i) for i, c in enumerate(d.classes) if c != SILENCE}
    words = [c for c in by_class if c != UNKNOWN and len(by_class[c])]
    if not words:
        raise DataError(f"the {split} split has no keyword clips to make a recording of")
    n = int(seconds * RATE)
    x = np.zeros(n, np.float32)
    truth, t, power = [], rng.uniform(0.3, 1.0), []
    while True:
        cls = UNKNOWN if rng.random() < unknown and len(by_class.get(UNKNOWN, ())) else (
            words[rng.integers(len(words))])  # fmt: skip
        clip = trim(d.x[split][rng.choice(by_class[cls])].astype(np.float32) / 32768)
        at = int(t * RATE)
        if at + len(clip) > n - RATE // 4:
            break
        x[at : at + len(clip)] = clip
        power.append(float(np.mean(clip**2)))
        truth.append((cls, at / RATE, (at + len(clip)) / RATE))
        t = (at + len(clip)) / RATE + rng.uniform(0.6, 2.0)
    white = rng.standard_normal(n)
    spec = np.fft.rfft(rng.standard_normal(n))
    pink = np.fft.irfft(spec / np.sqrt(np.maximum(np.arange(len(spec)), 1.0)), n=n)
    noise = white / white.std() + pink / pink.std()
    level = np.sqrt(np.mean(power) / 10 ** (rng.uniform(*snr) / 10))
    return (x + noise * level / noise.std()).astype(np.float32), truth
