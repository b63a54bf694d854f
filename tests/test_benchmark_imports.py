"""The benchmark scripts run only by hand or `make bench`, so a rename inside cnnlab can break
one unseen (vs_tutorial.py imported a private helper that a refactor renamed): every name a
script imports from cnnlab must exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


def _cnnlab_imports(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnlab"):
            pairs += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            pairs += [(a.name, "") for a in node.names if a.name.startswith("cnnlab")]
    return pairs


def test_there_are_benchmarks():
    assert len(BENCHMARKS) >= 10


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_cnnlab_name_a_benchmark_imports_exists(script):
    missing = []
    for module, name in _cnnlab_imports(script):
        mod = importlib.import_module(module)
        if name and not hasattr(mod, name):
            try:  # `from cnnlab.x import submodule`
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{module}.{name}")
    assert not missing, f"{script.name} imports names cnnlab no longer has: {missing}"
