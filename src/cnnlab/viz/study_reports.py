"""Figures and HTML reports of the studies; they only read the studies' result objects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnlab.viz.figures import fig_to_png, image_grid, plot_robustness, save_figure
from cnnlab.viz.report import Image, Section, Table, write_report


def mlp_vs_cnn_report(result, examples: np.ndarray, out: Path) -> Path:
    """figures/robustness.png, figures/examples.png and report.html in `out`.

    Shapes: examples (conditions * n, C, H, W) uint8, condition-major.
    """
    out = Path(out)
    acc = {r.name: r.accuracy for r in result.rows}
    params = {r.name: r.parameters for r in result.rows}
    fig = plot_robustness(acc, params, chance=result.chance)
    save_figure(fig, out / "figures" / "robustness.png")
    n = len(examples) // len(result.conditions)
    captions = [c if i % n == 0 else "" for c in result.conditions for i in range(n)]
    grid = image_grid(examples, ncols=n, captions=captions)
    save_figure(grid, out / "figures" / "examples.png")
    headers, body = result.table()
    cfg = result.config
    text = (
        f"Both models trained on the same data ({result.data_source}) for the same budget of "
        f"{cfg['budget']:g} seconds each, with augmentation '{cfg['augment']}', then tested on "
        f"the {result.test_images:,} test images as they are and shifted or rotated.\n\n"
        "An MLP sees the image as one long vector: a pattern learned at one position says "
        "nothing about the same pattern two pixels away. A CNN slides the same small filters "
        "over the whole image and pools their answers, so a shifted input gives shifted "
        "feature maps and mostly the same prediction."
    )
    sections = [
        Section("MLP vs CNN", text, tables=[Table(headers, body, "test accuracy")],
                images=[Image("accuracy per condition", fig_to_png(fig))]),
        Section("What the perturbed test images look like",
                images=[Image("rows: clean, shifted, rotated", fig_to_png(grid))]),
    ]  # fmt: skip
    return write_report(out / "report.html", "MLP vs CNN", sections, subtitle=result.data_source)
