"""Figures and report of the weight-initialization study; they only read its result."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnlab.studies.init import ACT_BINS, GRAD_BINS, InitStudyResult
from cnnlab.viz.figures import fig_to_png, save_figure
from cnnlab.viz.report import Image, Section, Table, write_report

# the course notebook's validation accuracy (MLP 784-256-128-10, Adam 1e-3, 2 epochs)
COURSE = {"zeros": 9.7, "ones": 9.7, "uniform": 33.9, "uniform-rule": 85.4, "normal-rule": 85.2}


def _colors(schemes: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(schemes) <= 10 else "tab20"]
    return {s: cmap(i % cmap.N) for i, s in enumerate(schemes)}


def plot_loss_curves(result: InitStudyResult) -> Figure:
    """Training loss against step, one row per model, one line per scheme: the mean over
    seeds with the min-max band. Left: every scheme on a log axis; right: a linear zoom on
    the schemes that end below chance level. Diverged runs end where they diverged."""
    models = list(dict.fromkeys(r.model for r in result.runs))
    schemes = list(dict.fromkeys(r.scheme for r in result.runs))
    colors = _colors(schemes)
    chance = math.log(1 / result.chance)
    fig = Figure(figsize=(12, 4.0 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 2, squeeze=False)
    for (full, zoom), m in zip(axes, models, strict=True):
        top = 0.0  # the zoom shows the learning schemes after their first tenth of training
        for s in schemes:
            rs = [r for r in result.runs if r.model == m and r.scheme == s]
            if not rs or not rs[0].steps:
                continue
            n = min(len(r.losses) for r in rs)
            steps = np.array(rs[0].steps[:n])
            losses = np.array([r.losses[:n] for r in rs], dtype=float)  # (seeds, points)
            with np.errstate(all="ignore"):
                mean = losses.mean(0)
            learns = bool(np.isfinite(mean[-1]) and mean[-1] < 0.9 * chance)
            if learns:
                top = max(top, float(np.nanmax(losses[:, n // 10 :])))
            for ax in (full, zoom) if learns else (full,):
                ax.plot(steps, mean, color=colors[s], label=s, lw=1.6)
                ax.fill_between(steps, losses.min(0), losses.max(0), color=colors[s], alpha=0.18)
        full.set_yscale("log")
        full.set_title(f"{m}: every scheme (log scale)")
        zoom.set_ylim(top=min(chance, 1.15 * top) if top else chance)
        zoom.set_title(f"{m}: the schemes that learn (linear scale)")
        for ax in (full, zoom):
            ax.set_xlabel("training step")
            ax.set_ylabel("training loss")
            ax.axhline(chance, color="0.5", ls=":", lw=1)
            ax.grid(alpha=0.3)
        full.legend(fontsize=7, loc="upper right", ncols=2)
        if zoom.lines:
            zoom.legend(fontsize=7, loc="upper right", ncols=2)
    fig.suptitle("loss per init scheme (line: mean over seeds; band: min-max; dotted: chance)")
    return fig


def plot_layer_scales(result: InitStudyResult) -> Figure:
    """Std of each layer's activations and weight gradients at the start, against depth:
    the signal vanishing or exploding through the layers."""
    models = list(result.start)
    fig = Figure(figsize=(11, 3.6 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 2, squeeze=False)
    for row, m in zip(axes, models, strict=True):
        colors = _colors(list(result.start[m]))
        for s, stats in result.start[m].items():
            depth = np.arange(1, len(stats) + 1)
            for ax, key in zip(row, ("act_std", "grad_std"), strict=True):
                vals = np.array([getattr(x, key) for x in stats], dtype=float)
                vals = np.where(np.isfinite(vals), vals, np.nan)
                vals = np.where(vals > 0, vals, np.nan)  # zeros cannot be drawn on a log axis
                ax.plot(depth, vals, "o-", color=colors[s], label=s, ms=3, lw=1.3)
        for ax, what in zip(row, ("activations", "weight gradients"), strict=True):
            ax.set_yscale("log")
            ax.set_xlabel("layer (1 = first)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(f"std of {what}")
            ax.set_title(f"{m}: {what} at the start")
            ax.grid(alpha=0.3)
        row[1].legend(fontsize=7, ncols=2)
    return fig


def plot_histograms(result: InitStudyResult, model: str, kind: str = "act") -> Figure:
    """Per-layer histograms of |activation| (kind "act") or |weight gradient| ("grad") at the
    start of training: rows are schemes, columns layers, log-spaced bins."""
    stats = result.start[model]
    schemes = list(stats)
    n_layers = max(len(v) for v in stats.values())
    bins = ACT_BINS if kind == "act" else GRAD_BINS
    fig = Figure(figsize=(1.5 * n_layers + 1.5, 1.05 * len(schemes) + 1), layout="constrained")
    axes = fig.subplots(len(schemes), n_layers, squeeze=False, sharex=True)
    centers = np.sqrt(bins[1:-1] * bins[2:])  # geometric centres; bin 0 holds exact zeros
    for i, s in enumerate(schemes):
        for j in range(n_layers):
            ax = axes[i, j]
            ax.set_yticks([])
            if j >= len(stats[s]):
                ax.set_axis_off()
                continue
            layer = stats[s][j]
            counts = np.array(layer.act_hist if kind == "act" else layer.grad_hist, float)
            total = counts.sum() or 1.0
            ax.bar(centers, counts[1:] / total, width=np.diff(bins[1:]), color="#1f77b4")
            zero = counts[0] / total
            if zero > 0.9:  # ReLU zeroes about half of any layer; more means a dead layer
                ax.text(0.5, 0.5, f"{zero:.0%} zero", transform=ax.transAxes, ha="center",
                        fontsize=7, color="#b3261e")  # fmt: skip
            ax.set_xscale("log")
            if i == 0:
                ax.set_title(f"{j + 1}: {layer.layer}", fontsize=7)
            if j == 0:
                ax.set_ylabel(s, fontsize=7, rotation=0, ha="right", va="center")
            ax.tick_params(labelsize=6)
    what = "|activation|" if kind == "act" else "|weight gradient|"
    fig.suptitle(f"{model}: {what} per layer at the start of training (share of values per bin)")
    return fig


def summary_table(result: InitStudyResult) -> tuple[list[str], list[list[str]]]:
    headers = ["model", "scheme", "val accuracy", "val loss", "units equal to unit 0",
               "deepest hidden std at start", "course"]  # fmt: skip
    body = []
    for r in result.summary():
        pm = f" ± {r['val_acc_std']:.1%}" if r["seeds"] > 1 else ""
        loss = "diverged" if not math.isfinite(r["val_loss"]) else f"{r['val_loss']:.3g}"
        course = COURSE.get(r["scheme"]) if r["model"] == "mlp" else None
        layers = result.start.get(r["model"], {}).get(r["scheme"], [])
        deep = layers[-2].act_std if len(layers) >= 2 else math.nan  # [-1] is the head
        body.append(
            [
                r["model"],
                r["scheme"],
                f"{r['val_acc']:.1%}{pm}",
                loss,
                f"{r['same_units']:.0%}",
                f"{deep:.2g}",
                f"{course} %" if course is not None else "",
            ]
        )
    return headers, body


def init_report(result: InitStudyResult, out: Path) -> Path:
    """figures/*.png and report.html in `out`."""
    out = Path(out)
    figs = {"loss-curves": plot_loss_curves(result), "layer-scales": plot_layer_scales(result)}
    for m in result.start:
        figs[f"activations-{m}"] = plot_histograms(result, m, "act")
        figs[f"gradients-{m}"] = plot_histograms(result, m, "grad")
    pngs = {name: fig_to_png(f) for name, f in figs.items()}
    for name, f in figs.items():
        save_figure(f, out / "figures" / f"{name}.png")
    cfg = result.config
    headers, body = summary_table(result)
    text = (
        f"Each model trained on {result.data_source} for {cfg['epochs']} epoch(s) with Adam "
        f"(lr {cfg['lr']:g}, batch {cfg['batch_size']}) once per scheme and seed "
        f"({cfg['seeds']} seed(s)); validation on {cfg['val_fraction']:.0%} of the training "
        "images. 'units equal to unit 0': the share of the first layer's units whose output "
        "equals unit 0's on every image of a batch at the start. 'deepest hidden std at start': "
        "the std of the last hidden layer's activations on one batch before training (about "
        "1 keeps the signal; 0 vanished, huge exploded). 'course': the course "
        "notebook's validation accuracy for the same MLP set-up."
    )
    why = (
        "With all weights equal (zeros, ones) every unit of a layer computes the same thing "
        "and receives the same gradient, so the units stay equal: the layer is one unit "
        "repeated. Random weights break this symmetry. Their scale decides what reaches the "
        "deep layers: with a fixed std (normal, uniform [0, 1)) activations grow by a factor "
        "in every layer and the loss explodes; the 1/sqrt(n) rules keep the scale about "
        "constant (Xavier and Kaiming refine the factor for the layer's fan-out and ReLU)."
    )
    sections = [
        Section("Weight initialization", text, tables=[Table(headers, body, "final validation")],
                images=[Image("training loss", pngs["loss-curves"])]),
        Section("Why: the signal at the start", why,
                images=[Image("activation and gradient scale per layer", pngs["layer-scales"])]
                + [Image(n.replace("-", " of ", 1), p) for n, p in pngs.items()
                   if n.startswith(("activations-", "gradients-"))]),
    ]  # fmt: skip
    return write_report(out / "report.html", "Weight initialization", sections,
                        subtitle=result.data_source)  # fmt: skip
