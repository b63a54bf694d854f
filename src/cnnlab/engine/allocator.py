"""Keep freed memory in the process for the next training step (Linux with glibc).

A training step allocates and frees the same few-megabyte activation and gradient buffers
every step. glibc's defaults hand such blocks back to the kernel (munmap, or trimming the
heap top) and fetch them again on the next step, so every step pays page faults and
zero-filled pages. Raising the two thresholds keeps those blocks in the heap for reuse.
Measured on 2 cores (docs/benchmarks.md, "Memory allocator"): cnn-bn training steps 8-17 %
faster, page faults per epoch from hundreds of thousands to under 1,000, peak memory unchanged.

The engine applies it once per process when training starts (`engine.loop.fit`): it is a
choice of the training engine, not a side effect of `import cnnlab`, so a program that only
imports the library keeps its own malloc settings. Set CNNLAB_MALLOC=system to keep glibc's
defaults while training too (the benchmark does, to measure the difference).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
M_MMAP_THRESHOLD = -3
TRIM_BYTES = 256 << 20  # return free heap top to the kernel only above 256 MiB
MMAP_BYTES = 64 << 20  # blocks below 64 MiB come from the reusable heap, not fresh mmaps

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds once per process; True if they are set now.

    A no-op (False) off Linux, on another C library (musl), or with CNNLAB_MALLOC=system."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("CNNLAB_MALLOC", "").lower() == "system":
        return False
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES) == 1
        ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_BYTES) == 1 and ok
    except (OSError, AttributeError):
        return False
    _applied = ok
    return ok
