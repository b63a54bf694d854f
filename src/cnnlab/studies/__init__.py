"""The lecture's experiments: each returns a result dataclass; figures only read it."""

from cnnlab.core.registry import Registry

STUDIES = Registry("study")
