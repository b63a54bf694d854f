"""Fabric is imported without torchmetrics (Lightning imports it only to read its version,
about 5 s of every training's start), torchmetrics can still be imported afterwards, and the
NVML switch Fabric's import sets (an NVML query at every optimizer step) is taken back."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from cnnlab.engine.fabric import fabric_class
Fabric = fabric_class()
assert Fabric.__name__ == "Fabric", Fabric
assert "torchmetrics" not in sys.modules, "torchmetrics was imported with Fabric"
import importlib.util, os
assert importlib.util.find_spec("torchmetrics") is not None  # importable: no blocker left
assert "PYTORCH_NVML_BASED_CUDA_CHECK" not in os.environ
print("ok", Fabric.__module__)
"""


def test_fabric_comes_without_torchmetrics_and_torchmetrics_still_imports():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.split() == ["ok", "lightning_fabric.fabric"], (
        proc.stderr[-800:]
    )
