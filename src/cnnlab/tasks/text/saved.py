"""A finished text run read back: its model, its ModelMeta and the tokenizer it was trained
with (predict and show features use it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cnnlab.core.errors import ConfigError, RunError
from cnnlab.tasks.text.tokens import load_tokenizer


def load_text_run(run: Path) -> tuple[torch.nn.Module, Any, Any]:
    """A finished text run's model, its ModelMeta and its tokenizer."""
    from cnnlab.engine.runs import load_model

    model, meta = load_model(run)
    if meta.task != "text":
        raise ConfigError(f"{run} is a {meta.task} run, not a text run: texts go to text runs")
    tok_path = Path(run) / "tokenizer.json"
    if not tok_path.is_file():
        raise RunError(f"{run} has no tokenizer.json: the run has not finished; resume it")
    return model, meta, load_tokenizer(tok_path)
