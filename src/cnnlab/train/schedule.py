"""Learning-rate schedule and precision choice."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path


def one_cycle_lr(
    progress: float,
    peak: float,
    pct_start: float = 0.25,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """The one-cycle learning rate at `progress` in [0, 1]: cosine warm-up from peak/div_factor
    to peak over pct_start, then cosine annealing to peak/(div_factor*final_div_factor).

    Equals torch.optim.lr_scheduler.OneCycleLR (anneal_strategy="cos") at step/total; written
    as a function of progress so a time budget can drive it as well as a step count.
    """
    p = min(max(progress, 0.0), 1.0)
    start = peak / div_factor
    end = start / final_div_factor
    if p <= pct_start:
        t = p / pct_start if pct_start > 0 else 1.0
        return start + (peak - start) * (1 - math.cos(math.pi * t)) / 2
    t = (p - pct_start) / (1 - pct_start)
    return end + (peak - end) * (1 + math.cos(math.pi * t)) / 2


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bf16 natively (avx512_bf16 or AMX); emulated bf16 is slower
    than fp32 on the rest."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, accelerator: str) -> str:
    """Lightning Fabric precision string for cnnlab's 'auto' | '32' | 'bf16'."""
    if precision == "32":
        return "32-true"
    if precision == "bf16":
        return "bf16-mixed"
    if accelerator in ("cuda", "gpu"):
        return "bf16-mixed"
    return "bf16-mixed" if accelerator in ("cpu", "auto") and cpu_has_native_bf16() else "32-true"
