"""Keyword spotting data: a synthetic speech-commands set, generated here with Debian's speech
synthesizers, and any folder of WAV files with one sub-folder per word. numpy, scipy and
subprocess; no torch.

The ten core words of Google's Speech Commands (Warden, 2018) plus `_unknown_` (other words)
and `_silence_` (noise only). espeak-ng speaks them in 8 English accents with its voice
variants (the "voices" here: timbre presets such as `f2`, `croak`, `klatt3`), at random speed
and pitch; flite speaks them with its general-domain voices, a different synthesizer
altogether. Every clip is 16 kHz mono, one second, the word at a random offset, its speed
perturbed by up to 10 %. Clips are stored clean; noise (white, pink, babble) is mixed in at a
random SNR when batches are drawn, so every epoch hears new noise.

Splits are by voice: no validation or test voice is heard in training, in any accent. The
flite clips are a second test set.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlab.core.errors import DataError
from cnnlab.core.io import npz_format
from cnnlab.data.wav import RATE, resample

WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN_WORDS = ("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree",
                 "wow", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "learn", "follow", "forward", "backward", "visual")  # fmt: skip
UNKNOWN, SILENCE = "_unknown_", "_silence_"
CLASSES = (*WORDS, UNKNOWN, SILENCE)
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
           "en-gb-x-gbcwmd", "en-029", "en-us-nyc")  # fmt: skip
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")  # awb_time speaks only times of day
FORMAT = 2  # of the cached file; a change makes it anew (2: 10 clips per word and voice)
ESPEAK_MISSING = ("espeak-ng is not installed: apt-get install espeak-ng flite sox (or give "
                  "--data with a folder of WAV files, one sub-folder per word)")  # fmt: skip


@dataclass
class KeywordData:
    """Keyword clips in memory: int16 (N, 16000) per split, int64 labels, the voice of each
    clip. `test` holds held-out espeak-ng voices, `flite` the other synthesizer's voices."""

    name: str
    classes: list[str]
    x: dict[str, np.ndarray]  # split -> (N, RATE) int16
    y: dict[str, np.ndarray]  # split -> (N,) int64
    voices: dict[str, list[str]]  # split -> voice of each clip
    source: str
    meta: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(v)} {k}" for k, v in self.y.items())
        return f"KeywordData({self.name!r}, {self.num_classes} classes: {sizes})"


# ---- synthesis -------------------------------------------------------------------------------


def has_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak_variants() -> list[str]:
    """espeak-ng's voice variants (timbre presets), sorted: the voices the split is by."""
    if not has_espeak():
        raise DataError(ESPEAK_MISSING)
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    names = [line.split()[-1].removeprefix("!v/") for line in out.splitlines()[1:] if line]
    return sorted(set(names))


def _wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit mono PCM samples and the rate of a WAV in memory (espeak-ng's --stdout writes
    a streaming header whose sizes are placeholders, so the data runs to the end)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE" or b"data" not in data[:200]:
        raise DataError("the synthesizer wrote no WAV; check espeak-ng / flite")
    rate = int.from_bytes(data[24:28], "little")
    start = data.index(b"data", 12) + 8
    body = data[start:]
    return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(np.float32) / 32768, rate


def speak_espeak(word: str, accent: str, variant: str, speed: int, pitch: int) -> np.ndarray:
    """One word spoken by espeak-ng, float32 at 16 kHz."""
    argv = ["espeak-ng", "-v", f"{accent}+{variant}", "-s", str(speed), "-p", str(pitch),
            "--stdout", word]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, check=True)
    x, rate = _wav_samples(out.stdout)
    return resample(x, rate)


