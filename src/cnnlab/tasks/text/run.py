"""`text()`: train a text classifier into a run folder through the engine, then test it
beside the TF-IDF baseline and write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from cnnlab.data.text import TextData
from cnnlab.engine.loop import FitResult, train_task
from cnnlab.tasks.text.config import TextConfig
from cnnlab.tasks.text.task import TextTask


def text(
    config: TextConfig | dict[str, Any] | None = None,
    *,
    data: TextData | str | Path | None = None,
    console: Console | None = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    **overrides: Any,
) -> FitResult:
    """Train a text classifier and write a run folder; `result.extra["results"]` holds the
    test metrics beside the baseline. `data` is a name, a file or folder, or a TextData.

    Example: ``text(data="tweets", model="text-cnn", epochs=6)``
    Shapes: the model takes token ids (B, max_len) and gives logits (B, classes).
    """
    return train_task(TextTask, config, data=data, resume=resume, stop_after=stop_after,
                      console=console, **overrides)  # fmt: skip


__all__ = ["TextConfig", "text"]
