"""Figure, tables and report of the four-quadrant transfer study; they only read its result."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cnnlab.studies.transfer import QUADRANTS, TransferStudyResult
from cnnlab.viz.figures import fig_to_png, save_figure
from cnnlab.viz.report import Image, Section, Table, write_report


def _acc(c: dict[str, float], seeds: bool) -> str:
    if math.isnan(c["mean"]):
        return "—"
    return f"{c['mean']:.1%}" + (f" ± {c['std']:.1%}" if seeds else "")


def _num(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:.2f}"


def plot_quadrants(result: TransferStudyResult) -> Figure:
    """A 2x2 grid (rows small/large, columns similar/different): one bar per strategy, the
    mean test accuracy over seeds with a std error bar; the guide's choice is hatched and
    starred, chance is dotted, the measured PAD and feature gap are in the panel title."""
    strategies = result.strategies
    fig = Figure(figsize=(10, 7.2), layout="constrained")
    axes = fig.subplots(2, 2, sharey=True)
    for ax, quadrant in zip(axes.ravel(), QUADRANTS, strict=True):
        info = result.info(quadrant)
        cells = [result.cell(quadrant, s) for s in strategies]
        mean = np.array([c["mean"] for c in cells])
        std = np.array([c["std"] for c in cells])
        x = np.arange(len(strategies))
        colors = ["tab:orange" if s == info.guide else "tab:blue" for s in strategies]
        bars = ax.bar(x, mean, yerr=std, capsize=4, color=colors, alpha=0.85)
        for bar, s, m in zip(bars, strategies, mean, strict=True):
            if s == info.guide:
                bar.set_hatch("//")
            label = f"{m:.0%}" + (" ★" if s == info.guide else "")
            ax.text(bar.get_x() + bar.get_width() / 2, 0.02, label, ha="center", fontsize=8,
                    color="white", fontweight="bold")  # fmt: skip
        ax.axhline(result.chance.get(quadrant, 0.0), color="0.4", ls=":", lw=1)
        ax.set_xticks(x, strategies)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(
            f"{quadrant}: {info.target}, {info.images_per_class}/class\n"
            + (
                f"PAD {info.proxy_a_distance:.2f}, gap {info.feature_gap:.2f} -> measured "
                f"{info.measured}"
                if not math.isnan(info.proxy_a_distance)
                else "similarity not measured (no source data): the built quadrant's rule"
            ),
            fontsize=9,
        )
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy")
    fig.suptitle(
        "transfer strategies per quadrant (bar: mean over seeds, line: std; ★ hatched: the "
        "guide's choice; dotted: chance)",
        fontsize=10,
    )
    return fig


def summary_table(result: TransferStudyResult) -> tuple[list[str], list[list[str]]]:
    """Rows = quadrants; per strategy 'mean ± std (seconds)', the guide's choice with '*'."""
    seeds = int(result.config.get("seeds", 1)) > 1
    headers = ["quadrant", "PAD", "gap", *result.strategies, "guide", "measured best"]
    body = []
    for q in QUADRANTS:
        info = result.info(q)
        row = [q, _num(info.proxy_a_distance), _num(info.feature_gap)]
        for s in result.strategies:
            c = result.cell(q, s)
            mark = "*" if s == info.guide else ""
            row.append(f"{mark}{_acc(c, seeds)} ({c['seconds']:.1f} s)")
        row += [info.guide, result.winner(q)]
        body.append(row)
    return headers, body


