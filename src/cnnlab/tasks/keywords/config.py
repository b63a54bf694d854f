"""The configuration of a keyword run: one frozen dataclass, from which `cnnlab keywords` is
generated; saved as config.yaml in the run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.config import check_ranges, inherit_arg_docs, make_config
from cnnlab.engine.config import LoopConfig

TASK = "keywords"


@inherit_arg_docs
@dataclass(frozen=True)
class KeywordsConfig(LoopConfig):
    """Everything a keyword-spotting run needs; saved as config.yaml in the run folder.

    Args:
        data: keywords (the synthetic set, generated on first use) or a .npz it was written
            to.
        model: kws-cnn, kws-ds-cnn, kws-tc or kws-mlp (see cnnlab models).
        model_args: options of the model's config, e.g. {"widths": [32, 64]}.
        mfcc: 0 for log-mel features (40 bands), else this many MFCCs.
        batch_size: clips per step.
        snr: the range of signal-to-noise ratios (dB) noise is mixed in at when training.
        clean: share of training clips left without noise.
        spec_augment: SpecAugment's time and frequency masks when training.
        warp: stretch each training clip's mel axis by a factor in [1 - warp, 1 + warp]
            (formants up or down, as between voices); 0: off.
        lowpass: share of training clips low-passed at a random 3.4 to 8 kHz (as 8 kHz and
            telephone recordings are).
        shift: move each training clip by up to this many seconds (wrapping around).
        label_smoothing: cross-entropy label smoothing.
        train_limit: keep a class-balanced subset of this many training clips.
    """

    data: str = "keywords"
    model: str = "kws-cnn"
    model_args: dict[str, Any] = field(default_factory=dict)
    mfcc: int = 0
    batch_size: int = 64
    snr: tuple[float, float] = (0.0, 30.0)
    clean: float = 0.1
    spec_augment: bool = True
    warp: float = 0.1
    lowpass: float = 0.3
    shift: float = 0.1
    label_smoothing: float = 0.05
    train_limit: int | None = None
    epochs: int = 20
    weight_decay: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ranges(self, {
            "mfcc": ">= 0", "batch_size": ">= 1", "clean": "[0, 1]",
            "label_smoothing": "[0, 1)", "train_limit": "None or >= 2", "warp": "[0, 1)",
            "lowpass": "[0, 1]", "shift": "[0, 1]",
        })  # fmt: skip
        if len(self.snr) != 2 or self.snr[0] > self.snr[1]:
            raise ValueError(f"snr must be [low, high] in dB with low <= high, got {self.snr}")


def make_keywords_config(config: KeywordsConfig | dict[str, Any] | None = None,
                         **overrides: Any):  # fmt: skip
    """A KeywordsConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    return make_config(KeywordsConfig, config, TASK, **overrides)
