"""cnnlab's allocator setting: applied once on Linux/glibc, off with CNNLAB_MALLOC=system, and
it does what it is for (training steps stop page-faulting on freed buffers)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

import cnnlab.engine.allocator as allocator

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

STEPS = """
import json, resource, torch
from cnnlab.engine.allocator import keep_freed_memory
from cnnlab.models import create_model
applied = keep_freed_memory()  # what engine.fit does first
torch.manual_seed(0)
model = create_model("cnn-bn", 1, 10, (28, 28))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(256, 1, 28, 28), torch.randint(0, 10, (256,))
def step():
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
for _ in range(10): step()  # the heap grows to its working size in the first steps
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20): step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"applied": applied, "faults": faults}))
"""


def _run(malloc: str) -> dict:
    env = {**os.environ, "CNNLAB_MALLOC": malloc}
    out = subprocess.run(
        [sys.executable, "-c", STEPS], env=env, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="the setting exists only for glibc on Linux")
def test_setting_stops_page_faults_and_can_be_turned_off():
    system, ours = _run("system"), _run("")
    assert system["applied"] is False and ours["applied"] is True
    # glibc's defaults page-fault on every step's freed buffers (tens of thousands here);
    # with the setting the same steps reuse the heap
    assert system["faults"] > 2000, system
    assert ours["faults"] < system["faults"] / 3, (ours, system)  # seen: 0-3k vs 15k-200k


def test_applied_once_and_cached(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setenv("CNNLAB_MALLOC", "system")
    assert allocator.keep_freed_memory() is False
    monkeypatch.delenv("CNNLAB_MALLOC")
    assert allocator.keep_freed_memory() is False  # the first answer stands for the process


def test_importing_cnnlab_leaves_malloc_alone():
    code = "import cnnlab, cnnlab.cli, cnnlab.engine.allocator as a; print(a._applied)"
    out = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE,
                         text=True, env={**os.environ, "CNNLAB_MALLOC": ""}).stdout  # fmt: skip
    assert out.strip().splitlines()[-1] == "None"  # nothing applied until training starts
