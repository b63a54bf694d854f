"""Errors a user can fix. The CLI prints them as one line and exits with code 2 (1 for a
run that diverged)."""

from __future__ import annotations


class CnnlabError(Exception):
    """Base of every error that is the user's to fix: the message says what and how."""


class DataError(CnnlabError):
    """A dataset, image or file could not be found or read."""


class ModelError(CnnlabError):
    """An unknown model name or a model that does not fit the data."""


class RunError(CnnlabError):
    """A run folder or checkpoint that is missing, foreign or corrupt."""


class ConfigError(CnnlabError):
    """An option value that cannot work."""


class DivergedError(CnnlabError):
    """The loss became NaN or infinite: the run stopped at that step (the CLI exits with 1,
    since the input was fine and the settings were not)."""

    exit_code = 1


def first_line(exc: BaseException, limit: int = 120) -> str:
    """The first line of an exception's message for a one-line error (its type's name when
    the message is empty, as a bare EOFError's is)."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]
