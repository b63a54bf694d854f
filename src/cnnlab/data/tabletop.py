"""The `tabletop` dataset: camera images of an object on a table, with where it is.

Generated in simulation (data/tabletop_sim.py) and cached (`cnnlab datasets make tabletop`):
one coloured object of a random mesh at a random position and yaw in the arm's 40 x 60 cm
workspace, in half the scenes one or two grey distractor objects too, the camera's pose and
the light perturbed a little in every image. Targets: the object's position on the table (cm
from the workspace's centre), its grasp yaw (rad) and the segmentation mask pybullet renders
(0 table and arm, 1 the object, 2 a distractor). The split is by mesh: 800 meshes train, 100
validate and 100 test, so test objects are shapes never seen in training.

A folder works too: images (PNG or JPEG) and a `positions.csv` with the columns
`file,x,y[,yaw]` (cm; yaw in degrees), split 80/10/10 at random (or by a `split` column).
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.core.errors import DataError
from cnnlab.core.io import npz_format
from cnnlab.core.pool import spawn_pool

FORMAT = 1  # of the cached file; a change makes it anew
SPLITS = ("train", "val", "test")
SIZES = {"train": 8000, "val": 1000, "test": 1000}
MESH_SPLIT = {"train": 800, "val": 100, "test": 100}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


@dataclass
class LocateData:
    """Images and positions per split: x[split] (N, 3, H, W) uint8, y[split] (N, 3) float32
    (x cm, y cm, yaw rad; yaw NaN where unknown), mask[split] (N, H, W) uint8 or None,
    mesh[split] (N,) mesh ids (-1: not simulated)."""

    name: str
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    source: str
    mask: dict[str, np.ndarray] | None = None
    mesh: dict[str, np.ndarray] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.x["train"].shape[2:])  # type: ignore[return-value]

    @property
    def has_yaw(self) -> bool:
        return bool(np.isfinite(self.y["train"][:, 2]).all())

    def __repr__(self) -> str:
        counts = " / ".join(f"{len(self.y[s]):,} {s}" for s in SPLITS)
        h, w = self.size
        return f"{self.name}: {counts} images of {h}x{w}; {self.source}"


def mesh_split(seed: int = 0) -> dict[str, np.ndarray]:
    """Which of the 1,000 meshes each split draws its objects from (fixed by `seed`)."""
    order = np.random.default_rng(seed).permutation(1000)
    a, b = MESH_SPLIT["train"], MESH_SPLIT["train"] + MESH_SPLIT["val"]
    return {"train": np.sort(order[:a]), "val": np.sort(order[a:b]), "test": np.sort(order[b:])}


# ---- generation (each worker process has its own pybullet world) ----------------------------

_scene = None


def _worker_scene():
    global _scene
    if _scene is None:
        from cnnlab.data.tabletop_sim import Scene

        _scene = Scene()
    return _scene


def render_sample(split: str, index: int, size: int, seed: int) -> dict[str, Any]:
    """Scene `index` of `split`: its image, pose, mask and mesh; the same whichever process
    makes it (its random numbers come from (seed, split, index) alone)."""
    from cnnlab.data.tabletop_sim import Camera, place

    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    scene = _worker_scene()
    distractors = int(rng.integers(1, 3)) if rng.random() < 0.5 else 0
    placed = place(scene, rng, mesh_split()[split], distractors)
    rgb, seg = scene.render(size, Camera().perturbed(rng))
    mask = np.zeros(seg.shape, np.uint8)
    mask[np.isin(seg, placed.distractors)] = 2
    mask[seg == placed.body] = 1
    return {"x": rgb.transpose(2, 0, 1), "y": np.array(placed.pose[:3], np.float32),
            "mask": mask, "mesh": placed.mesh}  # fmt: skip


def _render_chunk(args: tuple[str, list[int], int, int]) -> list[dict[str, Any]]:
    split, indices, size, seed = args
    return [render_sample(split, i, size, seed) for i in indices]


def make_tabletop(path: Path, sizes: dict[str, int] | None = None, size: int = 64,
                  seed: int = 0, progress: Callable[[int, int], None] | None = None,
                  workers: int | None = None) -> Path:  # fmt: skip
    """Generate the tabletop set into `path` (.npz, written atomically): `sizes` scenes per
    split (default 8,000 / 1,000 / 1,000) of `size` x `size` pixels, rendered by `workers`
    processes (default: one per core, at most 4). `progress(done, total)` as scenes come."""
    import os

    from cnnlab.core.io import atomic_write
    from cnnlab.data.tabletop_sim import require_pybullet

    require_pybullet()
    sizes = {**SIZES, **(sizes or {})}
    if min(sizes.values()) < 1 or size < 16:
        raise DataError(f"tabletop needs >= 1 scene per split and a size >= 16, got {sizes}, "
                        f"size {size}")  # fmt: skip
    workers = workers or min(4, os.cpu_count() or 1)
    chunk = 50
    jobs = [(s, list(range(i, min(i + chunk, sizes[s]))), size, seed)
            for s in SPLITS for i in range(0, sizes[s], chunk)]  # fmt: skip
    total, done, t0 = sum(sizes.values()), 0, time.perf_counter()
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    with ExitStack() as stack:
        if workers == 1:
            results = map(_render_chunk, jobs)
        else:
            pool = stack.enter_context(spawn_pool(workers, "the tabletop renderer",
                                                  "--workers 1 (workers=1)"))  # fmt: skip
            results = pool.map(_render_chunk, jobs)
        for job, samples in zip(jobs, results, strict=True):
            out[job[0]] += samples
            done += len(samples)
            if progress is not None:
                progress(done, total)
    arrays: dict[str, np.ndarray] = {}
    for s in SPLITS:
        for key in ("x", "y", "mask", "mesh"):
            arrays[f"{s}_{key}"] = np.stack([np.asarray(r[key]) for r in out[s]])
    meta = {"format": FORMAT, "size": size, "seed": seed, "sizes": sizes,
            "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
    arrays["meta"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, buf.getvalue())
    return path


def cached_tabletop(size: int = 64) -> Path:
    """Where `cnnlab datasets make tabletop` writes the generated set."""
    from cnnlab.core.io import cache_dir

    return cache_dir() / "tabletop" / f"tabletop-{size}.npz"


def read_tabletop(path: Path) -> LocateData:
    """A generated set from its .npz file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            parts = {k: {s: z[f"{s}_{k}"] for s in SPLITS} for k in ("x", "y", "mask", "mesh")}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path} is not a readable tabletop set ({str(exc)[:80]}); delete it "
                        "and run cnnlab datasets make tabletop") from None  # fmt: skip
    if meta.get("format") != FORMAT:
        raise DataError(f"{path} is from another cnnlab version; delete it and run cnnlab "
                        "datasets make tabletop")  # fmt: skip
    source = (f"simulated (pybullet), split by mesh {MESH_SPLIT['train']} / "
              f"{MESH_SPLIT['val']} / {MESH_SPLIT['test']}, from {path}")  # fmt: skip
    return LocateData("tabletop", parts["x"], parts["y"], source, parts["mask"], parts["mesh"],
                      meta)  # fmt: skip


