"""Worker processes for CPU-heavy work (rendering scenes, a study's runs side by side), started
with spawn (a fresh interpreter: no forked torch threads or simulator state), with one clear
error when a worker dies instead of concurrent.futures' BrokenProcessPool traceback."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context

from cnnlab.core.errors import CnnlabError


class WorkerError(CnnlabError):
    """A worker process stopped abruptly (killed, out of memory, or an unguarded script)."""


@contextmanager
def spawn_pool(workers: int, what: str, one_process: str) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` spawned processes for `what`; shut down on the way out (pending
    work cancelled). A dead worker becomes a WorkerError naming the usual causes and
    `one_process`, the option that runs the same work in this process to show its cause."""
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    try:
        yield pool
    except BrokenProcessPool as exc:
        raise WorkerError(
            f"a worker process of {what} stopped abruptly: out of memory or killed, or, from "
            'a Python script, the call is not under `if __name__ == "__main__":` (each worker '
            f"imports the script again); {one_process} runs it in one process"
        ) from exc
    finally:
        pool.shutdown(cancel_futures=True)
