"""Training started from the web app: one `cnnlab <task>` process at a time, a child process
(a crash of the training never takes the server down), writing into the runs folder like any
run; stopping it terminates the process, and the run stays resumable from its last epoch
(`cnnlab <task> --resume RUN`). Its output goes to RUNS/.app/<name>.log.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cnnlab.core.errors import ConfigError

COMMANDS = {"classify": "train", "text": "text", "keywords": "keywords", "segment": "segment",
            "autoencode": "autoencode"}  # fmt: skip
OPTIONS = {"model": str, "data": str, "epochs": int, "max_time": float, "batch_size": int,
           "lr": float, "train_limit": int}  # fmt: skip
SAFE = re.compile(r"^[\w.,:/+-]{1,200}$")  # values go into an argv list (no shell), and still


@dataclass
class Job:
    name: str  # the run's folder under the runs directory
    task: str
    argv: list[str]
    started: float
    pid: int
    returncode: int | None = None
    stopped: bool = False

    @property
    def state(self) -> str:
        if self.returncode is None:
            return "running"
        if self.stopped:
            return "stopped"
        return "finished" if self.returncode == 0 else "failed"


class Trainer:
    """At most one training process; `start` while one runs is a ConfigError."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.job: Job | None = None
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def argv(self, task: str, options: dict[str, Any], name: str) -> list[str]:
        if task not in COMMANDS:
            raise ConfigError(f"unknown task {task!r}; one of {', '.join(COMMANDS)}")
        argv = [sys.executable, "-m", "cnnlab", COMMANDS[task], "--runs_dir", str(self.root),
                "--name", name, "--progress", "false"]  # fmt: skip
        for key, value in options.items():
            if value in (None, ""):
                continue
            if key not in OPTIONS:
                raise ConfigError(f"unknown option {key!r}; the page sets {', '.join(OPTIONS)}")
            try:
                value = OPTIONS[key](value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"{key} must be a {OPTIONS[key].__name__}, got {value!r}"
                ) from None
            if isinstance(value, int | float) and value <= 0:
                raise ConfigError(f"{key} must be > 0, got {value}")
            if not SAFE.match(str(value)):
                raise ConfigError(f"{key} {value!r} has characters a name or number does not")
            argv += [f"--{key}", str(value)]
        return argv

    def start(self, task: str, options: dict[str, Any]) -> Job:
        with self._lock:
            self.poll()
            if self.job is not None and self.job.state == "running":
                raise ConfigError(f"a training is running ({self.job.name}); stop it or wait for "
                                  "it to finish")  # fmt: skip
            name = f"app-{task}-{time.strftime('%Y%m%d-%H%M%S')}"
            argv = self.argv(task, options, name)
            logs = self.root / ".app"
            logs.mkdir(parents=True, exist_ok=True)
            with (logs / f"{name}.log").open("wb") as log:
                self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL)  # fmt: skip
            self.job = Job(name, task, argv[3:], time.time(), self._proc.pid)
            return self.job

    def poll(self) -> Job | None:
        if self._proc is not None and self.job is not None and self.job.returncode is None:
            self.job.returncode = self._proc.poll()
        return self.job

    def stop(self) -> Job:
        with self._lock:
            job = self.poll()
            if job is None or job.state != "running" or self._proc is None:
                raise ConfigError("no training is running")
            job.stopped = True
            self._proc.terminate()
            try:
                job.returncode = self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                job.returncode = self._proc.wait()
            return job

    def describe(self) -> dict[str, Any] | None:
        job = self.poll()
        if job is None:
            return None
        log = self.root / ".app" / f"{job.name}.log"
        tail = log.read_text(errors="replace").splitlines()[-12:] if log.is_file() else []
        return {**asdict(job), "state": job.state, "log": tail}
