"""A worker that dies becomes one error a user can act on, not BrokenProcessPool."""

from __future__ import annotations

import operator
import os

import pytest

from cnnlab.core.errors import CnnlabError
from cnnlab.core.pool import WorkerError, spawn_pool


def test_a_dead_worker_is_one_clear_error():
    with pytest.raises(WorkerError) as info:
        with spawn_pool(2, "the test's work", "--jobs 1") as pool:
            list(pool.map(os._exit, [3, 3]))  # the worker process ends at once, as if killed
    msg = str(info.value)
    assert isinstance(info.value, CnnlabError) and "\n" not in msg
    assert msg.startswith("a worker process of the test's work stopped abruptly")
    assert 'if __name__ == "__main__":' in msg and msg.endswith("--jobs 1 runs it in one process")


def test_the_pool_runs_the_work_and_other_errors_pass_through():
    with spawn_pool(2, "the test's work", "--jobs 1") as pool:
        assert list(pool.map(operator.add, [1, 2], [10, 20])) == [11, 22]
        with pytest.raises(ZeroDivisionError):  # a worker's own error is the caller's to read
            pool.submit(operator.truediv, 1, 0).result()
