"""The tabletop set: pybullet scenes rendered the same by any process, positions that match
what the camera sees (the projection against pybullet's segmentation), meshes split so test
objects are never trained on, and a corrupt cache that is one line."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnnlab.core.errors import DataError
from cnnlab.data import tabletop
from cnnlab.data.tabletop_sim import (
    HALF_CM,
    TABLE_Z,
    Camera,
    Scene,
    mesh_info,
    project,
    table_to_pixels,
    to_world,
    wrap_yaw,
)
from conftest import cli, one_line_error

pytest.importorskip("pybullet")


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    path = tmp_path_factory.mktemp("tt") / "tt.npz"
    return tabletop.make_tabletop(path, {"train": 6, "val": 3, "test": 3}, size=32, workers=1)


def test_meshes_are_split_by_shape_without_overlap():
    s = tabletop.mesh_split()
    assert [len(s[k]) for k in ("train", "val", "test")] == [800, 100, 100]
    assert len(np.unique(np.concatenate(list(s.values())))) == 1000


def test_a_generated_set_has_images_positions_masks_and_test_meshes_only(tiny_set):
    d = tabletop.read_tabletop(tiny_set)
    assert d.x["train"].shape == (6, 3, 32, 32) and d.x["train"].dtype == np.uint8
    assert d.y["test"].shape == (3, 3) and d.mask["val"].shape == (3, 32, 32)
    assert np.all(np.abs(d.y["train"][:, 0]) <= HALF_CM[0])
    assert np.all(np.abs(d.y["train"][:, 1]) <= HALF_CM[1])
    assert np.all(np.abs(d.y["train"][:, 2]) <= math.pi / 2)
    assert set(d.mesh["test"]) <= set(tabletop.mesh_split()["test"])
    assert all((m == 1).sum() > 0 for m in d.mask["train"])  # the object is in view


def test_a_scene_is_the_same_from_any_process():
    a = tabletop.render_sample("val", 4, 32, seed=3)
    b = tabletop.render_sample("val", 4, 32, seed=3)
    assert np.array_equal(a["x"], b["x"]) and np.allclose(a["y"], b["y"])
    c = tabletop.render_sample("val", 5, 32, seed=3)
    assert not np.allclose(a["y"], c["y"])


def test_the_projection_puts_table_points_where_pybullet_draws_them():
    with Scene(arm=False) as s:
        for x_cm, y_cm in ((-15, -25), (12, 20), (0, 0)):
            wx, wy = to_world(x_cm, y_cm)
            body = s.call("loadURDF", "sphere_small.urdf", [wx, wy, TABLE_Z + 0.03],
                          useFixedBase=True)  # fmt: skip
            cam = Camera().perturbed(np.random.default_rng(x_cm + 100))
            _, seg = s.render(96, cam)
            rows, cols = np.nonzero(seg == body)
            seen = np.array([cols.mean(), rows.mean()])
            drawn = project(np.array([[wx, wy, TABLE_Z + 0.03]]), cam, 96)[0]
            assert np.abs(seen - drawn).max() < 0.5, (seen, drawn)
            s.call("removeBody", body)
    centre = table_to_pixels(np.zeros((1, 2)), 64)[0]
    assert 20 < centre[0] < 44 and 20 < centre[1] < 44


def test_the_grasp_yaw_is_the_narrow_direction_and_folds_into_half_a_turn():
    info = mesh_info(124)
    assert info.width < info.length
    assert float(wrap_yaw(math.pi / 2)) == pytest.approx(-math.pi / 2)
    assert float(wrap_yaw(0.25 + math.pi)) == pytest.approx(0.25)


def test_a_corrupt_or_foreign_set_is_one_line(capsys, tmp_path, tiny_set):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable tabletop set"):
        tabletop.read_tabletop(bad)
    rc, _, err = cli(capsys, "locate", "--data", bad, "--epochs", "1", "--runs_dir",
                     tmp_path / "runs")  # fmt: skip
    one_line_error(rc, err, "not a readable tabletop set", "cnnlab datasets make tabletop")
    rc, _, err = cli(capsys, "datasets", "make", "tables")
    one_line_error(rc, err, "keywords and tabletop", "tables")
