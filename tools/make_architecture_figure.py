"""Draw docs/figures/architecture.png: the layers of the package (left) and what happens, module
by module, in one `cnnlab train` (right).

python tools/make_architecture_figure.py
"""

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from cnnlab.viz.figures import save_figure

LAYERS = [  # (folder, what it holds), top floor first
    ("cli/", "commands, generated from TASKS"),
    ("studies/", "the lecture's experiments"),
    ("tasks/", "classify, segment, autoencode, transfer"),
    ("engine/", "the one Fabric loop, run folders"),
    ("viz/", "figures and HTML from arrays"),
    ("models/", "one registry, every task's models"),
    ("data/", "sources, batches, augmentation"),
    ("nn/", "blocks, init schemes"),
    ("mechanics/", "the lecture's arithmetic (NumPy)"),
    ("core/", "registry, errors, io"),
]
FLOW = [  # (module, what it does) in the order of one `cnnlab train`
    ("cli/tasks.py", "parse the options into a TrainConfig"),
    ("engine/loop.py: train_task", "config (or the run's config.yaml on --resume)"),
    ("engine/loop.py: fit", "Fabric: devices, precision, launch the processes"),
    ("tasks/classify/task.py: setup", "data/datasets.py -> ImageData in memory"),
    ("tasks/classify/task.py: build_model", "models/registry.py -> cnn-bn"),
    ("engine/runs.py", "new run folder, config.yaml"),
    ("per epoch: task.train_batches", "data/loader.py: batch + augment (whole batch)"),
    ("task.step(batch, 'train')", "loss + summed statistics; Fabric backward, step"),
    ("task.step(batch, 'val')", "val/ metrics summed over every process"),
    ("engine/runs.py: checkpoint", "best model, state.pt, metrics.csv, TensorBoard"),
    ("task.finish(best model)", "test, results.json, viz/ figures, report.html"),
]


def box(ax, x, y, w, h, title, text, colour):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.002,rounding_size=0.01",
                                fc=colour, ec="#4a5a70", lw=0.8))  # fmt: skip
    ax.text(x + 0.015, y + h / 2, title, va="center", ha="left", fontsize=8.5, weight="bold")
    ax.text(x + w - 0.015, y + h / 2, text, va="center", ha="right", fontsize=7.5)


def main() -> None:
    fig = Figure(figsize=(11, 6.2))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.text(0.02, 0.965, "the layers (an import only points down)", fontsize=10, weight="bold")
    ax.text(0.43, 0.965, "one `cnnlab train`, step by step", fontsize=10, weight="bold")
    h, gap, top = 0.066, 0.024, 0.93
    for i, (name, text) in enumerate(LAYERS):
        y = top - (i + 1) * h - i * gap
        box(ax, 0.02, y, 0.37, h, name, text, "#e3ecf7" if name != "engine/" else "#ffe9c7")
    h2, gap2 = 0.05, 0.032
    prev = None
    for i, (name, text) in enumerate(FLOW):
        y = top - (i + 1) * h2 - i * gap2
        looped = name.startswith(("per epoch", "task.step", "engine/runs.py: checkpoint"))
        box(ax, 0.43, y, 0.55, h2, name, text, "#fdf3d8" if looped else "#eef5ea")
        if prev is not None:
            ax.add_patch(FancyArrowPatch((0.705, prev), (0.705, y + h2), arrowstyle="-|>",
                                         mutation_scale=8, color="#4a5a70", lw=0.8))  # fmt: skip
        prev = y
    ax.text(
        0.43,
        0.03,
        "shaded: repeated every epoch (every step for the two step boxes)",
        fontsize=7.5,
        style="italic",
    )
    save_figure(fig, Path("docs/figures/architecture.png"), dpi=110)


if __name__ == "__main__":
    main()
