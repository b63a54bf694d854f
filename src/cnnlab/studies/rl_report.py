"""Table, curves and report of the reinforcement-learning study; they only read its result."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from cnnlab.studies.rl import RLStudyResult, mean_std
from cnnlab.studies.rl_configs import VARIANT_HELP
from cnnlab.viz.figures import fig_to_png, save_figure
from cnnlab.viz.report import Image, Section, Table, write_report

COLORS = {"dqn": "tab:blue", "no-replay": "tab:orange", "no-target": "tab:green",
          "q-mlp": "tab:red", "no-double": "tab:purple"}  # fmt: skip
HEADERS = ["game", "variant", "kept agent (mean ± std)", "each seed", "best eval", "last eval",
           "random", "steps/s"]  # fmt: skip


def _pm(values: list[float]) -> str:
    m, s = mean_std(values)
    return "—" if math.isnan(m) else f"{m:.2f} ± {s:.2f}"


def summary_table(result: RLStudyResult) -> tuple[list[str], list[list[str]]]:
    """One row per game and variant: the kept agents' test return over seeds."""
    rows = []  # the runs come sorted by the study's game and variant order
    for game in dict.fromkeys(r["game"] for r in result.runs):
        for variant in dict.fromkeys(r["variant"] for r in result.runs):
            rs = result.cell(game, variant)
            if not rs:
                continue
            rows.append([game.removeprefix("minatar-"), variant,
                         _pm([r["test"] for r in rs]),
                         " / ".join(f"{r['test']:.1f}" for r in rs),
                         _pm([r["best_eval"] for r in rs]), _pm([r["last_eval"] for r in rs]),
                         f"{np.mean([r['random'] for r in rs]):.2f}",
                         f"{np.median([r['steps_per_s'] for r in rs]):,.0f}"])  # fmt: skip
    return HEADERS, rows


LEGEND = ("kept agent: the best evaluated model of each run played for test_episodes episodes "
          "at epsilon 0.05, mean ± std over the seeds; each seed: those means, seed 0 first; "
          "best / last eval: the highest and the final evaluation of each run (eval_episodes "
          "each); random: random play's mean return; steps/s: environment steps per second of "
          "training, median over the seeds")  # fmt: skip


def plot_curves(result: RLStudyResult) -> Figure:
    """One panel per game: evaluation return against environment steps, each variant's mean
    over seeds (line) and the seeds' range (band); random play dashed."""
    games = list(dict.fromkeys(r["game"] for r in result.runs))
    fig = Figure(figsize=(5.2 * max(1, len(games)), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(games))))
    for ax, game in zip(axes, games, strict=False):
        variants = list(dict.fromkeys(r["variant"] for r in result.runs if r["game"] == game))
        for variant in variants:
            rs = result.cell(game, variant)
            n = min(len(r["evaluations"]) for r in rs)
            if n == 0:
                continue
            x = np.array([e[0] for e in rs[0]["evaluations"][:n]])
            y = np.array([[e[2] for e in r["evaluations"][:n]] for r in rs])
            c = COLORS.get(variant, None)
            ax.plot(x, y.mean(0), "o-", ms=3, color=c, label=f"{variant} ({len(rs)} seeds)")
            ax.fill_between(x, y.min(0), y.max(0), color=c, alpha=0.15)
        random = np.mean([r["random"] for r in result.runs if r["game"] == game])
        ax.axhline(random, color="0.4", ls="--", lw=1, label=f"random play ({random:.2f})")
        ax.set_title(game)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("evaluation return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def rl_study_report(result: RLStudyResult, out: str | Path) -> Path:
    """out/figures/curves.png, out/table.md and out/report.html."""
    out = Path(out)
    fig = plot_curves(result)
    save_figure(fig, out / "figures" / "curves.png")
    headers, rows = summary_table(result)
    table = Table(headers, rows)
    (out / "table.md").write_text(table.markdown() + "\n")
    cfg = result.config
    variants = [v.strip() for v in cfg["variants"].split(",") if v.strip()]
    what = "; ".join(f"{v}: {VARIANT_HELP[v]}" for v in dict.fromkeys(variants))
    text = (f"Every run: {cfg['steps']:,} environment steps, {cfg['num_envs']} environments, "
            f"{cfg['n_step']}-step returns, lr {cfg['lr']:g}, batch {cfg['batch_size']}, "
            f"epsilon 1.0 to {cfg['epsilon_end']} over {cfg['epsilon_steps']:,} steps, "
            f"{cfg['seeds']} seeds. The variants: {what}. {LEGEND}.")  # fmt: skip
    image = Image("evaluation return against environment steps", fig_to_png(fig))
    sections = [Section("Return of the kept agents", text, tables=[table], images=[image])]
    return write_report(out / "report.html", "Reinforcement learning study", sections)
