"""cnnlab locate on a folder of images with positions.csv (no simulator needed): a CoordConv
network learns where a square is within seconds, far better than answering the centre; the
models' shapes, the loss and the yaw's 180-degree symmetry; one-line errors for bad folders."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch
from rich.console import Console

from cnnlab.data.tabletop import read_position_folder
from cnnlab.models import create_task_model
from cnnlab.tasks.locate.metrics import decode, locate_loss, yaw_error_deg
from cnnlab.tasks.locate.run import locate
from conftest import cli, one_line_error, position_folder

QUIET = Console(quiet=True)
MODELS = ("locate-cnn", "locate-coordconv", "locate-heatmap", "locate-mlp")


@pytest.fixture(scope="module")
def squares(tmp_path_factory):
    return position_folder(tmp_path_factory.mktemp("squares"), n=400, size=24)


@pytest.fixture(scope="module")
def square_run(squares, tmp_path_factory):
    return locate(data=str(squares), model="locate-coordconv", epochs=12, batch_size=32,
                  lr=3e-3, model_args={"widths": [16, 32], "hidden": 64}, precision="32",
                  runs_dir=str(tmp_path_factory.mktemp("runs")), name="sq", progress=False,
                  console=QUIET)  # fmt: skip


def test_coordconv_learns_where_the_square_is(square_run):
    t = square_run.test
    assert t["n"] == 40  # a tenth of 400 images
    assert t["median_cm"] < 0.35 * t["floor_median_cm"], t  # far better than the centre
    assert t["median_cm"] < 2.0, t  # (a square at 1 px/cm)
    assert t["yaw_median_deg"] < 20, t  # the stripe's direction, 0 or 90 degrees
    folder = square_run.run_dir
    for f in ("results.json", "report.html", "figures/curves.png", "figures/errors.png",
              "figures/error_map.png", "figures/examples.png", "test_predictions.npz",
              "model.safetensors", "model.json"):  # fmt: skip
        assert (folder / f).is_file(), f
    res = json.loads((folder / "results.json").read_text())
    assert res["test"]["median_cm"] == pytest.approx(t["median_cm"])
    pred = np.load(folder / "test_predictions.npz")
    err = np.linalg.norm(pred["pred"][:, :2] - pred["true"][:, :2], axis=1)
    assert np.median(err) == pytest.approx(t["median_cm"], rel=1e-5)


def test_predict_says_where_the_square_is(capsys, square_run, squares):
    rows = (squares / "positions.csv").read_text().splitlines()[1:4]
    files = [squares / r.split(",")[0] for r in rows]
    rc, out, err = cli(capsys, "predict", square_run.run_dir, *files)
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 3 and all("cm" in x and "grasp yaw" in x for x in lines)
    for line, row in zip(lines, rows, strict=True):
        x_true, y_true = (float(v) for v in row.split(",")[1:3])
        x = float(line.split(" x ")[1].split(" cm")[0])
        y = float(line.split(" y ")[1].split(" cm")[0])
        assert abs(x - x_true) < 4 and abs(y - y_true) < 4, (line, row)


def test_the_folder_is_split_80_10_10_and_positions_read_in_cm(squares):
    d = read_position_folder(squares, seed=0)
    assert [len(d.y[s]) for s in ("train", "val", "test")] == [320, 40, 40]
    assert d.x["train"].shape[1:] == (3, 24, 24) and d.x["train"].dtype == np.uint8
    assert d.has_yaw and set(np.round(np.degrees(d.y["train"][:, 2]))) <= {0.0, 90.0}
    assert np.abs(d.y["train"][:, :2]).max() <= 12


@pytest.mark.parametrize("name", MODELS)
def test_each_locator_maps_images_to_four_numbers(name):
    m = create_task_model("locate", name, 3, 4, (32, 32))
    x = torch.randn(5, 3, 32, 32, requires_grad=True)
    out = m(x)
    assert out.shape == (5, 4)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_average_pooling_makes_a_plain_cnn_blind_to_where_and_coordconv_not():
    """With global average pooling a plain CNN gives an image and the same image shifted (by
    a multiple of its pooling, on a zero background, where zero padding changes nothing) the
    same output: it cannot say where; CoordConv's coordinate channels make the outputs differ."""
    torch.manual_seed(0)
    x = torch.zeros(1, 3, 32, 32)
    x[:, :, 10:14, 10:14] = 1.0
    moved = torch.roll(x, shifts=(8, 8), dims=(2, 3))
    gaps = {}
    for name in ("locate-cnn", "locate-coordconv"):
        m = create_task_model("locate", name, 3, 4, (32, 32), widths=(8, 16), pool="avg").eval()
        with torch.no_grad():
            gaps[name] = float((m(x) - m(moved)).abs().max())
    assert gaps["locate-cnn"] < 1e-4 < gaps["locate-coordconv"], gaps
    with pytest.raises(ValueError, match="pool must be flatten or avg"):
        create_task_model("locate", "locate-cnn", 3, 4, (32, 32), pool="max")


