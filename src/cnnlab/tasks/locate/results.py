"""After a locate run: the test split's position errors in cm (mean, median, 95th percentile)
beside the floor (always answering the centre), the yaw error, results.json, figures (curves,
the error distribution, the error over the table, examples with true and predicted positions)
and report.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnlab.core.io import atomic_write

CHUNK = 256
FIGURES = {
    "curves.png": "loss and validation error (cm) per epoch",
    "errors.png": "test position errors: histogram and cumulative share (cm)",
    "error_map.png": "mean test error over the table: where the model is sure and where not",
    "examples.png": "test images: true position (circle) and predicted (cross), error in cm",
}
TRUE_COLOUR, PRED_COLOUR = "#1b9e77", "#d95f02"


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray | torch.Tensor, mean: tuple[float, ...],
            std: tuple[float, ...], centre: tuple[float, ...],
            half: tuple[float, ...]) -> np.ndarray:  # fmt: skip
    """Positions and yaws (N, 3): x cm, y cm, yaw rad, of uint8 images (N, 3, H, W)."""
    from cnnlab.data.loader import normalize
    from cnnlab.tasks.locate.metrics import decode

    model.eval()
    x = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.array(x))  # a copy
    outs = [decode(model(normalize(x[i : i + CHUNK], mean, std)).float(), centre, half)
            for i in range(0, len(x), CHUNK)]  # fmt: skip
    return torch.cat(outs).numpy() if outs else np.zeros((0, 3), np.float32)


def error_stats(err: np.ndarray, prefix: str = "") -> dict[str, float]:
    return {f"{prefix}mean_cm": float(err.mean()), f"{prefix}median_cm": float(np.median(err)),
            f"{prefix}p95_cm": float(np.percentile(err, 95)),
            f"{prefix}within_1cm": float((err <= 1).mean()),
            f"{prefix}within_2cm": float((err <= 2).mean())}  # fmt: skip


def score(pred: np.ndarray, true: np.ndarray, use_yaw: bool, floor: tuple[float, ...]) -> dict:
    """The test metrics of predictions (N, 3) against truth (N, 3); the floor answers `floor`
    (the centre of the positions) for every image."""
    from cnnlab.tasks.locate.metrics import yaw_error_deg

    err = np.linalg.norm(pred[:, :2] - true[:, :2], axis=1)
    floor_err = np.linalg.norm(np.asarray(floor)[None, :2] - true[:, :2], axis=1)
    test = {**error_stats(err), **error_stats(floor_err, "floor_"), "n": len(err)}
    if use_yaw:
        yaw = yaw_error_deg(torch.from_numpy(pred[:, 2]), torch.from_numpy(true[:, 2])).numpy()
        test["yaw_median_deg"] = float(np.median(yaw))
        test["yaw_mean_deg"] = float(yaw.mean())
    else:
        test["yaw_median_deg"] = None
    return test


def write_results(folder: Path, model: nn.Module, task: Any, history: list[dict[str, float]],
                  train_time: float, best_epoch: int) -> dict[str, float]:  # fmt: skip
    """Test scores, results.json, figures, report.html."""
    from cnnlab.models import count_parameters

    pred = predict(model, task.x["test"], task.mean, task.std, task.centre, task.half)
    true = task.y["test"].numpy()
    test = score(pred, true, task.use_yaw, task.centre)
    results = {
        "test": test,
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        "train_time_s": round(train_time, 2),
        "parameters": count_parameters(model),
        "data_source": task.data.source,
        "model": task.cfg.model,
        "data": task.cfg.data,
    }
    atomic_write(folder / "results.json", json.dumps(results, indent=2))
    np.savez_compressed(folder / "test_predictions.npz", pred=pred, true=true)
    draw_figures(folder, history, pred, true, task.x["test"].numpy(),
                 task.data.name == "tabletop", task.half, task.centre)  # fmt: skip
    write_locate_report(folder, results)
    return test


def draw_figures(folder: Path, history: list[dict[str, float]], pred: np.ndarray,
                 true: np.ndarray, images: np.ndarray, camera: bool,
                 half: tuple[float, ...], centre: tuple[float, ...]) -> None:  # fmt: skip
    from cnnlab.viz.figures import plot_curves, save_figure

    figs = folder / "figures"
    rows = [{**r, "val/acc": r["val/err_cm"]} if "val/err_cm" in r else r for r in history]
    fig = plot_curves(rows)
    fig.axes[1].set_title("validation position error")
    fig.axes[1].set_ylabel("mean error (cm)")
    save_figure(fig, figs / "curves.png")
    if not len(true):
        return
    err = np.linalg.norm(pred[:, :2] - true[:, :2], axis=1)
    save_figure(plot_errors(err), figs / "errors.png")
    save_figure(plot_error_map(true[:, :2], err, centre, half), figs / "error_map.png")
    save_figure(plot_examples(images, true, pred, camera), figs / "examples.png", dpi=90)


def plot_errors(err: np.ndarray) -> Figure:
    """A histogram of the errors and their cumulative share, the median and 95th percentile
    marked."""
    fig = Figure(figsize=(8, 3.2))
    a, b = fig.subplots(1, 2)
    a.hist(err, bins=40, color="#4c72b0")
    a.set_xlabel("position error (cm)")
    a.set_ylabel("test images")
    s = np.sort(err)
    b.plot(s, np.arange(1, len(s) + 1) / len(s) * 100, color="#4c72b0")
    for q, style in ((50, "--"), (95, ":")):
        v = np.percentile(err, q)
        for ax in (a, b):
            ax.axvline(v, color="0.3", ls=style, lw=1)
        b.text(v, 5 + q * 0.2, f" {q}th: {v:.2f} cm", fontsize=8)
    b.set_xlabel("position error (cm)")
    b.set_ylabel("share within (%)")
    b.set_ylim(0, 100)
    fig.tight_layout()
    return fig


def plot_error_map(xy: np.ndarray, err: np.ndarray, centre: tuple[float, ...],
                   half: tuple[float, ...], bins: int = 8) -> Figure:  # fmt: skip
    """The mean error in cells of the table (seen from above, the arm at the bottom)."""
    fig = Figure(figsize=(5.2, 4.2))
    ax = fig.subplots()
    lo = np.asarray(centre) - np.asarray(half)
    hi = np.asarray(centre) + np.asarray(half)
    ey = np.linspace(lo[1], hi[1], bins + 1)
    ex = np.linspace(lo[0], hi[0], max(2, round(bins * half[0] / half[1])) + 1)
    total, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=(ey, ex), weights=err)
    count, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=(ey, ex))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    im = ax.imshow(mean.T, origin="lower", extent=(ey[0], ey[-1], ex[0], ex[-1]), cmap="magma_r",
                   aspect="equal")  # fmt: skip
    fig.colorbar(im, ax=ax, label="mean error (cm)", shrink=0.8)
    ax.set_xlabel("y (cm, across the table)")
    ax.set_ylabel("x (cm, away from the arm)")
    ax.set_title(f"{len(err)} test images")
    return fig


def plot_examples(images: np.ndarray, true: np.ndarray, pred: np.ndarray, camera: bool,
                  n: int = 8) -> Figure:  # fmt: skip
    """Test images with the true (circle) and predicted (cross) positions drawn on them where
    the camera is known (the tabletop), else named in the title. Shapes: images (N, 3, H, W)."""
    from cnnlab.data.tabletop_sim import table_to_pixels

    idx = np.linspace(0, len(true) - 1, min(n, len(true))).astype(int)
    cols = min(4, len(idx))
    rows = -(-len(idx) // cols)
    fig = Figure(figsize=(2.3 * cols, 2.5 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    size = images.shape[-1]
    for ax, i in zip(axes, idx, strict=False):
        ax.imshow(images[i].transpose(1, 2, 0), interpolation="nearest")
        err = float(np.linalg.norm(pred[i, :2] - true[i, :2]))
        if camera:
            (tc, tr), (pc, pr) = table_to_pixels(np.stack([true[i, :2], pred[i, :2]]), size)
            ax.plot(tc, tr, "o", mfc="none", mec=TRUE_COLOUR, ms=9, mew=1.5)
            ax.plot(pc, pr, "x", color=PRED_COLOUR, ms=8, mew=1.8)
            ax.set_title(f"error {err:.1f} cm", fontsize=9)
        else:
            ax.set_title(f"({true[i, 0]:.0f}, {true[i, 1]:.0f}) -> ({pred[i, 0]:.0f}, "
                         f"{pred[i, 1]:.0f}) cm", fontsize=8)  # fmt: skip
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def write_locate_report(folder: Path, results: dict[str, Any]) -> Path:
    """report.html of a locate run."""
    from cnnlab.viz.report import Section, Table, figure, read_yaml, write_report

    folder = Path(folder)
    t = results["test"]

    def f(v: float | None, d: int = 2) -> str:
        return "—" if v is None else f"{v:.{d}f}"

    summary = Table(
        ["predicting", "mean (cm)", "median (cm)", "95th pct (cm)", "within 1 cm", "within 2 cm",
         "yaw median (deg)"],
        [["model", f(t["mean_cm"]), f(t["median_cm"]), f(t["p95_cm"]),
          f"{t['within_1cm']:.0%}", f"{t['within_2cm']:.0%}", f(t.get("yaw_median_deg"), 1)],
         ["the centre (floor)", f(t["floor_mean_cm"]), f(t["floor_median_cm"]),
          f(t["floor_p95_cm"]), f"{t['floor_within_1cm']:.0%}", f"{t['floor_within_2cm']:.0%}",
          "—"]],
        caption=f"test split, {t['n']} images",
    )  # fmt: skip
    text = (f"{results['model']} on {results['data']}: best epoch {results['best_epoch']} of "
            f"{results['epochs_run']}, {results['train_time_s']:.0f} s of training, "
            f"{results['parameters']:,} parameters.\n\n{results['data_source']}")  # fmt: skip
    images = [img for name, cap in FIGURES.items() for img in figure(folder, name, cap)]
    cfg = read_yaml(folder / "config.yaml") if (folder / "config.yaml").is_file() else {}
    sections = [
        Section("Test errors", text, [summary]),
        Section("Figures", "", [], images),
        Section("Configuration", "", [Table(["option", "value"],
                                            [[k, str(v)] for k, v in cfg.items()])]),
    ]  # fmt: skip
    return write_report(folder / "report.html", f"Locate run {folder.name}", sections)
