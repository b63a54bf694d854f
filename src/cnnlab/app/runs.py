"""The run folders under a runs directory, as the web app shows them: one card per run (task,
model, data, headline metrics, status, curves), read from the files every run writes
(config.yaml, model.json, metrics.csv, results.json) without torch. A run is named by its path
relative to the runs directory; `resolve` is the one gate from a request to a folder: nothing
outside the runs directory, and only run folders.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnlab.core.errors import RunError
from cnnlab.core.io import is_run

DEPTH = 4  # how deep under the runs directory run folders are looked for
LIVE = 120.0  # seconds: a run on another host counts as running while its files change


@dataclass
class RunCard:
    id: str  # the path relative to the runs directory, with "/"
    task: str
    model: str
    data: str
    status: str  # finished, running or stopped
    epochs: int  # rows of metrics.csv
    metrics: dict[str, float] = field(default_factory=dict)  # the headline test metrics
    modified: float = 0.0  # seconds since the epoch
    weights: bool = False  # model.safetensors is there: the run can be tried


def find_runs(root: Path) -> list[Path]:
    """Every run folder under `root` (up to DEPTH levels), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found, todo = [], [(root, 0)]
    while todo:
        folder, depth = todo.pop()
        try:
            children = [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]
        except OSError:
            continue
        for child in children:
            if is_run(child):
                found.append(child)
            elif depth + 1 < DEPTH:
                todo.append((child, depth + 1))
    return sorted(found, key=_modified, reverse=True)


def _modified(folder: Path) -> float:
    names = ("metrics.csv", "state.pt", "model.json", "config.yaml")
    times = [(folder / f).stat().st_mtime for f in names if (folder / f).is_file()]
    return max(times, default=0.0)


def resolve(root: Path, run_id: str) -> Path:
    """The run folder `run_id` names under `root`; RunError for anything else (a path that
    leaves `root` by `..`, an absolute path or a link, a folder that is not a run)."""
    base = Path(root).resolve()
    if not run_id or run_id.startswith(("/", "\\")) or ".." in Path(run_id).parts or \
            ":" in run_id:  # fmt: skip
        raise RunError(f"no run {run_id!r} here")
    folder = (base / run_id).resolve()
    if base not in folder.parents or not is_run(folder):
        raise RunError(f"no run {run_id!r} here")
    return folder


def resolve_or_new(root: Path, run_id: str) -> Path:
    """As `resolve`, but a run the page just started may not have its files yet: a plain
    name (one path part, no dots first) under `root` is accepted as it is."""
    try:
        return resolve(root, run_id)
    except RunError:
        if run_id and "/" not in run_id and "\\" not in run_id and not run_id.startswith("."):
            base = Path(root).resolve()
            folder = base / run_id
            if folder.parent == base and not folder.is_symlink():
                return folder
        raise


def read_metrics(folder: Path) -> list[dict[str, float]]:
    """metrics.csv as rows of numbers (a half-written last line is left out)."""
    path = Path(folder) / "metrics.csv"
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            try:
                rows.append({k: float(v) for k, v in row.items() if k and v not in (None, "")})
            except ValueError:
                break
    return rows


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _config(folder: Path) -> dict[str, Any]:
    import yaml

    try:
        value = yaml.safe_load((folder / "config.yaml").read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, yaml.YAMLError):
        return {}


def _headline(results: dict[str, Any]) -> dict[str, float]:
    test = results.get("test", results)
    if not isinstance(test, dict):
        return {}
    return {k: float(v) for k, v in test.items() if isinstance(v, int | float) and
            not isinstance(v, bool) and math.isfinite(v)}  # fmt: skip


def _alive(folder: Path, marker: dict[str, Any]) -> bool:
    """Whether the process a run's running.json names still runs: by its pid on this
    machine; a run on another host (a cluster's shared folder) while its files keep changing."""
    import os
    import socket

    if marker.get("host") not in (None, socket.gethostname()):
        return time.time() - _modified(folder) < LIVE
    try:
        os.kill(int(marker["pid"]), 0)
    except (KeyError, TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def status(folder: Path) -> str:
    """running (running.json, which the engine writes while it trains, names a live
    process), finished (its results are written) or stopped (killed or paused: resumable
    with --resume)."""
    marker = folder / "running.json"
    if marker.is_file():
        return "running" if _alive(folder, _json(marker)) else "stopped"
    if (folder / "results.json").is_file() or (folder / "report.html").is_file():
        return "finished"
    return "stopped"


def task_of(folder: Path) -> str:
    """The task a run folder's model.json names (classify for the oldest runs)."""
    return str(_json(folder / "model.json").get("task") or "classify")


def card(root: Path, folder: Path) -> RunCard:
    meta, cfg = _json(folder / "model.json"), _config(folder)
    results = _json(folder / "results.json")
    return RunCard(
        id=folder.resolve().relative_to(Path(root).resolve()).as_posix(),
        task=task_of(folder),
        model=str(meta.get("model") or cfg.get("model") or "?"),
        data=str(cfg.get("data") or meta.get("data") or "?"),
        status=status(folder),
        epochs=len(read_metrics(folder)),
        metrics=_headline(results),
        modified=_modified(folder),
        weights=(folder / "model.safetensors").is_file(),
    )


def cards(root: Path, known: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every run's card; `known` gives the status of runs whose process the app holds."""
    out = [asdict(card(root, f)) for f in find_runs(root)]
    for c in out:
        if known and c["id"] in known and c["status"] != "finished":
            c["status"] = "running" if known[c["id"]] == "running" else "stopped"
    return out


def detail(root: Path, run_id: str) -> dict[str, Any]:
    """One run: its card, config, the model's description and its curves."""
    folder = resolve(root, run_id)
    meta = _json(folder / "model.json")
    keep = ("model", "num_classes", "input_size", "in_channels", "classes", "data", "task")
    return {
        **asdict(card(root, folder)),
        "config": _config(folder),
        "model_info": {k: meta[k] for k in keep if k in meta},
        "curves": read_metrics(folder),
        "report": (folder / "report.html").is_file(),
        "figures": sorted(p.relative_to(folder).as_posix() for p in folder.glob("figures/*.png")),
    }