def test_the_heatmap_soft_argmax_points_at_a_bright_spot():
    """With the heat map forced to a peak, the soft-argmax is the peak's pixel in [-1, 1]."""
    m = create_task_model("locate", "locate-heatmap", 3, 4, (16, 16))
    logits = torch.full((1, 1, 16, 16), -30.0)
    logits[0, 0, 4, 12] = 30.0
    feats = torch.zeros(1, m.yaw[0].in_features, 16, 16)
    m.heatmap = lambda x: (logits, feats)  # type: ignore[method-assign]
    with torch.no_grad():
        m.to_table[0].weight.copy_(torch.eye(64, 2) * 1e-3)
    expected_uv = torch.tensor([[-1 + 2 * 12 / 15, -1 + 2 * 4 / 15]])
    out = m(torch.zeros(1, 3, 16, 16))
    assert torch.allclose(out[:, :2], m.to_table(expected_uv), atol=1e-5)


def test_the_loss_is_zero_for_a_perfect_answer_and_yaw_is_180_degree_symmetric():
    y = torch.tensor([[5.0, -10.0, 0.3], [0.0, 0.0, -1.2]])
    half, centre = (20.0, 30.0), (0.0, 0.0)
    out = torch.stack([y[:, 0] / 20, y[:, 1] / 30, torch.sin(2 * y[:, 2]),
                       torch.cos(2 * y[:, 2])], 1)  # fmt: skip
    loss, stats = locate_loss(out, y, centre, half, yaw_weight=5.0)
    assert float(loss) == pytest.approx(0, abs=1e-10) and float(stats["err"]) < 1e-5
    assert torch.allclose(decode(out, centre, half), y, atol=1e-5)
    a = torch.tensor([0.1, 1.5, -1.5])
    assert torch.allclose(yaw_error_deg(a + math.pi, a), torch.zeros(3), atol=1e-4)
    assert float(yaw_error_deg(torch.tensor(1.5), torch.tensor(-1.5))) == pytest.approx(
        180 - math.degrees(3.0), abs=1e-3)  # fmt: skip
    off, _ = locate_loss(out + torch.tensor([0.1, 0, 0, 0]), y, centre, half, 5.0)
    assert float(off) > 0


def test_yaw_is_learned_only_where_the_folder_gives_it(squares, tmp_path):
    root = shutil.copytree(squares, tmp_path / "noyaw")
    lines = (root / "positions.csv").read_text().splitlines()
    (root / "positions.csv").write_text("\n".join(["file,x,y"] + [",".join(r.split(",")[:3])
                                                   for r in lines[1:81]]) + "\n")  # fmt: skip
    for f in sorted((root / "images").iterdir())[80:]:
        f.unlink()
    r = locate(data=str(root), epochs=1, batch_size=16, model="locate-mlp", precision="32",
               runs_dir=str(tmp_path / "runs"), progress=False, console=QUIET)  # fmt: skip
    assert r.test["yaw_median_deg"] is None and "val/yaw_deg" not in r.history[-1]


def _folder(tmp_path, rows, images=("a.png", "b.png")):
    from conftest import save_png

    for name in images:
        save_png(tmp_path / name, np.zeros((8, 8, 3), np.uint8))
    if rows is not None:
        (tmp_path / "positions.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


@pytest.mark.parametrize("rows, fragments", [
    (None, ["has no positions.csv", "file,x,y"]),
    (["file,x", "a.png,1", "b.png,2"], ["lacks the column(s) y"]),
    (["file,x,y", "a.png,1,2"], ["b.png has no row in positions.csv"]),
    (["file,x,y", "a.png,1,2", "b.png,1,2", "c.png,0,0"], ["lists c.png", "not an image"]),
    (["file,x,y", "a.png,1,2", "b.png,one,2"], ["line 3", "x = 'one' is not a number"]),
    (["file,x,y"], ["has no rows"]),
])  # fmt: skip
def test_a_bad_positions_folder_is_one_line(capsys, tmp_path, rows, fragments):
    folder = _folder(tmp_path / "f", rows)
    rc, _, err = cli(capsys, "locate", "--data", folder, "--epochs", "1", "--runs_dir",
                     tmp_path / "runs", "--progress", "false")  # fmt: skip
    one_line_error(rc, err, *fragments)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_an_unknown_locator_and_a_missing_folder_are_one_line(capsys, tmp_path):
    rc, _, err = cli(capsys, "locate", "--model", "locate-vit", "--epochs", "1")
    one_line_error(rc, err, "locate-vit")
    rc, _, err = cli(capsys, "locate", "--data", tmp_path / "nothing", "--epochs", "1")
    one_line_error(rc, err, "does not exist", "tabletop")
