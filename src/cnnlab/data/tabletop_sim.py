"""A simulated table top (pybullet in DIRECT mode: no display, the CPU software renderer): a
table, a Franka Panda arm at its edge, objects from pybullet_data's 1,000 random meshes, and
an overhead-oblique camera looking at the arm's workspace.

Coordinates. The world is pybullet's (metres, z up); the arm's base stands at ARM_BASE on the
table top, facing +x. The workspace is the 40 x 60 cm rectangle in front of it (x along the
arm's reach, y across); an object's position is given in cm from the workspace's centre, and
its yaw is the direction of its narrowest width (where a parallel gripper closes), an angle
in [-90, 90) degrees since a gripper closes the same way at yaw and yaw + 180.

pybullet is optional (`pip install 'cnnlab[robotics]'`); it is imported only here and in the
grasp loop, never by the core package.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.core.errors import ConfigError

INSTALL = "pip install 'cnnlab[robotics]'"
TABLE_Z = 0.626  # the top of pybullet_data's table.urdf (m)
ARM_BASE = (-0.60, 0.0, TABLE_Z)
CENTRE = (-0.10, 0.0)  # the workspace's centre in world x, y (m)
HALF_CM = (20.0, 30.0)  # the workspace's half extents (cm): 40 x 60 cm
MESHES = 1000  # pybullet_data/random_urdfs/000 ... 999
OBJECT_SCALE = 0.6  # the meshes at 0.6 of their size: 2-11 cm, most fit the gripper's 8 cm
MARGIN_CM = 4.0  # an object's centre stays this far inside the workspace's edge
HOME = (0.0, -0.4, 0.0, -2.4, 0.0, 2.0, 0.785)  # the arm's joint angles at rest (rad)


@contextmanager
def c_stdout_hidden() -> Iterator[None]:
    """pybullet prints its build time when it is imported: send fd 1 to /dev/null meanwhile.
    On a terminal the line goes there at once; into a pipe or a file it sits in a buffer of
    pybullet's own that no fflush reaches (measured) and comes out when the process ends."""
    import ctypes
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                yield
            finally:
                ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def require_pybullet() -> Any:
    """The pybullet module, or one line with the install command."""
    try:
        with c_stdout_hidden():
            import pybullet
            import pybullet_data  # noqa: F401
    except ImportError:
        raise ConfigError(f"the robotics extra is not installed: {INSTALL}") from None
    return pybullet


def data_path() -> Path:
    import pybullet_data

    return Path(pybullet_data.getDataPath())


@dataclass(frozen=True)
class MeshInfo:
    """A mesh's footprint in its own frame, scaled: the centre of its vertices (m), the angle of
    its narrowest horizontal direction (rad) and its width along that and the widest (m)."""

    centre: tuple[float, float]
    axis: float
    width: float
    length: float


@lru_cache(maxsize=MESHES)
def mesh_info(mesh: int) -> MeshInfo:
    """Read a random mesh's vertices and take the principal axes of their footprint."""
    path = data_path() / "random_urdfs" / f"{mesh:03d}" / f"{mesh:03d}.obj"
    scale = 0.015 * OBJECT_SCALE  # the URDFs scale their meshes by 0.015
    v = np.array([[float(t) for t in line.split()[1:3]] for line in path.read_text().splitlines()
                  if line.startswith("v ")]) * scale  # fmt: skip
    centre = v.mean(0)
    _, vectors = np.linalg.eigh(np.cov((v - centre).T))
    extent = np.ptp((v - centre) @ vectors, axis=0)
    minor = vectors[:, 0]
    return MeshInfo((float(centre[0]), float(centre[1])), math.atan2(minor[1], minor[0]),
                    float(extent[0]), float(extent[1]))  # fmt: skip


def wrap_yaw(angle: float | np.ndarray) -> Any:
    """An angle (rad) folded into [-pi/2, pi/2): a gripper closes alike at yaw and yaw + pi."""
    return (np.asarray(angle) + math.pi / 2) % math.pi - math.pi / 2


def to_world(x_cm: float, y_cm: float) -> tuple[float, float]:
    return CENTRE[0] + x_cm / 100, CENTRE[1] + y_cm / 100


def to_cm(x: float, y: float) -> tuple[float, float]:
    return (x - CENTRE[0]) * 100, (y - CENTRE[1]) * 100


