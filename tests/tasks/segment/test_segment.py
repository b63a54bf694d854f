"""Segmentation runs end to end on tiny generated data: the run folder, test scores against
the all-background baseline, exact resume, sliding-window inference, `cnnlab predict` on
images and NIfTI volumes, and one-line errors of `cnnlab segment` / `cnnlab predict`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.engine import runs
from cnnlab.tasks.segment.predict import predict_mask, sliding_window_logits, window_starts
from cnnlab.tasks.segment.run import SegmentConfig, segment
from conftest import cli, one_line_error

SCENES = dict(
    data="fashion-scenes",
    n_train=96,
    n_val=16,
    n_test=32,
    size=32,
    epochs=3,
    batch_size=8,
    lr=1e-2,
    model_args={"base_width": 8, "depth": 2},
    progress=False,
)
VOLUMES = dict(
    data="volumes",
    n_train=16,
    n_val=4,
    n_test=4,
    size=16,
    epochs=4,
    batch_size=2,
    lr=1e-2,
    model_args={"base_width": 8, "depth": 2},
    progress=False,
)


@pytest.fixture(scope="module")
def scene_run(tmp_path_factory):
    return segment(runs_dir=tmp_path_factory.mktemp("runs"), **SCENES)


@pytest.fixture(scope="module")
def volume_run(tmp_path_factory):
    return segment(runs_dir=tmp_path_factory.mktemp("runs"), **VOLUMES)


def test_scene_run_writes_its_folder_and_beats_background(scene_run):
    folder = scene_run.run_dir
    for f in (
        "config.yaml",
        "model.json",
        "model.safetensors",
        "state.pt",
        "metrics.csv",
        "results.json",
        "report.html",
        "figures/overlays.png",
        "figures/curves.png",
    ):
        assert (folder / f).is_file(), f
    t = scene_run.test
    assert t["miou"] > 2 * t["baseline_miou"] and t["pixel_acc"] > t["baseline_pixel_acc"]
    results = json.loads((folder / "results.json").read_text())
    assert [r["class"] for r in results["per_class"]][:2] == ["background", "T-shirt/top"]
    assert results["test"]["miou"] == pytest.approx(t["miou"], abs=1e-6)
    assert len(scene_run.history) == 3 and "val/miou" in scene_run.history[0]
    # the saved model is the segmenter with the data's classes and training size
    model, meta = runs.load_model(folder)
    assert meta.task == "segment" and meta.input_size == (32, 32) and meta.num_classes == 11
    assert model(torch.zeros(2, 1, 20, 28)).shape == (2, 11, 20, 28)
    assert "mean Dice" in (folder / "report.html").read_text()


def test_volume_run_draws_slices_and_rendering(volume_run):
    folder = volume_run.run_dir
    for f in ("figures/slices.png", "figures/render.png", "report.html"):
        assert (folder / f).is_file(), f
    t = volume_run.test
    assert t["miou"] > t["baseline_miou"] + 0.1
    assert set(t) >= {"iou/seabed", "dice/sphere", "mdice", "baseline_mdice"}
    assert runs.read_meta(folder).input_size == (16, 16, 16)


def test_cli_segment_prints_the_per_class_table(tmp_path, capsys):
    rc, out, err = cli(
        capsys,
        "segment",
        "--data",
        "volumes",
        "--dims",
        "3",
        "--n_train",
        "4",
        "--n_val",
        "2",
        "--n_test",
        "2",
        "--size",
        "16",
        "--epochs",
        "1",
        "--model_args",
        '{"base_width": 4, "depth": 2}',
        "--runs_dir",
        tmp_path,
        "--progress",
        "false",
    )
    assert rc == 0, err
    assert "epoch 1/1" in out and "val/miou" in out
    for word in ("seabed", "cylinder", "all background", "mIoU", "report:"):
        assert word in out, word
    assert (tmp_path / "unet-volumes" / "report.html").is_file()


def test_resume_gives_the_weights_of_a_straight_run(tmp_path):
    from cnnlab.data.scenes import fashion_scenes

    tiny = fashion_scenes(16, 4, 4, size=16)  # generated once, shared by the three runs
    small = {
        **{k: v for k, v in SCENES.items() if k != "data"},
        "n_train": 16,
        "n_val": 4,
        "n_test": 4,
        "size": 16,
        "epochs": 2,
    }
    straight = segment(runs_dir=tmp_path, name="straight", data=tiny, **small)
    part = segment(runs_dir=tmp_path, name="part", stop_after=1, data=tiny, **small)
    assert part.test == {} and len(part.history) == 1
    resumed = segment(resume=part.run_dir, data=tiny, progress=False)
    assert len(resumed.history) == 2
    a, _ = runs.load_model(straight.run_dir)
    b, _ = runs.load_model(resumed.run_dir)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k


def test_window_starts_cover_the_axis_and_overlap():
    assert window_starts(16, 32, 0.25) == [0]
    assert window_starts(64, 32, 0.25) == [0, 24, 32]
    starts = window_starts(100, 32, 0.25)
    assert starts[-1] == 68 and all(b - a <= 24 for a, b in zip(starts, starts[1:], strict=False))


def test_sliding_window_matches_direct_logits_where_one_window_covers(scene_run):
    model, meta = runs.load_model(scene_run.run_dir)
    x = torch.randn(2, 1, 64, 64)
    win = sliding_window_logits(model, x, (32, 32), overlap=0.25)
    assert win.shape == (2, 11, 64, 64)
    with torch.no_grad():
        corner = model(x[..., :32, :32])  # the only window over pixels [0, 24)
        whole = model(x[..., :32, :32])
    torch.testing.assert_close(win[..., :24, :24], corner[..., :24, :24])
    # an input of one window's size goes through in one pass
    torch.testing.assert_close(sliding_window_logits(model, x[..., :32, :32], (32, 32)), whole)


def test_predict_writes_png_masks_and_never_overwrites(scene_run, tmp_path, capsys):
    img = tmp_path / "photo.png"
    rgb = np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(img)  # colour input, larger than the 32x32 training crops
    p = predict_mask(scene_run.run_dir, img)
    assert p.mask == tmp_path / "photo-mask.png" and p.windowed
    mask = np.asarray(Image.open(p.mask))
    assert mask.shape == (50, 70) and mask.max() < 11
    assert np.asarray(Image.open(p.overlay)).shape == (50, 70, 3)
    rc, out, err = cli(capsys, "predict", scene_run.run_dir, img)
    assert rc == 0, err
    assert "photo-mask-2.png" in out and "exists" in out
    assert (tmp_path / "photo-mask-2.png").is_file() and (
        tmp_path / "photo-overlay-2.png"
    ).is_file()
    # the same pixels give the same mask
    assert np.array_equal(np.asarray(Image.open(tmp_path / "photo-mask-2.png")), mask)


def test_predict_writes_a_nifti_of_the_volume_shape(volume_run, tmp_path, capsys):
    import nibabel as nib

    affine = np.diag([2.0, 1.5, 1.0, 1.0])
    vol = np.random.default_rng(0).integers(0, 255, (20, 16, 24)).astype(np.uint8)
    src = tmp_path / "scan.nii.gz"
    nib.save(nib.Nifti1Image(vol, affine), str(src))
    rc, out, err = cli(capsys, "predict", volume_run.run_dir, src, "--out", tmp_path / "lab.nii.gz")
    assert rc == 0, err
    lab = nib.load(str(tmp_path / "lab.nii.gz"))
    assert lab.shape == (20, 16, 24) and np.allclose(lab.affine, affine)
    assert np.asarray(lab.dataobj).max() < 5
    flat = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(vol[0], affine), str(flat))
    one_line_error(*cli(capsys, "predict", volume_run.run_dir, flat)[::2], "not 3-D")
    one_line_error(
        *cli(capsys, "predict", volume_run.run_dir, tmp_path / "none.nii")[::2], "does not exist"
    )


def test_cli_errors_are_one_line(tmp_path, capsys):
    one_line_error(*cli(capsys, "segment", "--model", "nope", "--runs_dir", tmp_path)[::2], "nope")
    rc, _, err = cli(capsys, "segment", "--data", "volumes", "--dims", "2")
    one_line_error(rc, err, "dims", "--dims 3")
    one_line_error(*cli(capsys, "segment", "--epochs", "0")[::2], "epochs")
    one_line_error(*cli(capsys, "segment", "--data", tmp_path / "missing")[::2], "images/")
    # a mask folder whose mask does not match its image's size
    (tmp_path / "own/images").mkdir(parents=True)
    (tmp_path / "own/masks").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "own/images/a.png")
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "own/masks/a.png")
    rc, _, err = cli(capsys, "segment", "--data", tmp_path / "own", "--runs_dir", tmp_path)
    one_line_error(rc, err, "a.png", "size")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "own/images/b.png")
    rc, _, err = cli(capsys, "segment", "--data", tmp_path / "own", "--runs_dir", tmp_path)
    one_line_error(rc, err, "b.png", "has no mask")
    assert not (tmp_path / "unet-own").exists()
    with pytest.raises(ValueError, match="dice_weight"):
        SegmentConfig(dice_weight=-1)


def test_predict_on_a_missing_file_is_one_line(scene_run, tmp_path, capsys):
    rc, _, err = cli(capsys, "predict", scene_run.run_dir, tmp_path / "nothing.png")
    one_line_error(rc, err, "nothing.png", "does not exist")


def test_batched_augmentation_keeps_image_and_mask_aligned():
    from cnnlab.tasks.segment.metrics import augment_batch_2d

    y = torch.zeros(8, 24, 32, dtype=torch.long)
    y[:, 6:18, 4:14] = 2  # one block per image, off-centre so flips show
    x = (y * 100).to(torch.uint8)[:, None]
    ax, ay = augment_batch_2d(x, y, torch.Generator().manual_seed(1))
    bx, by = augment_batch_2d(x, y, torch.Generator().manual_seed(1))
    assert torch.equal(ax, bx) and torch.equal(ay, by)  # seeded
    assert ax.shape == x.shape and ax.dtype == torch.uint8 and ay.dtype == torch.int64
    assert set(torch.unique(ay).tolist()) <= {0, 2} and not torch.equal(ay, y)
    agree = ((ax[:, 0] > 100) == (ay > 0)).float().mean()
    assert agree > 0.95  # disagreement only along the block's edge


def test_report_rewrites_the_segmentation_report(scene_run, capsys):
    folder = scene_run.run_dir
    (folder / "report.html").unlink()
    rc, out, err = cli(capsys, "report", str(folder))
    assert rc == 0 and "report:" in out
    html = (folder / "report.html").read_text()
    assert "IoU" in html and "Dice" in html  # the segmentation report, not the classifier's
