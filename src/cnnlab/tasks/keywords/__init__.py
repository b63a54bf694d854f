"""Keyword spotting: the task, its config, results and prediction (docs/keywords.md)."""