@dataclass(frozen=True)
class Camera:
    """Where the camera stands and looks, its field of view (degrees), and the light."""

    eye: tuple[float, float, float] = (0.12, 0.0, TABLE_Z + 0.70)
    target: tuple[float, float, float] = (CENTRE[0], CENTRE[1], TABLE_Z)
    fov: float = 58.0
    up: tuple[float, float, float] = (-1.0, 0.0, 0.0)  # image up: away from the arm
    light: tuple[float, float, float] = (0.3, 0.2, 1.0)
    ambient: float = 0.6
    diffuse: float = 0.35

    def perturbed(self, rng: np.random.Generator, move_m: float = 0.01, fov_deg: float = 1.0,
                  light: bool = True) -> Camera:  # fmt: skip
        """The camera moved by up to `move_m` on each axis (eye and target), its field of view
        changed by up to `fov_deg`, and (light=True) a random light direction and strength."""
        jitter = lambda p: tuple(float(a + rng.uniform(-move_m, move_m)) for a in p)  # noqa: E731
        c = replace(self, eye=jitter(self.eye), target=jitter(self.target),
                    fov=float(self.fov + rng.uniform(-fov_deg, fov_deg)))  # fmt: skip
        if light:
            d = (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.6, 1.4))
            c = replace(c, light=tuple(float(a) for a in d),
                        ambient=float(rng.uniform(0.45, 0.75)),
                        diffuse=float(rng.uniform(0.25, 0.5)))  # fmt: skip
        return c


def random_colour(rng: np.random.Generator, grey: bool = False) -> tuple[float, ...]:
    """A saturated colour for the object to find, a grey one for a distractor."""
    import colorsys

    if grey:
        v = rng.uniform(0.15, 0.95)
        return (v, v, v, 1.0)
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.65, 1), rng.uniform(0.55, 1))
    return (r, g, b, 1.0)


