"""bf16 or fp32 on a CPU: the flag rules, the measurement, its cache and the override."""

from __future__ import annotations

import json

import pytest
import torch

from cnnlab.engine import precision

AVX = "flags : fpu sse avx512f avx512_bf16"


@pytest.fixture
def probe(monkeypatch, tmp_path):
    """A fresh answer each test: no cached result, no inherited $CNNLAB_BF16, a private cache
    folder, and a stand-in measurement that counts its calls."""
    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path))
    monkeypatch.setenv(precision.ENV, "unset")  # so teardown removes what the code sets
    monkeypatch.delenv(precision.ENV)
    monkeypatch.setattr(precision, "cpu_model", lambda: "Test CPU 9000")
    calls = []

    def fake(fp32_s: float, bf16_s: float) -> None:
        monkeypatch.setattr(
            precision, "measure_bf16_speedup", lambda: calls.append(1) or (fp32_s, bf16_s)
        )

    precision._decide.cache_clear()
    yield calls, fake
    precision._decide.cache_clear()


def test_flags_decide_without_measuring(probe, monkeypatch):
    calls, fake = probe
    fake(1.0, 0.1)
    monkeypatch.setattr(precision, "cpu_flags", lambda: "flags : fpu sse avx2 fma")
    assert precision.cpu_bf16_is_faster() is False
    assert precision.auto_reason() == "this CPU has no native bfloat16, so float32 is faster"
    precision._decide.cache_clear()
    monkeypatch.setattr(precision, "cpu_flags", lambda: AVX + " amx_bf16 amx_tile")
    assert precision.cpu_bf16_is_faster() is True
    assert precision.auto_reason() == "this CPU has AMX units, which run bfloat16 fast"
    assert calls == []


@pytest.mark.parametrize(("bf16_s", "expect"), [(0.5, True), (0.95, False), (1.5, False)])
def test_avx512_bf16_is_measured_with_a_margin(probe, monkeypatch, tmp_path, bf16_s, expect):
    calls, fake = probe
    fake(1.0, bf16_s)
    monkeypatch.setattr(precision, "cpu_flags", lambda: AVX)
    assert precision.cpu_bf16_is_faster() is expect
    assert len(calls) == 1
    saved = json.loads((tmp_path / "precision.json").read_text())
    (key,) = saved
    assert key.startswith("Test CPU 9000 | torch ")
    assert saved[key]["bf16"] is expect
    assert saved[key]["bf16_ms"] == pytest.approx(bf16_s * 1e3)
    assert precision.auto_reason().startswith(f"a bfloat16 step took {bf16_s:.2f}x the float32")
    # the answer is handed to child processes (DDP workers) through the environment
    import os

    assert os.environ[precision.ENV] == ("1" if expect else "0")


def test_cached_answer_is_reused_and_a_corrupt_cache_remeasured(probe, monkeypatch, tmp_path):
    calls, fake = probe
    fake(1.0, 0.5)
    monkeypatch.setattr(precision, "cpu_flags", lambda: AVX)
    assert precision.cpu_bf16_is_faster() is True
    precision._decide.cache_clear()
    monkeypatch.delenv(precision.ENV)
    assert precision.cpu_bf16_is_faster() is True
    assert len(calls) == 1  # read from precision.json, not measured again
    (tmp_path / "precision.json").write_text("{not json")
    precision._decide.cache_clear()
    monkeypatch.delenv(precision.ENV)
    fake(1.0, 2.0)
    assert precision.cpu_bf16_is_faster() is False
    assert len(calls) == 2
    assert json.loads((tmp_path / "precision.json").read_text())  # rewritten whole


def test_unwritable_cache_still_answers(probe, monkeypatch, tmp_path):
    calls, fake = probe
    fake(1.0, 0.5)
    monkeypatch.setattr(precision, "cpu_flags", lambda: AVX)
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CNNLAB_CACHE", str(blocker / "sub"))  # a folder under a file
    assert precision.cpu_bf16_is_faster() is True


@pytest.mark.parametrize("value", ["0", "1"])
def test_environment_overrides(probe, monkeypatch, value):
    calls, fake = probe
    fake(1.0, 0.1)
    monkeypatch.setattr(precision, "cpu_flags", lambda: AVX)
    monkeypatch.setenv(precision.ENV, value)
    assert precision.cpu_bf16_is_faster() is (value == "1")
    assert calls == []


def test_measurement_times_both_and_leaves_the_rng_alone():
    torch.manual_seed(123)
    expect = torch.rand(3)
    torch.manual_seed(123)
    fp32_s, bf16_s = precision.measure_bf16_speedup(rounds=1)
    assert torch.equal(torch.rand(3), expect)
    assert 0 < fp32_s < 5 and 0 < bf16_s < 5


def test_run_line_says_why(probe, monkeypatch, tiny_data, tmp_path):
    from io import StringIO

    from rich.console import Console

    import cnnlab

    monkeypatch.setenv(precision.ENV, "0")
    out = StringIO()
    cnnlab.train(data=tiny_data, model="mlp", epochs=1, batch_size=16, runs_dir=tmp_path / "r",
                 progress=False, console=Console(file=out, width=300))  # fmt: skip
    assert "precision 32-true (float32 throughout; auto chose it: $CNNLAB_BF16=0)" in out.getvalue()
