"""Streaming keyword detection (`cnnlab listen`): a one-second window slides over a long
recording, the run's model scores every window, the scores are smoothed over time, and each
stretch where a word's score stays above a threshold is one detection, placed at the middle
of the stretch (the model is trained on words anywhere in the second, so its score is high
for as long as the word is inside the window: the middle of that stretch is the word).

    found = listen("runs/kws-cnn-keywords", "long.wav")
    for d in found.detections: print(d.time, d.word)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.core.errors import ConfigError, DataError
from cnnlab.data.wav import RATE, read_wav
from cnnlab.tasks.keywords.saved import KeywordModel

TOLERANCE = 0.5  # seconds: a detection this close to a spoken word's span finds it


@dataclass(frozen=True)
class Detection:
    word: str
    time: float  # seconds from the start of the recording
    score: float  # the highest smoothed probability in the stretch
    start: float  # the stretch of window centres above the threshold
    end: float


@dataclass(frozen=True)
class Spoken:
    """A word in a recording, as a truth file lists it."""

    word: str
    start: float
    end: float


@dataclass
class Listened:
    times: np.ndarray  # (W,) window centres, seconds
    scores: np.ndarray  # (W, classes) smoothed probabilities
    classes: list[str]
    keywords: list[int]
    detections: list[Detection]
    wave: np.ndarray  # the recording, 16 kHz mono
    notes: list[str] = field(default_factory=list)


def window_probabilities(km: KeywordModel, x: np.ndarray, hop: float) -> tuple[Any, Any]:
    """Every one-second window, `hop` seconds apart, centred from 0 to the end (the recording
    padded with half a second of silence at both ends). Shapes: (n,) -> (W,), (W, classes)."""
    step = max(1, int(round(hop * RATE)))
    padded = np.concatenate([np.zeros(RATE // 2, np.float32), x, np.zeros(RATE // 2, np.float32)])
    starts = np.arange(0, len(padded) - RATE + 1, step)
    wave = torch.from_numpy(padded)
    out = []
    for i in range(0, len(starts), 512):
        idx = torch.from_numpy(starts[i : i + 512])[:, None] + torch.arange(RATE)[None]
        out.append(km.probabilities(wave[idx]))
    return starts / RATE, np.concatenate(out)


def smooth(p: np.ndarray, n: int) -> np.ndarray:
    """Moving average over `n` windows (centred; 1: unchanged). Shapes: (W, C) -> (W, C)."""
    if n <= 1:
        return p
    kernel = np.ones(n) / n
    pad = np.pad(p, ((n // 2, n - 1 - n // 2), (0, 0)), mode="edge")
    return np.stack([np.convolve(pad[:, c], kernel, mode="valid") for c in range(p.shape[1])], 1)


def detect(times: np.ndarray, scores: np.ndarray, classes: list[str], keywords: list[int],
           threshold: float, min_duration: float = 0.0,
           merge: float = 0.5) -> list[Detection]:  # fmt: skip
    """Stretches where a keyword's score is at or above `threshold`; stretches of one word
    less than `merge` seconds apart are one; a stretch shorter than `min_duration` seconds
    (from its first window centre to its last) is dropped: a whole word inside the window
    keeps its score up for about a second less the word's length, while a word cut at the
    window's edge makes a blip; where words overlap the higher score wins."""
    found = []
    for c in keywords:
        above = np.flatnonzero(scores[:, c] >= threshold)
        if not len(above):
            continue
        breaks = np.flatnonzero(np.diff(times[above]) > merge) + 1
        for run in np.split(above, breaks):
            a, b = float(times[run[0]]), float(times[run[-1]])
            if b - a < min_duration - 1e-9:
                continue
            found.append(Detection(classes[c], (a + b) / 2, float(scores[run, c].max()), a, b))
    found.sort(key=lambda d: -d.score)
    kept: list[Detection] = []
    for d in found:
        if all(d.end < k.start or d.start > k.end for k in kept):
            kept.append(d)
    return sorted(kept, key=lambda d: d.time)


