"""The package's version (pyproject.toml says the same; a test checks)."""

VERSION = "0.1.0"
