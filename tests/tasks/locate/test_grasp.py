"""cnnlab grasp: the simulated Panda lifts objects grasped at their true positions and misses
them 15 cm away; the command end to end on a tiny tabletop run (grasp.json, GIF); one-line
errors for runs it cannot use and for a missing robotics extra."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from conftest import cli, one_line_error, position_folder

pytest.importorskip("pybullet")

QUIET = Console(quiet=True)


@pytest.fixture(scope="module")
def tabletop_run(tmp_path_factory):
    from cnnlab.data.tabletop import make_tabletop
    from cnnlab.tasks.locate.run import locate

    root = tmp_path_factory.mktemp("grasp")
    data = make_tabletop(root / "tt.npz", {"train": 12, "val": 4, "test": 4}, size=32, workers=1)
    r = locate(data=str(data), model="locate-mlp", epochs=1, batch_size=4, precision="32",
               runs_dir=str(root / "runs"), name="tt", progress=False, console=QUIET)  # fmt: skip
    return r.run_dir


def test_the_arm_lifts_objects_at_their_true_position_and_misses_them_far_away():
    from cnnlab.data.tabletop import mesh_split
    from cnnlab.data.tabletop_sim import Scene, place
    from cnnlab.tasks.locate.arm import grasp

    at_true, far_off = 0, 0
    with Scene() as scene:
        for i in range(4):
            placed = place(scene, np.random.default_rng([5, i]), mesh_split()["test"])
            state = scene.call("saveState")
            x, y, yaw, _ = placed.pose
            at_true += grasp(scene, placed.body, x, y, yaw)
            scene.call("restoreState", state)
            scene.rest_arm()
            far_off += grasp(scene, placed.body, x + 15 * np.sign(-x or 1), y, yaw)
            scene.call("removeState", state)
    assert at_true >= 3 and far_off == 0, (at_true, far_off)


def test_grasp_runs_the_three_ways_and_writes_results_and_a_gif(capsys, tabletop_run, tmp_path):
    gif = tmp_path / "g.gif"
    rc, out, err = cli(capsys, "grasp", tabletop_run, "--trials", "2", "--gif", gif)
    assert rc == 0, err
    assert "true positions (ceiling)" in out and "the table's centre (floor)" in out
    res = json.loads((tabletop_run / "grasp.json").read_text())
    assert res["trials"] == 2 and set(res["success"]) == {"model", "true", "centre"}
    assert all(0 <= v <= 2 for v in res["success"].values())
    for row in res["per_trial"]:
        assert {"mesh", "true", "predicted", "error_cm", "lifted"} <= set(row)
        assert set(row["lifted"]) == {"model", "true", "centre"}
        assert row["error_cm"] == pytest.approx(
            np.hypot(row["predicted"][0] - row["true"][0], row["predicted"][1] - row["true"][1])
        )
    with Image.open(gif) as im:
        assert im.n_frames > 10 and im.size == (320, 160)


def test_grasp_refuses_runs_it_cannot_use(capsys, tmp_path, trained_run):
    rc, _, err = cli(capsys, "grasp", trained_run, "--trials", "1")
    one_line_error(rc, err, "is a classify run", "cnnlab locate")
    from cnnlab.tasks.locate.run import locate

    folder = position_folder(tmp_path / "sq", n=30)
    r = locate(data=str(folder), model="locate-mlp", epochs=1, batch_size=8, precision="32",
               runs_dir=str(tmp_path / "runs"), progress=False, console=QUIET)  # fmt: skip
    rc, _, err = cli(capsys, "grasp", r.run_dir, "--trials", "1")
    one_line_error(rc, err, "not on the simulated tabletop", "--data tabletop")


def test_bad_grasp_options_and_a_missing_extra_are_one_line(capsys, monkeypatch, tabletop_run):
    rc, _, err = cli(capsys, "grasp", tabletop_run, "--trials", "0")
    one_line_error(rc, err, "--trials must be >= 1")
    rc, _, err = cli(capsys, "grasp", tabletop_run, "--gif", "out.png")
    one_line_error(rc, err, "must name a .gif file")
    monkeypatch.setitem(sys.modules, "pybullet", None)  # as if the extra were not installed
    rc, _, err = cli(capsys, "grasp", tabletop_run, "--trials", "1")
    one_line_error(rc, err, "pip install 'cnnlab[robotics]'")
    rc, _, err = cli(capsys, "datasets", "make", "tabletop", "--n_train", "1")
    one_line_error(rc, err, "pip install 'cnnlab[robotics]'")
