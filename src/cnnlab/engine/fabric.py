"""Lightning Fabric's class, imported at a third of the cost.

`import lightning.fabric` first runs `lightning/__init__.py`, which imports all of
lightning.pytorch (its Trainer) and, through it and through Fabric's own version check,
torchmetrics, which imports scipy.signal, torchvision's models and torch's compiler: about 5 s
of every training process's start on the 2-core machines (docs/benchmarks.md, "A short run
end to end"). The same Fabric ships as the standalone package `lightning_fabric` (installed
with `lightning`, or alone as `lightning-fabric`), which imports no Trainer. Its version check
of torchmetrics feeds only its SpikeDetection utility, which cnnlab does not use; so while
Fabric is imported torchmetrics reads as not installed, and afterwards it imports as usual
(PSNR and SSIM use it).
"""

from __future__ import annotations

import os
import sys
from typing import Any

LOGGERS = ("lightning", "lightning.fabric", "lightning.pytorch", "lightning_fabric")
NVML = "PYTORCH_NVML_BASED_CUDA_CHECK"


def fabric_class() -> Any:
    """Lightning Fabric's `Fabric` class: from lightning_fabric, else from lightning.fabric."""
    nvml = os.environ.get(NVML)
    try:
        return _import_fabric()
    finally:
        # Fabric's import sets it (a fork-safe CUDA check for its fork launchers, which cnnlab
        # does not use): every optimizer step then asks NVML whether a GPU exists, 0.05-0.2 ms
        # a step, a fifth of a small network's Adam step
        if nvml is None:
            os.environ.pop(NVML, None)


def _import_fabric() -> Any:
    blocked = "torchmetrics" not in sys.modules
    if blocked:
        sys.modules["torchmetrics"] = None  # type: ignore[assignment]  # "not installed"
    try:
        from lightning_fabric import Fabric

        return Fabric
    except ImportError:
        pass  # only the `lightning` package: its Fabric, and lightning.pytorch with it
    finally:
        if blocked and "torchmetrics" in sys.modules and sys.modules["torchmetrics"] is None:
            del sys.modules["torchmetrics"]
    from lightning.fabric import Fabric

    return Fabric
