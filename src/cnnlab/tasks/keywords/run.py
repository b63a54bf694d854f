"""`keywords()`: train a keyword spotter into a run folder through the engine, then test it
on both test sets and write the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from cnnlab.data.keywords import KeywordData
from cnnlab.engine.loop import FitResult, train_task
from cnnlab.tasks.keywords.config import KeywordsConfig
from cnnlab.tasks.keywords.task import KeywordsTask


def keywords(
    config: KeywordsConfig | dict[str, Any] | None = None,
    *,
    data: KeywordData | str | Path | None = None,
    console: Console | None = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    **overrides: Any,
) -> FitResult:
    """Train a keyword spotter and write a run folder; `result.extra["results"]` holds both
    test sets' accuracies.

    Example: ``keywords(data="keywords", model="kws-cnn", epochs=15)``
    Shapes: the model takes log-mel features (B, 1, 40, 101) and gives logits (B, 12).
    """
    return train_task(KeywordsTask, config, data=data, resume=resume, stop_after=stop_after,
                      console=console, **overrides)  # fmt: skip


__all__ = ["KeywordsConfig", "keywords"]