class Scene:
    """One pybullet world in DIRECT mode: the floor, the table, the arm at rest, and objects
    added and removed. Use it as a context manager (it disconnects at the end)."""

    def __init__(self, arm: bool = True) -> None:
        pb = require_pybullet()
        self.pb = pb
        with c_stdout_hidden():
            self.client = pb.connect(pb.DIRECT)
        pb.setAdditionalSearchPath(str(data_path()), physicsClientId=self.client)
        pb.setGravity(0, 0, -9.81, physicsClientId=self.client)
        self.call("loadURDF", "plane.urdf")
        self.table = self.call("loadURDF", "table/table.urdf", [0, 0, 0], useFixedBase=True)
        self.arm = None
        if arm:
            self.arm = self.call("loadURDF", "franka_panda/panda.urdf", ARM_BASE,
                                 useFixedBase=True)  # fmt: skip
            self.rest_arm()
        self.objects: list[int] = []

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A pybullet function on this scene's own world."""
        return getattr(self.pb, name)(*args, physicsClientId=self.client, **kwargs)

    def __enter__(self) -> Scene:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.client is not None and self.pb.isConnected(self.client):
            self.pb.disconnect(self.client)
        self.client = None

    def rest_arm(self) -> None:
        """The arm at its rest pose with the gripper open, its motors holding it there (a
        grasp leaves them driving to where it ended)."""
        for j, q in [*enumerate(HOME), (9, 0.04), (10, 0.04)]:
            self.call("resetJointState", self.arm, j, q)
            self.call("setJointMotorControl2", self.arm, j, self.pb.POSITION_CONTROL, q,
                      force=240)  # fmt: skip

    def add(self, mesh: int, x_cm: float, y_cm: float, yaw: float,
            colour: tuple[float, ...]) -> int:  # fmt: skip
        """Drop mesh `mesh` (0-999) so that its footprint's centre lands near (x_cm, y_cm)."""
        info = mesh_info(mesh)
        c, s = math.cos(yaw), math.sin(yaw)
        dx = c * info.centre[0] - s * info.centre[1]
        dy = s * info.centre[0] + c * info.centre[1]
        x, y = to_world(x_cm, y_cm)
        urdf = f"random_urdfs/{mesh:03d}/{mesh:03d}.urdf"
        orn = self.pb.getQuaternionFromEuler([0, 0, yaw])
        body = self.call("loadURDF", urdf, [x - dx, y - dy, TABLE_Z + 0.08], orn,
                         globalScaling=OBJECT_SCALE)  # fmt: skip
        self.call("changeVisualShape", body, -1, rgbaColor=list(colour))
        self.objects.append(body)
        return body

    def settle(self, steps: int = 120) -> None:
        for _ in range(steps):
            self.call("stepSimulation")

    def clear(self) -> None:
        for body in self.objects:
            self.call("removeBody", body)
        self.objects = []

    def pose(self, body: int, mesh: int) -> tuple[float, float, float, float]:
        """Where an object is now: its footprint's centre (x, y in cm of the workspace), its
        grasp yaw (rad, in [-pi/2, pi/2)) and its height above the table top (cm)."""
        pos, orn = self.call("getBasePositionAndOrientation", body)
        r = np.array(self.pb.getMatrixFromQuaternion(orn)).reshape(3, 3)  # settled: may tilt
        info = mesh_info(mesh)
        x, y, _ = np.asarray(pos) + r @ np.array([*info.centre, 0.0])
        minor = r @ np.array([math.cos(info.axis), math.sin(info.axis), 0.0])
        yaw = math.atan2(minor[1], minor[0])
        top = self.call("getAABB", body)[1][2]
        return (*to_cm(float(x), float(y)), float(wrap_yaw(yaw)), (top - TABLE_Z) * 100)

    def render(self, size: int, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
        """The camera's image (size, size, 3) uint8 and pybullet's segmentation (size, size):
        the body id seen at each pixel (-1: nothing)."""
        view = self.pb.computeViewMatrix(camera.eye, camera.target, list(camera.up))
        proj = self.pb.computeProjectionMatrixFOV(camera.fov, 1.0, 0.05, 3.0)
        _, _, rgb, _, seg = self.call(
            "getCameraImage", size, size, view, proj, renderer=self.pb.ER_TINY_RENDERER,
            lightDirection=list(camera.light), lightAmbientCoeff=camera.ambient,
            lightDiffuseCoeff=camera.diffuse, shadow=1,
        )  # fmt: skip
        rgb = np.asarray(rgb, np.uint8).reshape(size, size, 4)[..., :3]
        return np.ascontiguousarray(rgb), np.asarray(seg, np.int64).reshape(size, size)

    def inside(self, x_cm: float, y_cm: float, margin: float = 0.0) -> bool:
        return abs(x_cm) <= HALF_CM[0] - margin and abs(y_cm) <= HALF_CM[1] - margin


@dataclass
class Placed:
    """A scene made by `place`: the object to find and the distractors' bodies."""

    body: int
    mesh: int
    pose: tuple[float, float, float, float]  # x cm, y cm, yaw rad, height cm
    distractors: list[int]


def place(scene: Scene, rng: np.random.Generator, meshes: np.ndarray,
          distractors: int = 0, tries: int = 20) -> Placed:  # fmt: skip
    """Put one coloured object of a random mesh from `meshes` at a random position and yaw in
    the workspace, and `distractors` grey objects (other meshes) at least 12 cm from it and
    from each other; settle them. Objects that roll out of the workspace are placed again."""
    for _ in range(tries):
        scene.clear()
        spots: list[tuple[float, float]] = []
        while len(spots) < 1 + distractors:
            p = (rng.uniform(-1, 1) * (HALF_CM[0] - MARGIN_CM),
                 rng.uniform(-1, 1) * (HALF_CM[1] - MARGIN_CM))  # fmt: skip
            if all(math.dist(p, q) >= 12 for q in spots):
                spots.append(p)
        picks = rng.choice(meshes, size=1 + distractors, replace=False)
        bodies = [scene.add(int(m), x, y, rng.uniform(-math.pi, math.pi),
                            random_colour(rng, grey=i > 0))
                  for i, (m, (x, y)) in enumerate(zip(picks, spots, strict=True))]  # fmt: skip
        scene.settle()
        pose = scene.pose(bodies[0], int(picks[0]))
        if scene.inside(pose[0], pose[1], margin=1.0):
            return Placed(bodies[0], int(picks[0]), pose, bodies[1:])
    raise RuntimeError(f"no object stayed inside the workspace in {tries} tries")


def project(points: np.ndarray, camera: Camera, size: int) -> np.ndarray:
    """Where world points (N, 3) (m) appear in the camera's size x size image: (N, 2) column
    and row in pixel units as numpy indexes them (measured against the centres of objects in
    pybullet's segmentation: within half a pixel). The same look-at camera and
    perspective as pybullet's computeViewMatrix and computeProjectionMatrixFOV; needs no
    pybullet (reports draw positions with it)."""
    eye, target = np.asarray(camera.eye), np.asarray(camera.target)
    f = (target - eye) / np.linalg.norm(target - eye)
    s = np.cross(f, np.asarray(camera.up, float))
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    d = np.asarray(points, float) - eye
    scale = 1 / math.tan(math.radians(camera.fov) / 2)
    nx, ny = scale * (d @ s) / (d @ f), scale * (d @ u) / (d @ f)
    # the software renderer draws rows one pixel higher than the pinhole model says (measured
    # at 32 to 384 pixels: the offset does not grow with the size)
    return np.stack([(nx + 1) / 2 * size, (1 - ny) / 2 * size - 1], 1)


def table_to_pixels(xy_cm: np.ndarray, size: int, camera: Camera | None = None) -> np.ndarray:
    """Positions on the table top (N, 2) in cm of the workspace, as (N, 2) pixel positions
    in the nominal camera's image."""
    xy = np.asarray(xy_cm, float).reshape(-1, 2)
    world = np.stack([CENTRE[0] + xy[:, 0] / 100, CENTRE[1] + xy[:, 1] / 100,
                      np.full(len(xy), TABLE_Z)], 1)  # fmt: skip
    return project(world, camera or Camera(), size)
