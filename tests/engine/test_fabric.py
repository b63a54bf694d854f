"""Fabric is imported without torchmetrics (Lightning imports it only to read its version,
about 5 s of every training's start), and torchmetrics still imports afterwards."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
from cnnlab.engine.fabric import fabric_class
Fabric = fabric_class()
assert Fabric.__name__ == "Fabric", Fabric
assert "torchmetrics" not in sys.modules, "torchmetrics was imported with Fabric"
from torchmetrics.image import PeakSignalNoiseRatio
print("ok", PeakSignalNoiseRatio.__name__)
"""


def test_fabric_comes_without_torchmetrics_and_torchmetrics_still_imports():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.split() == ["ok", "PeakSignalNoiseRatio"], (
        proc.stderr[-800:]
    )
