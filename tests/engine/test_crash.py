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
    "train", "--data", "glyphs", "--train_limit", "1000", "--model", "mlp", "--epochs", "5",
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


@pytest.mark.parametrize("after", [3])  # the kills inside a write below cover epochs 2-4
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
    if proc.returncode == 0 or done >= 5:
        pytest.skip("the run finished before the kill landed (a fast machine)")
    assert done >= after, proc.stderr.read().decode()[-500:]
    assert not list(run.glob("*.tmp")) or all(p.name.startswith(".") for p in run.glob("*.tmp"))
    resumed = cnnlab("train", "--resume", str(run), "--progress", "false")
    assert resumed.returncode == 0, resumed.stderr
    assert _epochs_done(run) == 5
    ours, ref = _weights(run), _weights(reference)
    assert ours.keys() == ref.keys()
    for name, tensor in ref.items():
        assert (ours[name] == tensor).all(), name


# A child that runs `cnnlab train` with the file functions wrapped so that the Nth write of
# one run file stops at a chosen point and waits there to be killed: "write" (the temporary
# file half written and flushed) or "rename" (the temporary file whole, not yet renamed).
CHILD = r"""
import os, sys, tempfile, time
from pathlib import Path

target, point, nth, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
count, chosen = [0], set()
real_mkstemp, real_fdopen, real_replace = tempfile.mkstemp, os.fdopen, os.replace


def wait_for_the_kill():
    Path(marker).touch()
    time.sleep(120)


def mkstemp(*args, **kwargs):
    fd, name = real_mkstemp(*args, **kwargs)
    if Path(name).name.startswith("." + target + "."):
        count[0] += 1
        if count[0] == nth:
            chosen.add(fd)
    return fd, name


class HalfWrite:
    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.f.__exit__(*exc)

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        os.fsync(self.f.fileno())
        wait_for_the_kill()


def fdopen(fd, *args, **kwargs):
    f = real_fdopen(fd, *args, **kwargs)
    return HalfWrite(f) if point == "write" and fd in chosen else f


def replace(src, dst):
    if point == "rename" and Path(dst).name == target and count[0] == nth:
        wait_for_the_kill()
    return real_replace(src, dst)


tempfile.mkstemp, os.fdopen, os.replace = mkstemp, fdopen, replace
from cnnlab.cli import main

sys.exit(main(sys.argv[5:]))
"""


@pytest.mark.parametrize(
    "target,point,nth",
    [("state.pt", "write", 3), ("state.pt", "rename", 3), ("model.safetensors", "write", 2),
     ("metrics.csv", "rename", 4)],
)  # fmt: skip
def test_kill_9_inside_a_checkpoint_write_then_resume(reference, tmp_path, target, point, nth):
    """The kill lands exactly inside the write of a run file (half written, or written and not
    yet renamed): the run resumes and ends with the uninterrupted run's weights."""
    run, marker = tmp_path / "k", tmp_path / "paused"
    argv = [target, point, str(nth), str(marker), *ARGS, "--runs_dir", str(tmp_path), "--name",
            "k"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *argv], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert marker.exists(), proc.stderr.read().decode()[-800:] if proc.poll() else "no pause"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(run.glob(f".{target}.*.tmp")), "the kill did not land inside the write"
    resumed = cnnlab("train", "--resume", str(run), "--progress", "false")
    assert resumed.returncode == 0, resumed.stderr
    assert _epochs_done(run) == 5
    assert not list(run.glob(".*.tmp")), "the resume left the killed write's temporary file"
    ours, ref = _weights(run), _weights(reference)
    for name, tensor in ref.items():
        assert (ours[name] == tensor).all(), name


def test_two_trainings_started_together_with_one_name_get_two_folders(tmp_path):
    """Two `cnnlab train --name same` processes at once: each its own folder, both complete."""
    argv = [sys.executable, "-m", "cnnlab.cli", "train", "--data", "glyphs", "--train_limit",
            "200", "--model", "mlp", "--epochs", "1", "--progress", "false", "--runs_dir",
            str(tmp_path), "--name", "same"]  # fmt: skip
    procs = [subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e.decode()[-300:] for _, e in outs]
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert folders == ["same", "same-2"]
    for name in folders:
        assert _epochs_done(tmp_path / name) == 1 and (tmp_path / name / "model.json").is_file()
