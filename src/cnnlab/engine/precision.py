"""Does bf16 autocast train faster than fp32 on this CPU? Measured once per machine, then cached.

A CPU flag is not enough. With AMX, bf16 convolutions run several times faster than fp32. With
avx512_bf16 alone it depends on the core: on an AMD EPYC (Zen 4) a BN CNN trained 1.6x faster in
bf16, on an Intel Xeon without AMX 1.5x slower (oneDNN's bf16 kernels there have no more
multiply-adds per cycle than fp32 and pay the conversions). So where the flag is avx512_bf16
without AMX, a short conv-BN-ReLU training step is timed both ways (about 0.3 s) and the answer
is kept in <cache>/precision.json, keyed by CPU model, torch version and thread count.
$CNNLAB_BF16=1 or 0 skips the measurement.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from cnnlab.core.io import cache_dir

ENV = "CNNLAB_BF16"
MARGIN = 0.9  # bf16 must take under 90 % of fp32's time: fp32 is the more exact of the two


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
    return next((ln for ln in text.splitlines() if ln.startswith("flags")), "")


def cpu_model() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _probe_step(dtype_bf16: bool, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    t0 = time.perf_counter()
    with torch.autocast("cpu", torch.bfloat16, enabled=dtype_bf16):
        loss = nn.functional.cross_entropy(model(x).float(), y)
    loss.backward()
    return time.perf_counter() - t0


def _probe_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    ).to(memory_format=torch.channels_last)  # fmt: skip


def measure_bf16_speedup(rounds: int = 7) -> tuple[float, float]:
    """Median seconds of one training step of a small conv-BN-ReLU net (batch 128, 14x14,
    channels-last) in fp32 and in bf16 autocast, alternating. Leaves torch's global RNG alone."""
    g = torch.Generator().manual_seed(0)
    with torch.random.fork_rng(devices=[]):  # the layers' own init draws from the global RNG
        model = _probe_net()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    x = torch.randn(128, 16, 14, 14, generator=g).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (128,), generator=g)
    times: dict[bool, list[float]] = {False: [], True: []}
    for r in range(rounds + 2):  # the first two rounds warm oneDNN's kernel caches up
        for bf16 in (False, True) if r % 2 == 0 else (True, False):
            t = _probe_step(bf16, model, x, y)
            if r >= 2:
                times[bf16].append(t)
    return statistics.median(times[False]), statistics.median(times[True])


def _cache_file() -> Path:
    return cache_dir() / "precision.json"


def cpu_bf16_is_faster() -> bool:
    """Whether bf16 autocast should train on this CPU: no where bf16 is not native, yes with
    AMX, measured (and cached) where the CPU has avx512_bf16 without AMX."""
    return _decide()[0]


def auto_reason() -> str:
    """Why `--precision auto` chose what it did on this CPU, for the run line."""
    return _decide()[1]


@lru_cache(maxsize=1)
def _decide() -> tuple[bool, str]:
    if os.environ.get(ENV) in ("0", "1"):
        return os.environ[ENV] == "1", f"${ENV}={os.environ[ENV]}"
    flags = cpu_flags().split()
    if "amx_bf16" in flags:
        return True, "this CPU has AMX units, which run bfloat16 fast"
    if "avx512_bf16" not in flags:
        return False, "this CPU has no native bfloat16, so float32 is faster"
    key = f"{cpu_model()} | torch {torch.__version__} | {torch.get_num_threads()} threads"
    path = _cache_file()
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    if not isinstance(cached, dict):
        cached = {}
    entry = cached.get(key)
    if not (isinstance(entry, dict) and isinstance(entry.get("bf16"), bool)):
        fp32_s, bf16_s = measure_bf16_speedup()
        entry = {"bf16": bf16_s < MARGIN * fp32_s, "fp32_ms": fp32_s * 1e3, "bf16_ms": bf16_s * 1e3}
        cached[key] = entry
        try:  # a cache that cannot be written only means measuring again next time
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cached, indent=1))
            tmp.replace(path)
        except OSError:
            pass
    # processes this one starts (Fabric's DDP workers) inherit the answer instead of measuring
    os.environ[ENV] = "1" if entry["bf16"] else "0"
    ratio = entry.get("bf16_ms", 0.0) / max(entry.get("fp32_ms", 0.0), 1e-9)
    return entry["bf16"], (f"a bfloat16 step took {ratio:.2f}x the float32 step's time on this "
                           "CPU (measured once, then cached)")  # fmt: skip
