"""Reading sound files for keyword spotting: any WAV (or FLAC/OGG libsndfile reads) becomes
float32 mono at 16 kHz, whatever its channels, sample format and rate; a file that is not
audio, or is empty, is one clear DataError. numpy, scipy and soundfile; no torch.

    x = read_wav("clip.wav")          # (samples,) float32 in [-1, 1] at 16 kHz
    clip = one_second(x)              # (16000,): padded, or its loudest second
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlab.core.errors import DataError

RATE = 16_000  # samples per second of every clip
SHORTEST = 0.25  # seconds: a clip shorter than this cannot hold a word
LONGEST_CLIP = 30.0  # seconds: `predict` takes clips; longer recordings are for `listen`
LONGEST_RECORDING = 3600.0  # seconds: what `listen` reads in one go
SUFFIXES = (".wav", ".wave", ".flac", ".ogg")


@dataclass
class Sound:
    """A sound file read and converted: `x` float32 mono at 16 kHz; what it was before."""

    x: np.ndarray
    path: Path
    rate: int
    channels: int
    subtype: str

    @property
    def seconds(self) -> float:
        return len(self.x) / RATE

    def notes(self) -> list[str]:
        """What was converted, in words (empty when it was 16 kHz mono 16-bit already)."""
        out = []
        if self.channels > 1:
            out.append(f"{self.channels} channels mixed to mono")
        if self.rate != RATE:
            out.append(f"resampled from {self.rate} Hz to {RATE} Hz")
        if self.subtype not in ("PCM_16", ""):
            out.append(f"{self.subtype} samples read as float")
        return out


def resample(x: np.ndarray, rate: int, to: int = RATE) -> np.ndarray:
    """Polyphase resampling from `rate` to `to` Hz (scipy). Shapes: (n,) -> (n * to / rate,)."""
    if rate == to:
        return x.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, to)
    return resample_poly(x, to // g, rate // g).astype(np.float32)


def is_sound_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SUFFIXES


def read_wav(path: str | Path, longest: float = LONGEST_RECORDING,
             shortest: float = SHORTEST) -> Sound:  # fmt: skip
    """A sound file as float32 mono at 16 kHz. Errors (DataError): missing, not audio or
    truncated before its first sample, no samples, shorter than `shortest` or longer than
    `longest` seconds."""
    import soundfile as sf

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p} does not exist; give a WAV file (16 kHz mono is best, any rate "
                        "and channels are converted)")  # fmt: skip
    try:
        info = sf.info(str(p))
        if info.frames <= 0:
            raise DataError(f"{p} has no samples; record or export it again")
        seconds = info.frames / info.samplerate
        if seconds > longest:
            raise DataError(f"{p} is {_span(seconds)} long; this command takes at "
                            f"most {_span(longest)}{_hint(longest)}")  # fmt: skip
        x, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except DataError:
        raise
    except (RuntimeError, ValueError, OSError, EOFError) as exc:  # libsndfile's are RuntimeError
        raise DataError(
            f"{p} is not a readable sound file ({_reason(exc)}); give a WAV "
            "file (convert others: sox FILE -r 16000 -c 1 clip.wav)"
        ) from None
    if len(x) == 0:
        raise DataError(f"{p} has no samples (is it truncated?); record or export it again")
    mono = x.mean(axis=1) if x.shape[1] > 1 else x[:, 0]
    sound = Sound(resample(mono, int(rate)), p, int(rate), int(x.shape[1]), info.subtype)
    if sound.seconds < shortest:
        raise DataError(f"{p} is {sound.seconds:.2f} s long; a keyword needs at least "
                        f"{shortest:g} s of sound (a one-second clip is best)")  # fmt: skip
    return sound


def _span(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} minutes"


def _hint(longest: float) -> str:
    if longest <= LONGEST_CLIP:
        return " (one word per clip); for a long recording use cnnlab listen RUN FILE"
    return "; cut it into parts (sox FILE part.wav trim 0 3600 : newfile : restart)"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[-1][:60]


def one_second(x: np.ndarray) -> np.ndarray:
    """Exactly one second: a shorter sound centred in silence, a longer one cut to its
    loudest second (by energy, in 10 ms steps). Shapes: (n,) -> (16000,)."""
    if len(x) <= RATE:
        out = np.zeros(RATE, np.float32)
        at = (RATE - len(x)) // 2
        out[at : at + len(x)] = x
        return out
    hop = RATE // 100
    energy = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.arange(0, len(x) - RATE + 1, hop)
    best = int(starts[np.argmax(energy[starts + RATE] - energy[starts])])
    return x[best : best + RATE].astype(np.float32)
