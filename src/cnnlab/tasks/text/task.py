"""Text classification as an engine task: token ids from a tokenizer trained on the training
split, cross-entropy with label smoothing, accuracy; at the end the test metrics (accuracy,
macro-F1, per class), the most confidently wrong texts and the TF-IDF baseline on the same
split, in results.json and report.html."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.data.text import TextData, load_text_data
from cnnlab.engine import runs
from cnnlab.engine.task import Context, Task, label_step, num_batches, stride
from cnnlab.models import create_task_model, task_models
from cnnlab.tasks.text.config import TASK, TextConfig
from cnnlab.tasks.text.tokens import (
    default_vocab,
    encode,
    glove_rows,
    resolve_kind,
    train_tokenizer,
)

EVAL_BATCH = 512  # texts per forward pass when evaluating


class TextTask(Task):
    """One label per text. `data` is a TextData already in memory, or None to read cfg.data
    in every process (after the launch). The tokenizer is trained in every process on the
    same training texts, so every process has the same ids."""

    name = TASK
    command = "text"
    help = "classify texts with a 1-D CNN (text-cnn, bow-mlp); writes runs/<name>/ (docs/text.md)"
    config_cls = TextConfig
    data_type = TextData

    def __init__(self, cfg: TextConfig, data: TextData | None = None) -> None:
        self.cfg, self.data = cfg, data
        task_models(TASK).get(cfg.model)  # an unknown model fails before the data is read

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        cfg = self.cfg
        if self.data is None:
            self.data = load_text_data(
                cfg.data, text_column=cfg.text_column, label_column=cfg.label_column,
                encoding=cfg.encoding, val_fraction=cfg.val_fraction,
                test_fraction=cfg.test_fraction, train_limit=cfg.train_limit, seed=cfg.seed,
            )  # fmt: skip
            ctx.log(f"data: {self.data.source}")
        d = self.data
        self.kind = resolve_kind(cfg.tokenizer)
        words = "word" if self.kind == "glove" else self.kind
        self.tokenizer = train_tokenizer(d.train_texts, words,
                                         cfg.vocab_size or default_vocab(self.kind))  # fmt: skip
        if self.kind == "glove":
            self.glove = glove_rows(self.tokenizer.get_vocab())  # fails early without GloVe
        ids = lambda texts: torch.from_numpy(encode(self.tokenizer, texts, cfg.max_len))  # noqa: E731
        self.train_x, self.val_x, self.test_x = ids(d.train_texts), ids(d.val_texts), ids(
            d.test_texts)  # fmt: skip
        self.train_y, self.val_y = torch.from_numpy(d.train_y), torch.from_numpy(d.val_y)
        self.run_name = cfg.name or f"{cfg.model}-{d.name}"

    @property
    def vocab(self) -> int:
        return self.tokenizer.get_vocab_size()

    def build_model(self) -> nn.Module:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        model = create_task_model(TASK, cfg.model, self.vocab, self.data.num_classes,
                                  (cfg.max_len,), **cfg.model_args)  # fmt: skip
        if self.kind == "glove":
            start_from_glove(model.embedding, *self.glove)
        return model

    def meta(self, model: nn.Module) -> runs.ModelMeta:
        cfg, d = self.cfg, self.data
        return runs.ModelMeta(model=cfg.model, config=dict(cfg.model_args),
                              in_channels=self.vocab, num_classes=d.num_classes,
                              input_size=(cfg.max_len,), classes=list(d.classes), mean=(),
                              std=(), data=d.source, task=TASK,
                              extra={"tokenizer": self.kind})  # fmt: skip

    def describe(self, model: nn.Module) -> str:
        glove = ""
        if self.kind == "glove":
            glove = f", {len(self.glove[0]):,} of them from GloVe"
        return (f"{self.vocab:,} tokens ({self.kind}{glove}), {len(self.train_y)} "
                f"train / {len(self.val_y)} val texts")  # fmt: skip

    def num_train_batches(self) -> int:
        return num_batches(len(self.train_y), self.cfg.batch_size, self.ctx)

    def train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        gen = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.train_y), generator=gen)
        for idx in stride(order, self.cfg.batch_size, self.ctx):
            yield self.train_x[idx], self.train_y[idx]

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for idx in stride(torch.arange(len(self.val_y)), EVAL_BATCH, self.ctx, drop_last=False):
            yield self.val_x[idx], self.val_y[idx]

    def step(self, model: nn.Module, batch: Any, stage: str):
        return label_step(model, batch, stage, self.cfg.label_smoothing)

    def epoch_line(self, row: dict[str, float], epochs: int) -> str:
        return super().epoch_line(row, epochs).replace("img/s", "texts/s")

    @staticmethod
    def summary(result: Any) -> list[Any]:
        from cnnlab.tasks.text.results import summary_lines

        return summary_lines(result)

    @classmethod
    def predict(cls, run: Path, files: list[str], topk: int = 3, text: list[str] | None = None,
                **options: Any) -> list[str]:  # fmt: skip
        from cnnlab.tasks.text.results import predict_lines

        return predict_lines(run, files, list(text or []), topk)

    @staticmethod
    def report(folder: Path) -> Path:
        from cnnlab.tasks.text.results import text_report

        return text_report(folder)

    def finish(self, folder: Path, model: nn.Module, result: Any) -> dict[str, float]:
        from cnnlab.tasks.text.results import write_text_results

        results = write_text_results(folder, model, self, result)
        result.extra["results"] = results
        return results["test"]


def start_from_glove(embedding: nn.Embedding, ids: Any, vectors: Any) -> None:
    """Rows `ids` of the embedding become the GloVe `vectors` (in its first 50 dimensions; any
    more are random); the other rows are drawn at the vectors' own scale, padding stays 0."""
    w, dim = embedding.weight, vectors.shape[1]
    if w.shape[1] < dim:
        raise ValueError(f"GloVe vectors have {dim} dimensions; embed must be >= {dim}, "
                         f"got {w.shape[1]}")  # fmt: skip
    with torch.no_grad():
        w.normal_(0.0, float(vectors.std()) if len(vectors) else 1.0)
        w[torch.as_tensor(ids), :dim] = torch.as_tensor(vectors)
        w[embedding.padding_idx or 0] = 0.0
