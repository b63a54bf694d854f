"""A scripted top-down grasp with the simulated Franka Panda: open, go above the point, come
down, close, lift, hold; success when the object is still up in the air at the end.

The arm is driven by pybullet's inverse kinematics for the point between the fingertips
(link `panda_grasptarget`), the gripper pointing down and turned to the grasp yaw, joint
position control with the joint limits and the rest pose as the null space, the IK solved
again every 20 physics steps (closed loop) so the hand ends where it was sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from cnnlab.data.tabletop_sim import HOME, TABLE_Z, Scene, to_world, wrap_yaw

GRASP_LINK = 11  # panda_grasptarget: the point between the fingertips
FINGERS = (9, 10)
OPEN, CLOSED = 0.04, 0.0  # each finger's travel (m): the gripper opens 8 cm
LOWER = (-2.9, -1.76, -2.9, -3.07, -2.9, -0.02, -2.9)
UPPER = (2.9, 1.76, 2.9, -0.07, 2.9, 3.75, 2.9)
GRASP_Z = 0.012  # the fingertips' centre above the table top when closing (m)
APPROACH_Z = 0.20  # the height the hand comes from and lifts to (m above the grasp)
LIFTED = 0.10  # success: the object's base this high above the table at the end (m)
SUBSTEPS = 20  # physics steps between IK solutions


def move(scene: Scene, pos: tuple[float, float, float], yaw: float, fingers: float,
         steps: int, frame: Callable[[], None] | None = None,
         every: int = 40) -> np.ndarray:  # fmt: skip
    """Drive the hand to `pos` (world, m) turned to `yaw` for `steps` physics steps (1/240 s
    each) with the fingers at `fingers`; `frame()` is called every `every` steps. Returns
    where the grasp point ended minus where it was sent (m)."""
    pb = scene.pb
    orn = pb.getQuaternionFromEuler([math.pi, 0.0, float(wrap_yaw(yaw))])
    ranges = [u - lo for u, lo in zip(UPPER, LOWER, strict=True)]
    for k in range(0, steps, SUBSTEPS):
        q = scene.call("calculateInverseKinematics", scene.arm, GRASP_LINK, list(pos), orn,
                       lowerLimits=list(LOWER), upperLimits=list(UPPER), jointRanges=ranges,
                       restPoses=list(HOME), maxNumIterations=200,
                       residualThreshold=1e-5)  # fmt: skip
        for j in range(7):
            scene.call("setJointMotorControl2", scene.arm, j, pb.POSITION_CONTROL, q[j],
                       force=240, maxVelocity=2.0)  # fmt: skip
        for j in FINGERS:
            scene.call("setJointMotorControl2", scene.arm, j, pb.POSITION_CONTROL, fingers,
                       force=60)  # fmt: skip
        for s in range(SUBSTEPS):
            scene.call("stepSimulation")
            if frame is not None and (k + s) % every == 0:
                frame()
    return np.asarray(scene.call("getLinkState", scene.arm, GRASP_LINK)[0]) - np.asarray(pos)


def grasp(scene: Scene, body: int, x_cm: float, y_cm: float, yaw: float,
          frame: Callable[[], None] | None = None) -> bool:  # fmt: skip
    """Try to pick up `body` with a top-down grasp at (x_cm, y_cm) of the workspace, the
    fingers closing across `yaw`; True when it is lifted and held."""
    x, y = to_world(x_cm, y_cm)
    z = TABLE_Z + GRASP_Z
    move(scene, (x, y, z + APPROACH_Z), yaw, OPEN, 200, frame)
    move(scene, (x, y, z), yaw, OPEN, 160, frame)
    move(scene, (x, y, z), yaw, CLOSED, 100, frame)
    move(scene, (x, y, z + APPROACH_Z + 0.05), yaw, CLOSED, 200, frame)
    move(scene, (x, y, z + APPROACH_Z + 0.05), yaw, CLOSED, 60, frame)  # hold
    height = scene.call("getBasePositionAndOrientation", body)[0][2] - TABLE_Z
    return bool(height > LIFTED)
