"""`cnnlab grasp RUN`: the perception-for-grasping loop in simulation. Each trial is a new
random scene of test objects (meshes the locate run never saw); the camera image goes through
the run's model, and the Panda arm grasps where the model says. The same scene (saved and
restored) is also grasped at the true position (the ceiling: what perfect perception gives)
and at the workspace's centre (the floor: no perception at all)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.core.errors import ConfigError

MODES = ("model", "true", "centre")
GIF_TRIALS = 3  # trials drawn into the GIF
GIF_SIZE = 160


@dataclass
class GraspResult:
    """Per mode, successes out of `trials`, and each trial's positions and outcomes."""

    run: str
    trials: int
    success: dict[str, int]
    seconds: float
    per_trial: list[dict[str, Any]] = field(default_factory=list)

    def rate(self, mode: str) -> float:
        return self.success[mode] / self.trials

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_locate_run(run: Path) -> Any:
    """The run's ModelMeta, or one line saying why `grasp` cannot use it."""
    from cnnlab.engine import runs

    meta = runs.read_meta(run)
    if meta.task != "locate":
        raise ConfigError(f"{run} is a {meta.task} run; cnnlab grasp takes a run of cnnlab "
                          "locate (e.g. cnnlab locate --data tabletop)")  # fmt: skip
    if not meta.extra.get("camera"):
        raise ConfigError(
            f"{run} was trained on {meta.data}, not on the simulated tabletop, so its "
            "positions are not the arm's; train with --data tabletop"
        )
    return meta


def grasp_trials(run: str | Path, trials: int = 100, seed: int = 0, gif: str | Path | None = None,
                 progress: Callable[[int, int], None] | None = None) -> GraspResult:  # fmt: skip
    """Run `trials` grasps per mode (model, true, centre) on new scenes; write results to
    RUN/grasp.json and, with `gif`, an animation of the first trials."""
    from cnnlab.data.tabletop import mesh_split
    from cnnlab.data.tabletop_sim import Camera, Scene, place, require_pybullet
    from cnnlab.engine import runs
    from cnnlab.tasks.locate.arm import grasp
    from cnnlab.tasks.locate.results import predict

    if trials < 1:
        raise ConfigError(f"--trials must be >= 1, got {trials}")
    run = Path(run)
    meta = check_locate_run(run)
    require_pybullet()
    model, _ = runs.load_model(run)
    size = int(meta.input_size[0])
    centre, half = tuple(meta.extra["centre"]), tuple(meta.extra["half"])
    use_yaw = bool(meta.extra.get("yaw"))
    meshes = mesh_split()["test"]
    success = dict.fromkeys(MODES, 0)
    per_trial, frames = [], []
    t0 = time.perf_counter()
    with Scene() as scene:
        for i in range(trials):
            rng = np.random.default_rng([seed, 99, i])
            distractors = int(rng.integers(1, 3)) if rng.random() < 0.5 else 0
            scene.rest_arm()  # as in the training images: the arm at rest, out of the way
            placed = place(scene, rng, meshes, distractors)
            rgb, _ = scene.render(size, Camera().perturbed(rng))
            pred = predict(model, rgb.transpose(2, 0, 1)[None], meta.mean, meta.std, centre,
                           half)[0]  # fmt: skip
            x, y, yaw, _ = placed.pose
            targets = {"model": (float(pred[0]), float(pred[1]), float(pred[2]) if use_yaw
                                 else 0.0),
                       "true": (x, y, yaw), "centre": (0.0, 0.0, 0.0)}  # fmt: skip
            state = scene.call("saveState")
            row: dict[str, Any] = {"mesh": placed.mesh, "true": [x, y, yaw],
                                   "predicted": [float(v) for v in pred],
                                   "error_cm": float(math.dist(pred[:2], (x, y))),
                                   "lifted": {}}  # fmt: skip
            for mode in MODES:
                scene.call("restoreState", state)
                scene.rest_arm()
                film = gif is not None and mode == "model" and i < GIF_TRIALS
                frame = _filmer(scene, frames, rgb, targets, placed.pose) if film else None
                ok = grasp(scene, placed.body, *targets[mode], frame=frame)
                success[mode] += ok
                row["lifted"][mode] = ok
            scene.call("removeState", state)
            per_trial.append(row)
            if progress is not None:
                progress(i + 1, trials)
    result = GraspResult(str(run), trials, success, round(time.perf_counter() - t0, 1), per_trial)
    from cnnlab.core.io import atomic_write

    atomic_write(run / "grasp.json", json.dumps(result.to_dict(), indent=1))
    if gif is not None and frames:
        _write_gif(Path(gif), frames)
    return result


def _filmer(scene: Any, frames: list[np.ndarray], rgb: np.ndarray, targets: dict,
            pose: tuple[float, ...]) -> Callable[[], None]:  # fmt: skip
    """A callback that renders the arm from the side, beside the camera's image with the true
    (circle) and predicted (cross) positions drawn on it."""
    from cnnlab.data.tabletop_sim import TABLE_Z, Camera, table_to_pixels, to_world

    x, y = to_world(*pose[:2])  # a camera beside the object, looking at it and the hand
    side = Camera(eye=(x + 0.12, y - 0.45, TABLE_Z + 0.30), target=(x - 0.05, y, TABLE_Z + 0.10),
                  fov=60, up=(0.0, 0.0, 1.0), light=(0.3, -0.5, 1.0))  # fmt: skip
    camera_view = _marked(rgb, table_to_pixels(np.array([pose[:2], targets["model"][:2]]),
                                               rgb.shape[0]))  # fmt: skip

    def frame() -> None:
        view, _ = scene.render(GIF_SIZE, side)
        frames.append(np.concatenate([camera_view, view], 1))

    return frame


def _marked(rgb: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """The camera image enlarged to GIF_SIZE with a green ring at the true and an orange cross
    at the predicted position."""
    from PIL import Image, ImageDraw

    scale = GIF_SIZE / rgb.shape[0]
    im = Image.fromarray(rgb).resize((GIF_SIZE, GIF_SIZE), Image.NEAREST)
    draw = ImageDraw.Draw(im)
    (tc, tr), (pc, pr) = (pixels + 0.5) * scale
    draw.ellipse([tc - 7, tr - 7, tc + 7, tr + 7], outline=(27, 158, 119), width=2)
    draw.line([pc - 6, pr - 6, pc + 6, pr + 6], fill=(217, 95, 2), width=2)
    draw.line([pc - 6, pr + 6, pc + 6, pr - 6], fill=(217, 95, 2), width=2)
    return np.asarray(im)


def _write_gif(path: Path, frames: list[np.ndarray]) -> None:
    from PIL import Image

    from cnnlab.core.io import atomic_write

    if path.parent and not path.parent.exists():
        raise ConfigError(f"the folder of {path} does not exist; create it or give another --gif")
    images = [Image.fromarray(f) for f in frames]
    import io

    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=60,
                   loop=0)  # fmt: skip
    atomic_write(path, buf.getvalue())