def listen(run: str | Path, file: str | Path, hop: float = 0.1, smoothing: float = 0.3,
           threshold: float = 0.5, min_duration: float = 0.2) -> Listened:  # fmt: skip
    """Detect the run's keywords in a recording (any length up to an hour)."""
    if not 0.01 <= hop <= 1.0:
        raise ConfigError(f"--hop must be 0.01 to 1 s, got {hop}")
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"--threshold must be between 0 and 1, got {threshold}")
    if smoothing < 0:
        raise ConfigError(f"--smooth must be >= 0 s, got {smoothing}")
    if not 0 <= min_duration < 1:
        raise ConfigError(f"--min_duration must be 0 to 1 s, got {min_duration}")
    sound = read_wav(file)
    km = KeywordModel.load(run)
    keywords = km.keyword_ids()
    times, probs = window_probabilities(km, sound.x, hop)
    scores = smooth(probs, max(1, int(round(smoothing / hop)) | 1))
    found = detect(times, scores, km.classes, keywords, threshold, min_duration)
    return Listened(times, scores, km.classes, keywords, found, sound.x, sound.notes())


def read_truth(path: str | Path) -> list[Spoken]:
    """A CSV with columns word, start, end (seconds): the words spoken in a recording."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p} does not exist; give a CSV with columns word,start,end")
    try:
        with p.open(newline="") as f:
            rows = list(csv.DictReader(f))
        return [Spoken(r["word"], float(r["start"]), float(r["end"])) for r in rows]
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not a truth file ({str(exc)[:60]}); give a CSV with columns "
                        "word,start,end in seconds") from None  # fmt: skip


def write_truth(path: Path, spoken: list[Spoken]) -> None:
    from cnnlab.core.io import atomic_write

    lines = ["word,start,end"] + [f"{s.word},{s.start:.3f},{s.end:.3f}" for s in spoken]
    atomic_write(path, "\n".join(lines) + "\n")


def score(detections: list[Detection], truth: list[Spoken], seconds: float,
          tolerance: float = TOLERANCE) -> dict[str, float]:  # fmt: skip
    """Recall of the keywords in `truth` (a detection of the same word within `tolerance`
    seconds of its span, each used once) and false alarms per minute (detections that found
    nothing). Words in `truth` that are not detected classes (e.g. _unknown_) only count when
    something fires on them (a false alarm)."""
    words = {d.word for d in detections} | {s.word for s in truth if not s.word.startswith("_")}
    targets = [s for s in truth if s.word in words and not s.word.startswith("_")]
    used: set[int] = set()
    hits = 0
    for t in targets:
        for i, d in enumerate(detections):
            if i not in used and d.word == t.word and t.start - tolerance <= d.time <= \
                    t.end + tolerance:  # fmt: skip
                used.add(i)
                hits += 1
                break
    false = len(detections) - len(used)
    return {"keywords": len(targets), "found": hits, "recall": hits / max(1, len(targets)),
            "false_alarms": false, "false_alarms_per_min": false / (seconds / 60)}  # fmt: skip


def example_recording(run: str | Path, out: Path, seconds: float = 60.0,
                      seed: int = 0) -> tuple[Path, Path]:  # fmt: skip
    """A recording of the run's held-out test words (its data's test split) and noise, with
    its truth CSV, written to `out`/example.wav and example-truth.csv."""
    import soundfile as sf

    from cnnlab.core.io import read_config
    from cnnlab.data.keyword_stream import make_stream
    from cnnlab.data.keywords import load_keywords

    data = load_keywords(str(read_config(Path(run)).get("data", "keywords")))
    wave, spoken = make_stream(data, "test", seconds, seed)
    out.mkdir(parents=True, exist_ok=True)
    wav, truth = out / "example.wav", out / "example-truth.csv"
    sf.write(str(wav), wave, RATE, subtype="PCM_16")
    write_truth(truth, [Spoken(w, a, b) for w, a, b in spoken])
    return wav, truth


def timeline(found: Listened, threshold: float, truth: list[Spoken] = ()) -> Any:
    """The timeline figure of a listened recording."""
    from cnnlab.viz.audio import timeline_figure

    return timeline_figure(found.wave, _logmel(found.wave), found.times, found.scores,
                           found.classes, found.keywords, found.detections, threshold,
                           truth)  # fmt: skip


def _logmel(x: np.ndarray) -> np.ndarray:
    from cnnlab.data.audio import LogMel

    with torch.no_grad():
        return LogMel()(torch.from_numpy(x)[None])[0, 0].numpy()
