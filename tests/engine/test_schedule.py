"""The one-cycle learning rate, checked against torch's OneCycleLR; the precision choice
(resolve_precision here, the measured bf16-or-fp32 answer in test_precision.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlab.engine import schedule
from cnnlab.engine.schedule import one_cycle_lr, one_cycle_lr_at_step, resolve_precision

PEAK = 0.1


def torch_one_cycle(total: int, peak: float = PEAK) -> np.ndarray:
    """The learning rate torch's OneCycleLR gives at steps 0 .. total-1."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=peak)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=peak, total_steps=total, pct_start=0.25, anneal_strategy="cos",
        cycle_momentum=False, div_factor=25.0, final_div_factor=1e4,
    )  # fmt: skip
    lrs = []
    for i in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if i < total - 1:
            sched.step()
    return np.array(lrs)


def ours(total: int, peak: float = PEAK) -> np.ndarray:
    return np.array([one_cycle_lr(s / total, peak) for s in range(total)])


def test_endpoints_and_peak():
    assert one_cycle_lr(0.0, PEAK) == pytest.approx(PEAK / 25, rel=1e-12)
    assert one_cycle_lr(0.25, PEAK) == pytest.approx(PEAK, rel=1e-12)
    assert one_cycle_lr(1.0, PEAK) == pytest.approx(PEAK / 25 / 1e4, rel=1e-12)
    # clamped outside [0, 1]
    assert one_cycle_lr(-1.0, PEAK) == one_cycle_lr(0.0, PEAK)
    assert one_cycle_lr(2.0, PEAK) == one_cycle_lr(1.0, PEAK)
    # half-way through the warm-up and through the annealing: cosine midpoints
    start, end = PEAK / 25, PEAK / 25 / 1e4
    assert one_cycle_lr(0.125, PEAK) == pytest.approx((start + PEAK) / 2, rel=1e-12)
    assert one_cycle_lr(0.625, PEAK) == pytest.approx((PEAK + end) / 2, rel=1e-12)


def test_rises_then_falls():
    lrs = ours(400)
    top = int(lrs.argmax())
    assert top == 100
    assert (np.diff(lrs[: top + 1]) > 0).all() and (np.diff(lrs[top:]) < 0).all()


def test_start_and_shape_agree_with_torch_one_cycle():
    # same start, same peak, same cosine shapes; the phases differ by one step (see below),
    # so the gap shrinks like 1/total
    for total in (100, 1000):
        ref, got = torch_one_cycle(total), ours(total)
        assert got[0] == pytest.approx(ref[0], rel=1e-12)
        assert ref.max() == pytest.approx(PEAK) and got.max() == pytest.approx(PEAK)
        gap = np.abs(ref - got).max()
        assert gap <= 4.0 * PEAK / total, (total, gap)
    assert (
        np.abs(torch_one_cycle(1000) - ours(1000)).max()
        < np.abs(torch_one_cycle(100) - ours(100)).max() / 5
    )


@pytest.mark.parametrize("total", [7, 100, 1000])
def test_step_form_equals_torch_one_cycle(total):
    got = np.array([one_cycle_lr_at_step(s, total, PEAK) for s in range(total)])
    np.testing.assert_allclose(got, torch_one_cycle(total), rtol=1e-6, atol=0)


def test_resolve_precision(monkeypatch):
    assert resolve_precision("32", "cpu") == "32-true"
    assert resolve_precision("bf16", "cpu") == "bf16-mixed"
    assert resolve_precision("auto", "cuda") == "bf16-mixed"
    monkeypatch.setattr(schedule, "cpu_bf16_is_faster", lambda: False)
    assert resolve_precision("auto", "cpu") == "32-true"
    monkeypatch.setattr(schedule, "cpu_bf16_is_faster", lambda: True)
    assert resolve_precision("auto", "cpu") == "bf16-mixed"


def test_cosine_formula_by_hand():
    # three points of the warm-up cosine, computed independently
    for t in (0.1, 0.4, 0.9):
        expect = PEAK / 25 + (PEAK - PEAK / 25) * (1 - math.cos(math.pi * t)) / 2
        assert one_cycle_lr(0.25 * t, PEAK) == pytest.approx(expect, rel=1e-12)