def speak_flite(word: str, voice: str) -> np.ndarray:
    """One word spoken by flite, float32 at 16 kHz."""
    if shutil.which("flite") is None:
        raise DataError(ESPEAK_MISSING.replace("espeak-ng is", "flite is"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.wav"
        subprocess.run(["flite", "-voice", voice, "-t", word, "-o", str(path)],
                       capture_output=True, check=True)  # fmt: skip
        x, rate = _wav_samples(path.read_bytes())
    return resample(x, rate)


def trim(x: np.ndarray, level: float = 0.02) -> np.ndarray:
    """The part of `x` between the first and last sample louder than `level` x its peak."""
    loud = np.flatnonzero(np.abs(x) > level * (np.abs(x).max() + 1e-12))
    return x[loud[0] : loud[-1] + 1] if len(loud) else x[:0]


def place(word: np.ndarray, rng: np.random.Generator, speed: float = 1.0) -> np.ndarray:
    """A one-second clip: `word` played `speed` times as fast, at a random offset, peak
    normalised to a random level in [0.3, 0.9]; a word longer than a second is cropped."""
    w = trim(word)
    if len(w) and speed != 1.0:
        n = max(1, int(round(len(w) / speed)))
        w = np.interp(np.linspace(0, len(w) - 1, n), np.arange(len(w)), w).astype(np.float32)
    w = w[:RATE]
    clip = np.zeros(RATE, np.float32)
    if len(w):
        at = int(rng.integers(0, RATE - len(w) + 1))
        clip[at : at + len(w)] = w * (rng.uniform(0.3, 0.9) / (np.abs(w).max() + 1e-12))
    return clip


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


# ---- the generated set -------------------------------------------------------------------------


def _jobs(voices: list[str], per_word: int, seed: int, synth: str) -> list[dict]:
    """What to speak: per voice, `per_word` clips of every class (random accent, speed,
    pitch and unknown word drawn from the seed)."""
    rng = random.Random(seed)
    jobs = []
    for v in voices:
        for label, cls in enumerate(CLASSES):
            for _ in range(per_word):
                word = rng.choice(UNKNOWN_WORDS) if cls == UNKNOWN else cls
                jobs.append({"voice": v, "label": label, "word": word, "synth": synth,
                             "accent": rng.choice(ACCENTS), "speed": rng.randint(130, 210),
                             "pitch": rng.randint(25, 75), "stretch": rng.uniform(0.9, 1.1),
                             "seed": rng.randrange(2**31)})  # fmt: skip
    return jobs


def _render(job: dict) -> np.ndarray:
    rng = np.random.default_rng(job["seed"])
    if job["word"] == SILENCE:
        return np.zeros(RATE, np.int16)  # noise only: the noise is mixed in when batches are drawn
    if job["synth"] == "flite":
        x = speak_flite(job["word"], job["voice"])
    else:
        x = speak_espeak(job["word"], job["accent"], job["voice"], job["speed"], job["pitch"])
    return to_int16(place(x, rng, job["stretch"]))


def split_voices(variants: list[str], seed: int, val: float = 0.1, test: float = 0.15):
    """Voices -> (train, val, test), disjoint, seeded; val and test get at least one each."""
    order = sorted(variants)
    random.Random(seed).shuffle(order)
    n_val, n_test = max(1, round(val * len(order))), max(1, round(test * len(order)))
    if len(order) < n_val + n_test + 1:
        raise DataError(f"{len(order)} voices cannot be split into train, val and test; give "
                        "--voices 3 or more")  # fmt: skip
    return order[n_val + n_test :], order[:n_val], order[n_val : n_val + n_test]


def make_keywords(path: Path, voices: int | None = None, per_word: int = 10, seed: int = 0,
                  progress: Callable[[int, int], None] | None = None,
                  workers: int = 4) -> Path:  # fmt: skip
    """Generate the synthetic keyword set into `path` (.npz, written atomically): `voices`
    espeak-ng variants (None: all) split by voice, `per_word` clips per class and voice, and
    the flite voices as a second test set. `progress(done, total)` is called as clips come."""
    from cnnlab.core.io import atomic_write

    variants = espeak_variants()
    if voices is not None:
        if voices < 3:
            raise DataError(f"--voices must be >= 3 (train, val and test voices), got {voices}")
        variants = sorted(random.Random(seed).sample(variants, min(voices, len(variants))))
    if per_word < 1:
        raise DataError(f"--per_word must be >= 1, got {per_word}")
    parts = dict(zip(("train", "val", "test"), split_voices(variants, seed), strict=True))
    jobs = {name: _jobs(v, per_word, seed + i, "espeak") for i, (name, v) in
            enumerate(parts.items())}  # fmt: skip
    jobs["flite"] = _jobs(list(FLITE_VOICES), per_word, seed + 3, "flite")
    total, done = sum(len(j) for j in jobs.values()), 0
    arrays: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(workers) as pool:
        for name, js in jobs.items():
            clips = []
            for clip in pool.map(_render, js):
                clips.append(clip)
                done += 1
                if progress is not None:
                    progress(done, total)
            arrays[f"{name}_x"] = np.stack(clips)
            arrays[f"{name}_y"] = np.array([j["label"] for j in js], np.int64)
            arrays[f"{name}_voice"] = np.array([j["voice"] for j in js])
    meta = {"format": FORMAT, "classes": list(CLASSES), "voices": {k: sorted(v) for k, v in
            parts.items()} | {"flite": list(FLITE_VOICES)}, "per_word": per_word,
            "seed": seed, "accents": list(ACCENTS)}  # fmt: skip
    arrays["meta"] = np.array(json.dumps(meta))
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, buf.getvalue())
    return path


def cached_keywords() -> Path:
    """Where `cnnlab datasets make keywords` writes the generated set."""
    from cnnlab.core.io import cache_dir

    return cache_dir() / "keywords" / "keywords.npz"


def read_keywords(path: Path) -> KeywordData:
    """A generated set from its .npz file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            splits = ("train", "val", "test", "flite")
            x = {s: z[f"{s}_x"] for s in splits}
            y = {s: z[f"{s}_y"] for s in splits}
            voices = {s: [str(v) for v in z[f"{s}_voice"]] for s in splits}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path} is not a readable keyword set ({str(exc)[:80]}); delete it "
                        "and run cnnlab datasets make keywords") from None  # fmt: skip
    if meta.get("format") != FORMAT:
        raise DataError(f"{path} is from another cnnlab version; delete it and run cnnlab "
                        "datasets make keywords")  # fmt: skip
    source = (f"keywords: synthetic (espeak-ng, {len(meta['voices']['train'])} train / "
              f"{len(meta['voices']['val'])} val / {len(meta['voices']['test'])} test voices; "
              f"flite {len(meta['voices']['flite'])} voices) from {path}")  # fmt: skip
    return KeywordData("keywords", list(meta["classes"]), x, y, voices, source, meta)


def load_keywords(data: str = "keywords", train_limit: int | None = None,
                  seed: int = 0) -> KeywordData:  # fmt: skip
    """The set named `data`: "keywords" (the cached synthetic set, generated with the defaults
    on first use), a .npz written by `cnnlab datasets make keywords`, or a folder of sound
    files with one sub-folder per word (see read_wav_folder). `train_limit` keeps a
    class-balanced subset of the training clips."""
    from cnnlab.data.splits import stratified_take

    path = Path(data)
    if data == "keywords":
        path = cached_keywords()
        if npz_format(path) != FORMAT:  # missing, or made by an older cnnlab: make it anew
            make_keywords(path, seed=0)
    elif path.is_dir():
        d = read_wav_folder(path, seed)
    elif not path.is_file():
        raise DataError(f"{path} does not exist; give --data keywords (generated on first "
                        "use) or a .npz from cnnlab datasets make keywords")  # fmt: skip
    if not path.is_dir():
        d = read_keywords(path)
    if train_limit is not None and train_limit < len(d.y["train"]):
        keep = np.sort(stratified_take(d.y["train"], train_limit, np.random.default_rng(seed)))
        d.x["train"], d.y["train"] = d.x["train"][keep], d.y["train"][keep]
        d.voices["train"] = [d.voices["train"][i] for i in keep]
    return d


# ---- a folder of sound files ---------------------------------------------------------------


def _speaker(f: Path) -> str:
    """Speech Commands names files SPEAKER_nohash_N.wav; other names: each file its own."""
    return f.name.split("_nohash_")[0] if "_nohash_" in f.name else f"{f.parent.name}/{f.name}"


def _listed(root: Path, name: str) -> set[str] | None:
    f = root / name
    return set(f.read_text().split()) if f.is_file() else None


def read_wav_folder(root: Path, seed: int = 0, val: float = 0.1, test: float = 0.1) -> KeywordData:
    """Sound files in one sub-folder per word (the Speech Commands layout), each read as
    16 kHz mono, padded or cut to one second. Split by speaker (the part of the name before
    `_nohash_`; a file without one is its own speaker), seeded, or by Speech Commands'
    validation_list.txt and testing_list.txt when they are there. Folders that start with
    `_background` are not words and are skipped."""
    from cnnlab.data.wav import is_sound_file, one_second, read_wav

    root = Path(root)
    words = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(
        "_background") and any(is_sound_file(f) for f in p.iterdir()))  # fmt: skip
    if len(words) < 2:
        raise DataError(
            f"{root} has {len(words)} sub-folder(s) of sound files; give a "
            "folder with one sub-folder of WAV files per word (two or more)"
        )
    files = [(f, i) for i, w in enumerate(words) for f in sorted(w.iterdir()) if is_sound_file(f)]
    listed = {s: _listed(root, f"{n}_list.txt") for s, n in (("val", "validation"),
                                                            ("test", "testing"))}  # fmt: skip
    if listed["val"] is not None and listed["test"] is not None:

        def part(f: Path) -> str:
            key = f"{f.parent.name}/{f.name}"
            return "val" if key in listed["val"] else "test" if key in listed["test"] else "train"

        how = "validation_list.txt and testing_list.txt"
    else:
        speakers = sorted({_speaker(f) for f, _ in files})
        if len(speakers) < 3:
            raise DataError(f"{root} has {len(speakers)} speakers; a split by speaker needs 3 "
                            "or more (name files SPEAKER_nohash_N.wav)")  # fmt: skip
        train, vals, tests = split_voices(speakers, seed, val, test)
        where = dict.fromkeys(vals, "val") | dict.fromkeys(tests, "test")

        def part(f: Path) -> str:
            return where.get(_speaker(f), "train")

        how = f"by speaker ({len(speakers)} speakers)"
    splits: dict[str, list] = {"train": [], "val": [], "test": []}
    for f, label in files:
        splits[part(f)].append((f, label))
    with ThreadPoolExecutor(4) as pool:

        def load(item: tuple[Path, int]) -> np.ndarray:
            return to_int16(one_second(read_wav(item[0], longest=60.0, shortest=0.0).x))

        x = {s: np.stack(list(pool.map(load, v))) if v else np.zeros((0, RATE), np.int16)
             for s, v in splits.items()}  # fmt: skip
    y = {s: np.array([lab for _, lab in v], np.int64) for s, v in splits.items()}
    if min(len(v) for v in y.values()) == 0:
        sizes = ", ".join(f"{len(v)} {s}" for s, v in y.items())
        raise DataError(f"{root}: the split {how} leaves a split empty ({sizes}); add files")
    voices = {s: [_speaker(f) for f, _ in v] for s, v in splits.items()}
    source = f"{root}: {len(files)} sound files of {len(words)} words, split {how}"
    return KeywordData(root.name, [w.name for w in words], x, y, voices, source,
                       {"format": FORMAT, "folder": str(root)})  # fmt: skip
