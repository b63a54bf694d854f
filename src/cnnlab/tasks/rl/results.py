"""After a DQN run: the kept (best evaluated) agent played for more evaluation episodes beside
random play (results.json), the training episodes (episodes.csv), the learning curve against
environment steps and against seconds with the random policy's level drawn
(figures/curves.png), and report.html."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnlab.core.errors import RunError
from cnnlab.core.io import atomic_write
from cnnlab.viz.figures import TRAIN_COLOR, VAL_COLOR, save_figure


def smooth(values: list[float], k: int) -> np.ndarray:
    """A running mean over the last k values (fewer at the start). Shapes: (N,) -> (N,)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(0, idx - k)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_learning(episodes: list[tuple[int, float, float]], evals: list[tuple[int, float, float]],
                  random: float, title: str) -> Figure:  # fmt: skip
    """Return against environment steps and against seconds: training episodes (a running
    mean over 50), evaluations (dots), random play (a dashed line)."""
    fig = Figure(figsize=(10, 3.6))
    for ax, col, label in ((fig.add_subplot(1, 2, 1), 0, "environment steps"),
                           (fig.add_subplot(1, 2, 2), 1, "seconds of training")):  # fmt: skip
        if episodes:
            x = [e[col] for e in episodes]
            ax.plot(x, smooth([e[2] for e in episodes], 50), color=TRAIN_COLOR,
                    label="training episodes (mean of 50)")  # fmt: skip
        if evals:
            ax.plot([e[col] for e in evals], [e[2] for e in evals], "o-", color=VAL_COLOR,
                    label="evaluation")  # fmt: skip
        ax.axhline(random, color="0.4", ls="--", lw=1, label=f"random play ({random:.2f})")
        ax.set_xlabel(label)
        ax.set_ylabel("return per episode")
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_rl_results(folder: Path, task: Any, model: Any, fit: Any) -> dict[str, float]:
    """Play the kept agent for test_episodes evaluation episodes; write episodes.csv,
    results.json, figures/curves.png and report.html. Returns the test figures."""
    from cnnlab.models import count_parameters
    from cnnlab.tasks.rl.play import play_agent

    cfg = task.cfg
    returns = play_agent(model, task.eval_env, task.spec, cfg.test_episodes, cfg.eval_epsilon,
                         cfg.seed + 50_000)  # fmt: skip
    random = float(np.mean(task.random))
    test = {"return": float(np.mean(returns)), "return_std": float(np.std(returns)),
            "episodes": len(returns), "random": random}  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["env_step", "seconds", "return"])
    w.writerows([[s, f"{t:.3f}", r] for s, t, r in task.episodes])
    atomic_write(folder / "episodes.csv", buf.getvalue())
    evals = [(int(h["env_steps"]), float(h["time"]), float(h["val/return"]))
             for h in fit.history if "val/return" in h]  # fmt: skip
    results = {
        "env": task.spec.name, "model": cfg.model, "parameters": count_parameters(model),
        "test": test, "returns": [float(r) for r in returns],
        "random_returns": [float(r) for r in task.random], "env_steps": task.env_steps,
        "updates": task.updates, "train_time_s": fit.train_time_s, "evaluations": evals,
        "best_epoch": fit.best_epoch,
    }  # fmt: skip
    atomic_write(folder / "results.json", json.dumps(results, indent=1))
    fig = plot_learning(task.episodes, evals, random, f"{cfg.model} on {task.spec.name}")
    save_figure(fig, folder / "figures" / "curves.png")
    rl_report(folder)
    task.ctx.log(f"evaluation return {test['return']:.2f} +- {test['return_std']:.2f} over "
                 f"{len(returns)} episodes (random play {random:.2f}); report: "
                 f"{folder / 'report.html'}")  # fmt: skip
    return test


def rl_report(folder: Path) -> Path:
    """folder/report.html from results.json."""
    from cnnlab.engine.runs import read_results
    from cnnlab.viz.report import Image, Section, Table, write_report

    r = read_results(folder)
    try:
        t = r["test"]
        rows = [["agent (kept model)", f"{t['return']:.2f}", f"{t['return_std']:.2f}",
                 t["episodes"]],
                ["random play", f"{np.mean(r['random_returns']):.2f}",
                 f"{np.std(r['random_returns']):.2f}", len(r["random_returns"])]]  # fmt: skip
        text = (f"{r['model']} ({r['parameters']:,} parameters) on {r['env']}: "
                f"{r['env_steps']:,} environment steps, {r['updates']:,} learning steps, "
                f"{r['train_time_s']:.0f} s. The kept model is the best evaluated one "
                f"(epoch {r['best_epoch']}).")  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"{folder}/results.json is damaged ({exc}); train the run again") \
            from None  # fmt: skip
    curve = Path(folder) / "figures" / "curves.png"
    images = [Image("return per episode", curve.read_bytes())] if curve.is_file() else []
    table = Table(["policy", "mean return", "std", "episodes"], rows)
    sections = [Section("Evaluation", text, tables=[table], images=images)]
    return write_report(Path(folder) / "report.html", "Reinforcement learning", sections)
