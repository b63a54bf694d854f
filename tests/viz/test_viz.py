"""Figures and HTML reports: structure of the figures, PNG files, escaping, run reports."""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.figure import Figure

from cnnlab.core.errors import RunError
from cnnlab.tasks.classify.report import run_report
from cnnlab.viz import (
    Image,
    Section,
    Table,
    image_grid,
    plot_confusion,
    plot_curves,
    plot_mistakes,
    plot_robustness,
    render_report,
    save_figure,
    write_report,
)

CLASSES = ["T-shirt/top", "Trouser", "Ankle boot"]


def tiny_png(value: int = 0) -> bytes:
    """A valid 1x1 gray PNG, built by hand so the tests need no rendering."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    raw = zlib.compress(bytes([0, value]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


# ---- figures -------------------------------------------------------------------------------


def test_plot_curves_two_panels_with_train_and_val():
    rows = [
        {"epoch": 1, "train/loss": 0.9, "train/acc": 0.6, "val/loss": 0.8, "val/acc": 0.65},
        {"epoch": 2, "train/loss": 0.5, "train/acc": 0.8, "val/loss": 0.6, "val/acc": 0.75},
    ]
    fig = plot_curves(rows)
    assert isinstance(fig, Figure)
    ax_loss, ax_acc = fig.axes
    assert [ln.get_label() for ln in ax_loss.get_lines()] == ["train", "val"]
    train_acc = next(ln for ln in ax_acc.get_lines() if ln.get_label() == "train")
    np.testing.assert_allclose(train_acc.get_ydata(), [60.0, 80.0])  # shown in %
    assert "%" in ax_acc.get_ylabel()


def test_plot_curves_skips_absent_keys():
    fig = plot_curves([{"epoch": 1, "train/loss": 1.0}, {"epoch": 2, "train/loss": 0.7}])
    ax_loss, ax_acc = fig.axes
    assert [ln.get_label() for ln in ax_loss.get_lines()] == ["train"]
    assert ax_acc.get_lines() == []


def test_plot_confusion_cells_are_row_percentages():
    cm = np.array([[8, 2, 0], [1, 9, 0], [0, 3, 1]])
    fig = plot_confusion(cm, CLASSES)
    assert len(fig.axes) == 2  # heatmap and colorbar
    ax = fig.axes[0]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}  # fmt: skip
    assert cells[(0, 0)] == "80%" and cells[(0, 1)] == "20%"
    assert cells[(1, 0)] == "10%" and cells[(1, 1)] == "90%"
    assert cells[(2, 1)] == "75%" and cells[(2, 2)] == "25%"
    assert (0, 2) not in cells  # zero counts stay blank
    assert "75.0%" in ax.get_title()  # (8 + 9 + 1) / 24
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASSES


def test_plot_confusion_handles_empty_rows_and_checks_shape():
    fig = plot_confusion(np.array([[3, 1], [0, 0]]), ["a", "b"])
    assert {t.get_text() for t in fig.axes[0].texts} == {"75%", "25%"}
    with pytest.raises(ValueError, match="cm"):
        plot_confusion(np.zeros((2, 2)), CLASSES)


def test_plot_mistakes_captions_and_empty():
    images = np.random.default_rng(0).integers(0, 256, (3, 1, 8, 8), dtype=np.uint8)
    fig = plot_mistakes(images, ["Trouser"] * 3, ["Ankle boot"] * 3, [0.93, 0.5, 0.2], ncols=2)
    assert len(fig.axes) == 3
    assert fig.axes[0].get_title().replace("\n", " ") == "Trouser → Ankle boot (93%)"
    empty = plot_mistakes(np.zeros((0, 1, 8, 8), np.uint8), [], [], [])
    assert len(empty.axes) == 1
    assert "no mistakes" in empty.axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match="one entry per image"):
        plot_mistakes(images, ["a"], ["b"], [0.5])


def test_image_grid_rgb_and_bad_shape():
    images = np.zeros((10, 3, 6, 6), np.uint8)
    fig = image_grid(images, ncols=4, captions=[str(i) for i in range(10)])
    assert len(fig.axes) == 10
    assert fig.axes[0].get_images()[0].get_array().shape == (6, 6, 3)
    with pytest.raises(ValueError, match="images"):
        image_grid(np.zeros((2, 2, 6, 6), np.uint8))


def test_plot_robustness_bars_legend_and_chance():
    results = {
        "mlp": {"clean": 0.88, "shift 2px": 0.5, "rotate 10°": 0.7},
        "cnn-bn": {"clean": 0.91, "shift 2px": 0.89, "rotate 10°": 0.85},
    }
    fig = plot_robustness(results, params={"mlp": 235_146, "cnn-bn": 1_500}, chance=0.1)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_xticklabels()] == ["clean", "shift 2px", "rotate 10°"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "mlp (235k params)" in legend and "cnn-bn (1.5k params)" in legend
    assert any("chance" in t for t in legend)
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights[0] == pytest.approx(50.0)
    with pytest.raises(ValueError, match="results"):
        plot_robustness({})


def test_save_figure_writes_png_atomically(tmp_path: Path):
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1])
    out = save_figure(fig, tmp_path / "figs" / "x.png", dpi=30)
    assert out == tmp_path / "figs" / "x.png"
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in out.parent.iterdir()] == ["x.png"]
    mask = os.umask(0o022)  # files get the permissions of any other file, not mkstemp's 0600
    try:
        save_figure(fig, out, dpi=30)
        assert out.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)


# ---- HTML reports --------------------------------------------------------------------------


def test_render_report_escapes_and_embeds(tmp_path: Path):
    png = tiny_png(200)
    section = Section(
        "Notes <b>",
        text="first <script>alert(1)</script>\n\nsecond paragraph",
        tables=[Table(["name", "value"], [["lr", 0.001], ["epochs", 10]], caption="cfg")],
        images=[Image("a picture", png)],
    )
    html = render_report("My <report>", [section], subtitle="sub & title")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "My &lt;report&gt;" in html and "sub &amp; title" in html
    assert "data:image/png;base64," + base64.b64encode(png).decode() in html
    assert html.count("<p>") == 2
    assert '<td class="num">0.001</td>' in html and '<td class="num">10</td>' in html
    assert "http://" not in html and "https://" not in html  # self-contained, no CDN
    assert "Generated by cnnlab" in html

    path = write_report(tmp_path / "out" / "r.html", "t", [section])
    assert path.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in path.parent.iterdir()] == ["r.html"]


def make_run(folder: Path, with_results: bool = True) -> Path:
    folder.mkdir(parents=True)
    cfg = {"data": "fashion-mnist", "model": "cnn-bn", "epochs": 3, "batch_size": 128,
           "lr": 0.001, "optimizer": "adamw", "seed": 0, "model_config": {"width": 32}}  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    (folder / "metrics.csv").write_text(
        "epoch,train/loss,train/acc,val/loss,val/acc,lr,time\n"
        "1,0.9,0.7,0.8,0.72,0.001,10.5\n"
        "2,0.5,0.85,0.55,0.84,0.0005,21.0\n"
    )
    meta = {"model": "cnn-bn", "config": {"width": 32}, "in_channels": 1, "num_classes": 3,
            "input_size": [28, 28], "classes": CLASSES, "mean": [0.5], "std": [0.25],
            "data": "fashion-mnist", "extra": {}}  # fmt: skip
    (folder / "model.json").write_text(json.dumps(meta))
    figures = folder / "figures"
    figures.mkdir()
    (figures / "curves.png").write_bytes(tiny_png(10))
    (figures / "feature_maps.png").write_bytes(tiny_png(20))
    if with_results:
        per_class = [{"class": c, "precision": 0.9, "recall": 0.8, "f1": 0.847, "support": 10}
                     for c in CLASSES]  # fmt: skip
        results = {
            "test": {"accuracy": 0.912, "loss": 0.2534, "per_class": per_class,
                     "confusion": [[9, 1, 0], [0, 10, 0], [1, 0, 9]]},
            "best_epoch": 2, "epochs_run": 2, "train_time_s": 75.0, "parameters": 12345,
            "data_source": "embedded subset",
            "mistakes": [{"index": 17, "true": "Trouser", "pred": "Ankle boot",
                          "confidence": 0.93}],
        }  # fmt: skip
        (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_run_report_full(tmp_path: Path):
    folder = make_run(tmp_path / "run")
    path = run_report(folder)
    assert path == folder / "report.html"
    html = path.read_text()
    for name in CLASSES:
        assert name in html
    assert "91.2%" in html  # test accuracy
    assert "0.2534" in html and "12,345" in html and "1 min 15 s" in html
    assert "embedded subset" in html
    assert "<td>90.0%</td><td>80.0%</td><td>84.7%</td>" in html  # per-class as %
    for title in ("Summary", "Training curves", "Per-class metrics", "Worst mistakes",
                  "Configuration", "Other figures"):  # fmt: skip
        assert f"<h2>{title}</h2>" in html
    assert "<h2>Confusion matrix</h2>" not in html  # its figure is missing: skipped
    assert base64.b64encode(tiny_png(10)).decode() in html  # curves
    assert base64.b64encode(tiny_png(20)).decode() in html  # other figure
    assert "model_config.width" in html and "adamw" in html
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.yaml", "figures", "metrics.csv", "model.json", "report.html", "results.json"
    ]  # fmt: skip


def test_run_report_without_results(tmp_path: Path):
    folder = make_run(tmp_path / "run", with_results=False)
    html = run_report(folder).read_text()
    assert "no test results yet" in html
    assert "Per-class metrics" not in html
    assert "<h2>Training curves</h2>" in html and "cnn-bn" in html
    assert "val/acc 84.0%" in html  # last epoch from metrics.csv


def test_run_report_rejects_missing_folder(tmp_path: Path):
    with pytest.raises(RunError, match="not a folder"):
        run_report(tmp_path / "nope")
