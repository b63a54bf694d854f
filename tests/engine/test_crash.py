"""kill -9 of a real `cnnlab train` process: whatever moment it lands on (mid-epoch, mid
checkpoint write), the run folder is a run that `--resume` continues, and on the CPU in fp32
the resumed run ends with exactly the weights of an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

ARGS = [
    "train", "--data", "glyphs", "--train_limit", "1000", "--model", "mlp", "--epochs", "8",
    "--batch_size", "32", "--precision", "32", "--progress", "false", "--seed", "3",
]  # fmt: skip
ENV = dict(os.environ, CNNLAB_OFFLINE="1")


def cnnlab(*args: str) -> subprocess.CompletedProcess:
    """A fresh `cnnlab` process, as a user runs it (the test process's threads and settings
    stay out of the comparison)."""
    return subprocess.run([sys.executable, "-m", "cnnlab.cli", *args], env=ENV,
                          capture_output=True, text=True)  # fmt: skip


def _epochs_done(run: Path) -> int:
    metrics = run / "metrics.csv"
    try:
        return max(0, len(metrics.read_text().splitlines()) - 1)
    except OSError:
        return 0


def _weights(run: Path) -> dict:
    return load_file(str(run / "model.safetensors"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("ref")
    proc = cnnlab(*ARGS, "--runs_dir", str(runs), "--name", "ref")
    assert proc.returncode == 0, proc.stderr
    return runs / "ref"


@pytest.mark.parametrize("after", [1, 5])
def test_kill_9_then_resume_ends_with_the_uninterrupted_weights(reference, tmp_path, after):
    run = tmp_path / "k"
    proc = subprocess.Popen([sys.executable, "-m", "cnnlab.cli", *ARGS, "--runs_dir",
                             str(tmp_path), "--name", "k"], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while _epochs_done(run) < after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)  # no clean-up handler runs: as a power cut
    proc.wait()
    done = _epochs_done(run)
    if proc.returncode == 0 or done >= 8:
        pytest.skip("the run finished before the kill landed (a fast machine)")
    assert done >= after, proc.stderr.read().decode()[-500:]
    assert not list(run.glob("*.tmp")) or all(p.name.startswith(".") for p in run.glob("*.tmp"))
    resumed = cnnlab("train", "--resume", str(run), "--progress", "false")
    assert resumed.returncode == 0, resumed.stderr
    assert _epochs_done(run) == 8
    ours, ref = _weights(run), _weights(reference)
    assert ours.keys() == ref.keys()
    for name, tensor in ref.items():
        assert (ours[name] == tensor).all(), name