def markdown_table(result: TransferStudyResult) -> str:
    """The 4x4 table as Markdown for docs/transfer.md: bold = the guide's choice."""
    seeds = int(result.config.get("seeds", 1)) > 1
    strategies = result.strategies
    head = ["quadrant (target, images/class)", "PAD", "feature gap", *strategies, "best"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for q in QUADRANTS:
        info = result.info(q)
        cells = []
        for s in strategies:
            c = result.cell(q, s)
            text = f"{_acc(c, seeds)} ({c['seconds']:.0f} s)"
            cells.append(f"**{text}**" if s == info.guide else text)
        best = result.winner(q)
        best += "" if best == info.guide else f" (guide: {info.guide})"
        first = f"{q} ({info.target}, {info.images_per_class})"
        row = [first, _num(info.proxy_a_distance), _num(info.feature_gap), *cells, best]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def pick_rows(result: TransferStudyResult) -> tuple[list[str], list[list[str]]]:
    """Per quadrant, how far the guide's rule and the pilot's picks fall below the best
    strategy (mean accuracy), and in how many seeds each was within a point of that seed's
    best run; a last row sums them. No rows when the study ran without the pilot."""
    head = ["quadrant", "best", "guide (rule)", "rule: points below best",
            "rule: seeds within 1", "pilot picks (per seed)", "pilot: points below best",
            "pilot: seeds within 1"]  # fmt: skip
    if not result.pilots:
        return head, []
    rows, total = [], {"rule": 0, "pilot": 0, "seeds": 0, "rule_q": 0, "pilot_q": 0}
    for q in QUADRANTS:
        c = result.pick_check(q)
        n = c["seeds"]
        for key, value in (("rule", c["rule_seeds"]), ("pilot", c["pilot_seeds"]), ("seeds", n),
                           ("rule_q", c["rule_ok"]), ("pilot_q", c["pilot_ok"])):  # fmt: skip
            total[key] += value
        rows.append([
            q, result.winner(q), result.info(q).guide, f"{100 * c['rule_gap']:.1f}",
            f"{c['rule_seeds']}/{n}", ", ".join(c["pilot_picks"]), f"{100 * c['pilot_gap']:.1f}",
            f"{c['pilot_seeds']}/{n}",
        ])  # fmt: skip
    rows.append([
        "all", "", "", f"within 1 point in {total['rule_q']}/4 quadrants",
        f"{total['rule']}/{total['seeds']}", "",
        f"within 1 point in {total['pilot_q']}/4 quadrants", f"{total['pilot']}/{total['seeds']}",
    ])  # fmt: skip
    return head, rows


def pick_table(result: TransferStudyResult) -> str:
    """pick_rows as Markdown (picks.md, docs/transfer.md); empty without the pilot."""
    head, rows = pick_rows(result)
    return Table(head, rows).markdown() if rows else ""


def disagreements(result: TransferStudyResult) -> list[str]:
    """One sentence per quadrant where the measured winner is not the guide's choice, or
    where the measurement placed the target in another quadrant than it was built for."""
    out = []
    for q in QUADRANTS:
        info, best = result.info(q), result.winner(q)
        if info.measured != q:
            out.append(f"{q}: the measurement placed this target in '{info.measured}'.")
        if best != info.guide:
            g, b = result.cell(q, info.guide), result.cell(q, best)
            out.append(
                f"{q}: {best} ({b['mean']:.1%}) beat the guide's {info.guide} "
                f"({g['mean']:.1%}) by {b['mean'] - g['mean']:.1%}."
            )
    return out


def transfer_report(result: TransferStudyResult, out: Path) -> Path:
    """figures/quadrants.png, table.md and report.html in `out`."""
    out = Path(out)
    fig = plot_quadrants(result)
    png = fig_to_png(fig)
    save_figure(fig, out / "figures" / "quadrants.png")
    (out / "table.md").write_text(markdown_table(result))
    cfg = result.config
    headers, body = summary_table(result)
    if cfg.get("backbone"):
        made = f"Backbone: {result.source}, given (not trained by the study)."
    else:
        made = (
            f"Backbone: {cfg['backbone_model']} trained {cfg['backbone_epochs']} epoch(s) on "
            f"{result.source} (test accuracy {result.backbone_accuracy:.1%}), saved as the "
            f"run {result.backbone}."
        )
    sizes = ""
    if cfg.get("image_size") or cfg.get("train_size"):
        own = cfg.get("image_size") or "the backbone's own"
        trained = cfg.get("train_size") or cfg.get("image_size") or "the same"
        sizes = f" Image side: {own} px for head and early, {trained} px for finetune and retrain."
    text = (
        f"{made}{sizes} Small targets: {cfg['small']} images per class "
        f"({cfg['small_epochs']} epochs, batch {cfg['small_batch_size']}); large: "
        f"{cfg['large'] or 'all'} ({cfg['epochs']} epochs, batch {cfg['batch_size']}). "
        f"Each strategy ran {cfg['seeds']} time(s) (seeds), lr {cfg['lr']:g}; accuracy on "
        "the target's test split, time = training only. '*': the guide's choice from the "
        "measured size and similarity (PAD: proxy A-distance, gap: feature gap)."
    )
    notes = disagreements(result) or ["The guide's choice was the measured best everywhere."]
    sections = [
        Section("Four quadrants", text, tables=[Table(headers, body, "test accuracy")],
                images=[Image("accuracy per strategy and quadrant", png)]),
        Section("Where the guide and the measurement differ", "\n\n".join(notes)),
    ]  # fmt: skip
    head, rows = pick_rows(result)
    if rows:
        (out / "picks.md").write_text(pick_table(result))
        sections.append(Section(
            "The pilot against the rule",
            f"In every quadrant and seed the pilot trained each strategy for "
            f"{cfg['pilot_epochs']} epoch(s) on {cfg['pilot_fraction']:.0%} of each class's "
            "training images and picked the best on the rest; its pick is then scored by the "
            "full run of that strategy with the same seed.",
            tables=[Table(head, rows, "picks")],
        ))  # fmt: skip
    return write_report(out / "report.html", "Transfer learning: the four cases", sections,
                        subtitle=result.source)  # fmt: skip
