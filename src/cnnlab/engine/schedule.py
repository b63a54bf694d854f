"""Learning-rate schedule and precision choice."""

from __future__ import annotations

import math

from cnnlab.engine.precision import cpu_bf16_is_faster


def one_cycle_lr(
    progress: float,
    peak: float,
    pct_start: float = 0.25,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """The one-cycle learning rate at `progress` in [0, 1]: cosine warm-up from peak/div_factor
    to peak over pct_start, then cosine annealing to peak/(div_factor*final_div_factor).

    The continuous form, so a time budget can drive it; torch's step-based OneCycleLR ends its
    phases one step earlier (within 4 * peak / total of this). `one_cycle_lr_at_step` is the
    exact step-based form.
    """
    p = min(max(progress, 0.0), 1.0)
    start = peak / div_factor
    end = start / final_div_factor
    if p <= pct_start:
        t = p / pct_start if pct_start > 0 else 1.0
        return start + (peak - start) * (1 - math.cos(math.pi * t)) / 2
    t = (p - pct_start) / (1 - pct_start)
    return end + (peak - end) * (1 + math.cos(math.pi * t)) / 2


def one_cycle_lr_at_step(
    step: int,
    total_steps: int,
    peak: float,
    pct_start: float = 0.25,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """The learning rate torch.optim.lr_scheduler.OneCycleLR (anneal_strategy="cos",
    cycle_momentum=False) gives at `step` of `total_steps`: the warm-up ends at step
    pct_start * total - 1 and the annealing at step total - 1."""
    start = peak / div_factor
    end = start / final_div_factor
    warm_end = pct_start * total_steps - 1
    if step <= warm_end and warm_end > 0:
        t, hi, lo = step / warm_end, peak, start
        return hi + (lo - hi) / 2 * (math.cos(math.pi * t) + 1)
    t = (step - max(warm_end, 0)) / max(total_steps - 1 - max(warm_end, 0), 1e-12)
    return end + (peak - end) / 2 * (math.cos(math.pi * min(t, 1.0)) + 1)


def resolve_precision(precision: str, accelerator: str) -> str:
    """Lightning Fabric precision string for cnnlab's 'auto' | '32' | 'bf16'."""
    if precision == "32":
        return "32-true"
    if precision == "bf16":
        return "bf16-mixed"
    if accelerator in ("cuda", "gpu"):
        return "bf16-mixed"
    # bf16 only where this CPU trains faster in it (cnnlab/engine/precision.py)
    return "bf16-mixed" if accelerator in ("cpu", "auto") and cpu_bf16_is_faster() else "32-true"
