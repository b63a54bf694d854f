"""Pictures and reports drawn from results: figures (matplotlib, Agg) and self-contained HTML."""

from cnnlab.viz.figures import (
    fig_to_png,
    image_grid,
    plot_confusion,
    plot_curves,
    plot_mistakes,
    plot_robustness,
    save_figure,
)
from cnnlab.viz.report import Image, Section, Table, render_report, write_report

__all__ = [
    "Image",
    "Section",
    "Table",
    "fig_to_png",
    "image_grid",
    "plot_confusion",
    "plot_curves",
    "plot_mistakes",
    "plot_robustness",
    "render_report",
    "save_figure",
    "write_report",
]
