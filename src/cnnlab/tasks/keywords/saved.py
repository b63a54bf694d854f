"""A finished keyword run read back: its model with the features it was trained on (log-mel or
MFCC, normalised by the training set's mean and std), for `cnnlab predict`, `listen` and
`show features`.

    km = KeywordModel.load("runs/kws-cnn-keywords")
    probs = km.probabilities(torch.zeros(2, 16000))   # (2, 12)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.core.errors import ConfigError, DataError
from cnnlab.data.audio import FeatureConfig, LogMel
from cnnlab.data.wav import LONGEST_CLIP, Sound, is_sound_file, one_second, read_wav

CHUNK = 256  # windows per forward pass


class KeywordModel:
    """A keyword run's model and its feature pipeline."""

    def __init__(self, model: torch.nn.Module, meta: Any, run: Path) -> None:
        self.model, self.meta, self.run = model.float().eval(), meta, Path(run)
        self.features = LogMel(FeatureConfig(mfcc=int(meta.extra.get("mfcc", 0))))
        self.mean, self.std = float(meta.mean[0]), float(meta.std[0])
        self.classes = list(meta.classes)

    @classmethod
    def load(cls, run: str | Path) -> KeywordModel:
        from cnnlab.engine.runs import load_model

        model, meta = load_model(Path(run))
        if meta.task != "keywords":
            raise ConfigError(f"{run} is a {meta.task} run, not a keyword run: sound files go "
                              "to runs of cnnlab keywords")  # fmt: skip
        return cls(model, meta, Path(run))

    def inputs(self, waves: torch.Tensor) -> torch.Tensor:
        """Normalised features. Shapes: (B, 16000) float -> (B, 1, F, T)."""
        with torch.no_grad():
            return (self.features(waves) - self.mean) / self.std

    def probabilities(self, waves: torch.Tensor) -> np.ndarray:
        """Class probabilities. Shapes: (B, 16000) float -> (B, classes)."""
        out = []
        with torch.inference_mode():
            for i in range(0, len(waves), CHUNK):
                logits = self.model(self.inputs(waves[i : i + CHUNK]))
                out.append(torch.softmax(logits.float(), dim=1))
        if not out:
            return np.zeros((0, len(self.classes)), np.float32)
        return torch.cat(out).numpy()

    def keyword_ids(self) -> list[int]:
        """The classes that are words to detect (not _unknown_, _silence_ or other _names)."""
        return [i for i, c in enumerate(self.classes) if not c.startswith("_")]


def read_clip(path: str | Path) -> tuple[np.ndarray, Sound, list[str]]:
    """One clip for predict: (16000,) float32, the sound read, and notes on what was done."""
    if not is_sound_file(path) and Path(path).is_file():
        raise DataError(f"{path} is not a sound file (.wav, .flac, .ogg); a keyword run "
                        "predicts spoken words from WAV files")  # fmt: skip
    sound = read_wav(path, longest=LONGEST_CLIP)
    notes = sound.notes()
    if sound.seconds > 1.0:
        notes.append(f"{sound.seconds:.1f} s long: its loudest second was used")
    elif sound.seconds < 1.0:
        notes.append(f"{sound.seconds:.2f} s long: padded with silence to one second")
    return one_second(sound.x), sound, notes


def predict_lines(run: Path, files: list[str], topk: int = 3) -> list[str]:
    """`cnnlab predict RUN clip.wav ...`: each clip's words, most likely first."""
    if topk < 1:
        raise ConfigError(f"--topk must be >= 1, got {topk}")
    if not files:
        raise ConfigError("give WAV files to predict (one spoken word each); for a long "
                          "recording use cnnlab listen RUN FILE")  # fmt: skip
    clips = [read_clip(f) for f in files]  # every file is checked before any work is done
    km = KeywordModel.load(run)
    probs = km.probabilities(torch.from_numpy(np.stack([c for c, _, _ in clips])))
    k = min(topk, probs.shape[1])
    lines = []
    for f, (_, _, notes), p in zip(files, clips, probs, strict=True):
        order = np.argsort(-p, kind="stable")[:k]
        lines.append(f"{f}: " + "  ".join(f"{km.classes[j]} {p[j]:.1%}" for j in order))
        lines += [f"  note: {n}" for n in notes]
    return lines


def example_clips(run: Path) -> list[str]:
    """The run's example clips (one held-out test clip per class, written when it finished)."""
    found = sorted((Path(run) / "examples").glob("*.wav"))
    if not found:
        raise DataError(f"{run} has no examples/ clips (the run has not finished); give WAV "
                        "files instead")  # fmt: skip
    return [str(f) for f in found]


def write_examples(folder: Path, task: Any, snr: float = 20.0) -> list[Path]:
    """One clip per class from the test split (held-out voices), noise mixed in at `snr` dB,
    as folder/examples/<class>.wav: for `predict --example`, `show features` and the docs."""
    import soundfile as sf

    from cnnlab.data.wav import RATE

    y = task.y["test"]
    picks = [
        int(np.flatnonzero(y == i)[0]) for i in range(len(task.data.classes)) if (y == i).any()
    ]
    g = torch.Generator().manual_seed(task.cfg.seed + 30)
    waves = task.noisy(task.x["test"][picks], g, snr=snr).clamp(-1, 1).numpy()
    out = Path(folder) / "examples"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, w in zip(picks, waves, strict=True):
        path = out / f"{task.data.classes[int(y[i])].strip('_')}.wav"
        sf.write(str(path), w, RATE, subtype="PCM_16")
        written.append(path)
    return written


def stage_maps(km: KeywordModel, clip: np.ndarray) -> tuple[np.ndarray, list[tuple[str, Any]]]:
    """The clip's normalised features (F, T) and every conv stage's output for it, as
    (name, (C, F, T) or (C, T) array). An MLP run has no stages: ConfigError."""
    blocks = getattr(km.model, "blocks", None)
    if blocks is None:
        raise ConfigError(f"{km.run} (model {km.meta.model!r}) has no convolutions to show; "
                          "train kws-cnn, kws-ds-cnn or kws-tc")  # fmt: skip
    x = km.inputs(torch.from_numpy(clip)[None])
    maps = []
    with torch.inference_mode():
        h = x.flatten(1, 2) if km.meta.model == "kws-tc" else x
        for name, block in blocks():
            h = block(h)
            maps.append((name, h[0].float().numpy()))
    return x[0, 0].numpy(), maps
