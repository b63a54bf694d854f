"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""

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