def load_locate_data(data: str = "tabletop", size: int = 64, seed: int = 0,
                     log: Callable[[str], None] = print) -> LocateData:  # fmt: skip
    """The set named `data`: "tabletop" (the cached set, generated with the defaults on first
    use), a .npz from `cnnlab datasets make tabletop`, or a folder of images with a
    positions.csv (see read_position_folder)."""
    path = Path(data)
    if data == "tabletop":
        path = cached_tabletop(size)
        if npz_format(path) != FORMAT:  # missing, or made by an older cnnlab: make it anew
            log(
                f"rendering the tabletop scenes into {path} (once; a few minutes: `cnnlab "
                "datasets make tabletop` does it with a progress bar)"
            )
            make_tabletop(path, size=size)
        return read_tabletop(path)
    if path.is_dir():
        return read_position_folder(path, seed)
    if not path.is_file():
        raise DataError(f"{path} does not exist; give --data tabletop (generated on first use), "
                        "a .npz from cnnlab datasets make tabletop, or a folder of images "
                        "with positions.csv")  # fmt: skip
    return read_tabletop(path)


# ---- a folder of images with positions.csv ---------------------------------------------------


def _number(row: dict[str, str], key: str, where: str) -> float:
    try:
        value = float(row[key])
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key} = {row.get(key)!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {key} = {row[key]!r} is not a finite number")
    return value


def read_position_folder(root: Path, seed: int = 0) -> LocateData:
    """Images under `root` and `root/positions.csv` (file,x,y[,yaw][,split]; x, y in cm, yaw
    in degrees; file relative to root). Every image needs a row and every row an image; all
    images are resized to the first one's size if they differ."""
    table = root / "positions.csv"
    if not table.is_file():
        raise DataError(f"{root} has no positions.csv; add one with the columns file,x,y[,yaw] "
                        "(cm, degrees), one row per image")  # fmt: skip
    with table.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"file", "x", "y"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{table} lacks the column(s) {', '.join(sorted(missing))}; the "
                            "header must be file,x,y[,yaw][,split]")  # fmt: skip
        rows = list(reader)
    images = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    listed = {r["file"] for r in rows}
    found = {p.relative_to(root).as_posix() for p in images}
    if not rows:
        raise DataError(f"{table} has no rows; add one per image (file,x,y)")
    if listed - found:
        name = sorted(listed - found)[0]
        raise DataError(f"{table} lists {name}, which is not an image under {root} "
                        f"({len(listed - found)} row(s) without their image)")  # fmt: skip
    if found - listed:
        name = sorted(found - listed)[0]
        raise DataError(f"{root}/{name} has no row in positions.csv ({len(found - listed)} "
                        "image(s) without a row); add them or move them out")  # fmt: skip
    from cnnlab.data.sources import open_image

    xs, ys, size = [], [], None
    for i, r in enumerate(rows, start=2):
        where = f"{table} line {i}"
        im = open_image(root / r["file"], fix="replace it or remove its row").convert("RGB")
        size = size or im.size
        xs.append(np.asarray(im.resize(size) if im.size != size else im).transpose(2, 0, 1))
        yaw = math.radians(_number(r, "yaw", where)) if r.get("yaw") not in (None, "") else math.nan
        ys.append((_number(r, "x", where), _number(r, "y", where), yaw))
    x, y = np.stack(xs), np.array(ys, np.float32)
    split = np.array([r.get("split") or "" for r in rows], dtype="<U16")
    if not set(split) <= {"", *SPLITS}:
        raise DataError(f"{table}: split must be train, val or test, got "
                        f"{sorted(set(split) - {'', *SPLITS})[0]!r}")  # fmt: skip
    free = np.flatnonzero(split == "")
    order = np.random.default_rng(seed).permutation(free)
    n_val, n_test = max(1, len(order) // 10), max(1, len(order) // 10)
    split[order[:n_val]], split[order[n_val : n_val + n_test]] = "val", "test"
    split[order[n_val + n_test :]] = "train"
    parts = {s: np.flatnonzero(split == s) for s in SPLITS}
    empty = [s for s in SPLITS if len(parts[s]) == 0]
    if empty:
        raise DataError(f"{root}: no {empty[0]} images ({len(rows)} in all); give at least 10 "
                        "images or a split column")  # fmt: skip
    return LocateData(root.name, {s: x[i] for s, i in parts.items()},
                      {s: y[i] for s, i in parts.items()},
                      f"{len(rows)} images with positions.csv from {root}")  # fmt: skip
