"""Files: atomic writes (a crash never leaves a half-written file where a good one was),
free names for new files and folders (nothing already written is overwritten), the cache."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from cnnlab.core.errors import RunError


def cache_dir() -> Path:
    """Where generated data, measured settings and downloads are kept: $CNNLAB_CACHE or
    ~/.cache/cnnlab."""
    return Path(os.environ.get("CNNLAB_CACHE", Path.home() / ".cache" / "cnnlab"))


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary file in the same folder, then rename over `path`: a crash never
    leaves a half-written file where a good one was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(folder: Path) -> int:
    """Delete the temporary files that a killed atomic_write left in `folder` (hidden
    `.NAME.XXXX.tmp`); the files they were replacing are whole. Returns how many went."""
    gone = 0
    for tmp in Path(folder).glob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            gone += 1
    return gone


def atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save through atomic_write."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write(path, buf.getvalue())


def free_name(path: str | Path, taken=None) -> Path:
    """`path` if it is free, else the first free sibling: NAME-2, NAME-3, ... (for a file,
    the number goes before the suffix: a-2.png). `taken(path)` says whether a path is in
    use (default: it exists)."""
    path = Path(path)
    taken = taken or Path.exists
    if not taken(path):
        return path
    n = 2
    while taken(alt := path.with_name(f"{path.stem}-{n}{path.suffix}")):
        n += 1
    return alt


def free_folder(path: str | Path) -> Path:
    """`path` if it is absent or an empty folder, else the first free sibling path-2, ...:
    new output never mixes its files into an old folder's."""

    def used(p: Path) -> bool:
        return p.exists() and (not p.is_dir() or any(p.iterdir()))

    # folder names keep dots: a study folder "out.v1" becomes "out.v1-2", not "out-2.v1"
    path = Path(path)
    if not used(path):
        return path
    n = 2
    while (alt := path.with_name(f"{path.name}-{n}")).exists():
        n += 1
    return alt


def new_folder(parent: str | Path, name: str) -> Path:
    """Create and return a fresh folder parent/name (name-2, name-3, ... if taken). mkdir is
    atomic, so two processes asking for the same name at once get two folders."""
    base = Path(parent)
    base.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        folder = base / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            n += 1


NAME = re.compile(r"[\w.+-]+")  # \w: letters and digits of any script, and _


def check_name(name: str, what: str = "name") -> str:
    """`name` if it is one folder name of safe characters (never a path: nothing is written
    outside the folder the user chose), else the ValueError that says so."""
    if name in (".", "..") or not NAME.fullmatch(name) or name.startswith("-"):
        raise ValueError(
            f"{what} must be one folder name of letters, digits, '.', '_', '+' and '-' "
            f"(not a path), got {name!r}: e.g. my-run (--runs_dir says where it goes)"
        )
    return name


def safe_name(text: str) -> str:
    """A folder name made from any text (a data folder's name, say): unsafe characters become
    '-'. Shapes: 'cnn-bn-My Photos/' -> 'cnn-bn-My-Photos'."""
    name = re.sub(r"[^\w.+-]+", "-", text).strip("-.") or "run"
    return name


def is_run(folder: Path) -> bool:
    """A run folder: its config.yaml and a model (model.json) or a resume state (state.pt)."""
    return (folder / "config.yaml").is_file() and (
        (folder / "model.json").is_file() or (folder / "state.pt").is_file()
    )


def check_run_folder(folder: Path) -> Path:
    """`folder` if it is a folder with a model.json, else the RunError that says what it is
    instead (cheap: the command line checks this before importing torch)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder} is not a folder; give a run folder written by `cnnlab train`")
    if not (folder / "model.json").is_file():
        raise RunError(
            f"{folder} is not a cnnlab run (no model.json); give a folder written by "
            "`cnnlab train`, e.g. runs/<name>"
        )
    return folder


def read_config(folder: Path) -> dict[str, Any]:
    """A run folder's config.yaml as a dict (safe YAML: no tag builds an object)."""
    import yaml

    path = Path(folder) / "config.yaml"
    if not path.is_file():
        raise RunError(f"{folder} has no config.yaml; it is not a cnnlab training run")
    try:
        cfg = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RunError(f"{path} is corrupt ({exc}); fix or remove it") from None
    if not isinstance(cfg, dict):
        raise RunError(f"{path} does not hold a training config")
    return cfg


def find_run(spec: str | Path, runs_dir: str | Path = "runs") -> Path:
    """The run folder `spec` names: a path as it is, or `last` (the run under `runs_dir`
    written to most recently) or `last:PREFIX` (the same among runs whose name starts with
    PREFIX, e.g. last:vgg). A missing `last` is a RunError that says how to make one."""
    text = str(spec)
    if text != "last" and not text.startswith("last:"):
        return Path(spec)
    prefix = text.partition(":")[2]
    root = Path(runs_dir)
    found = [p for p in root.iterdir() if p.is_dir() and is_run(p)] if root.is_dir() else []
    if not found:
        raise RunError(f"{text}: there is no run folder in {root}/ yet; train one (cnnlab train) "
                       "or give a run folder's path")  # fmt: skip
    chosen = [p for p in found if p.name.startswith(prefix)]
    if not chosen:
        names = ", ".join(sorted(p.name for p in found))
        raise RunError(f"{text}: no run in {root}/ starts with {prefix!r}; the runs are: {names}")
    return max(chosen, key=_written)


def _written(folder: Path) -> float:
    """When a run folder was last written to (its newest file of record)."""
    files = [folder / n for n in ("config.yaml", "model.json", "state.pt", "metrics.csv")]
    return max(f.stat().st_mtime for f in files if f.is_file())


def npz_format(path: Path) -> int | None:
    """The format number a generated .npz set (keywords, tabletop) was written with, from its
    small JSON `meta` member only (None: missing or unreadable)."""
    import json

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            return json.loads(str(z["meta"])).get("format")
    except (OSError, ValueError, KeyError):
        return None
