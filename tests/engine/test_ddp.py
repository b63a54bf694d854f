"""Every registered task trains under DDP through the engine (2 CPU processes, gloo) and gives
what one process gives: the same epochs, the validation metrics summed over the whole split,
the training metrics over (nearly) all images. A learning rate of 1e-9 keeps the weights at
their (seeded, equal) start, so the two runs' numbers must agree. And a two-node launch,
simulated on this machine: two launcher processes, node ranks 0 and 1, rendezvous on
127.0.0.1 (docs/training.md, "Several processes and machines")."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cnnlab.tasks import TASKS
from conftest import TASK_SMOKE

CNNLAB = Path(sys.executable).with_name("cnnlab")
pytestmark = pytest.mark.skipif(not CNNLAB.is_file(), reason="no cnnlab console script")


def _metrics(runs: Path) -> tuple[Path, list[dict[str, float]]]:
    (run,) = list(runs.iterdir())  # exactly one run folder: other processes write nothing
    with (run / "metrics.csv").open() as f:
        return run, [{k: float(v) for k, v in r.items() if v} for r in csv.DictReader(f)]


def _run(argv: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, **(env or {})})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return proc


def _run_together(a: list[str], b: list[str], cwd: Path) -> tuple[str, str]:
    """Run two commands at once; both must succeed. Returns their stdout."""
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=cwd) for argv in (a, b)]  # fmt: skip
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        assert "Traceback" not in err
        outs.append(out)
    return outs[0], outs[1]


ONE_PROCESS = {"rl"}  # an agent learns from its own play, in one process (--num_envs instead)


def test_every_task_has_a_tiny_run():
    assert set(TASK_SMOKE) == set(TASKS.names())


def test_a_one_process_task_refuses_devices_in_one_line(tmp_path: Path):
    for name in ONE_PROCESS:
        task = TASKS.get(name).factory
        argv = [str(CNNLAB), task.command, *TASK_SMOKE[name](tmp_path, None), "--devices", "2",
                "--progress", "false", "--runs_dir", str(tmp_path)]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
        assert lines[0].startswith("cnnlab: error: ") and "one process" in lines[0], lines


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in TASKS.names() if n not in ONE_PROCESS])
def test_task_under_ddp_matches_one_process(
    name: str, image_folder: Path, trained_run: Path, tmp_path: Path
):
    task = TASKS.get(name).factory
    argv = [str(CNNLAB), task.command, *TASK_SMOKE[name](image_folder, trained_run), "--epochs",
            "1", "--lr", "1e-9", "--precision", "32", "--accelerator", "cpu"]  # fmt: skip
    if not task.own_command:
        argv += ["--progress", "false"]
    # both launched together (their start-ups overlap; the results do not depend on timing);
    # --devices 2 alone: Fabric's auto strategy is DDP for several devices
    _, two = _run_together([*argv, "--runs_dir", str(tmp_path / "one")],
                           [*argv, "--runs_dir", str(tmp_path / "two"), "--devices", "2"],
                           tmp_path)  # fmt: skip
    run1, rows1 = _metrics(tmp_path / "one")
    run2, rows2 = _metrics(tmp_path / "two")
    assert len(rows1) == len(rows2) == 1
    assert {k for k in rows1[0] if "/" in k} == {k for k in rows2[0] if "/" in k}
    for key, value in rows1[0].items():
        if key.startswith("val/"):  # the whole split, summed over both processes
            assert rows2[0][key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    # training: each process half the batches, the sums over both (the trimmed remainder
    # of an odd split differs by an image or two)
    assert rows2[0]["train/loss"] == pytest.approx(rows1[0]["train/loss"], rel=0.1)
    if (run1 / "state.pt").is_file():  # a transfer run keeps the model, not the loop state
        steps = [torch.load(r / "state.pt", weights_only=True)["step"] for r in (run1, run2)]
        assert steps[1] <= steps[0] // 2 + 1 and steps[1] >= 1
    assert two.count("run: ") == 1  # the second process logs nothing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_nodes_simulated_on_one_machine(image_folder: Path, tmp_path: Path):
    argv = [str(CNNLAB), "train", *TASK_SMOKE["classify"](image_folder, None), "--epochs", "1",
            "--precision", "32", "--accelerator", "cpu", "--progress", "false", "--strategy",
            "ddp", "--devices", "1", "--num_nodes", "2", "--runs_dir",
            str(tmp_path / "runs")]  # fmt: skip
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())}
    nodes = [subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, **env, "NODE_RANK": str(rank)})
             for rank in (0, 1)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in nodes]
    for p, (_, err) in zip(nodes, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert outs[0][0].count("test accuracy") == 1 and "test accuracy" not in outs[1][0]
    run, rows = _metrics(tmp_path / "runs")
    assert len(rows) == 1 and (run / "report.html").is_file()
    assert torch.load(run / "state.pt", weights_only=True)["step"] >= 1
