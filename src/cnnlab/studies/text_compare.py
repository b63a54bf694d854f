"""`cnnlab compare text`: text-cnn against the bag-of-words MLP and the TF-IDF + logistic
regression baseline, each seed on its own split that every model of the seed shares; macro-F1
and accuracy as mean +- standard deviation over the seeds, parameters, training seconds."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from rich.console import Console

from cnnlab.data.text import load_text_data
from cnnlab.studies.configs import TextCompareConfig, split_list
from cnnlab.tasks.text.run import text

BASELINE = "TF-IDF + logistic regression"


@dataclass
class TextCompareResult:
    """Per model (and the baseline): macro-F1, accuracy and seconds per seed; parameters."""

    config: dict[str, Any]
    source: str = ""
    tokenizer: str = ""
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, macro_f1: float, accuracy: float, seconds: float,
            size: int | str) -> None:  # fmt: skip
        row = self.rows.setdefault(name, {"macro_f1": [], "accuracy": [], "seconds": [],
                                          "size": size})  # fmt: skip
        row["macro_f1"].append(macro_f1)
        row["accuracy"].append(accuracy)
        row["seconds"].append(seconds)

    def names(self) -> list[str]:
        """The models in the order given, the baseline last."""
        return sorted(self.rows, key=lambda n: n == BASELINE)

    def table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["model", "macro-F1", "accuracy", "per seed macro-F1", "parameters",
                   "train time (median)"]  # fmt: skip
        rows = []
        for name in self.names():
            r = self.rows[name]
            size = f"{r['size']:,}" if isinstance(r["size"], int) else r["size"]
            rows.append([name, _spread(r["macro_f1"], 3), _spread(r["accuracy"], 4, pct=True),
                         " / ".join(f"{v:.3f}" for v in r["macro_f1"]), size,
                         f"{statistics.median(r['seconds']):.1f} s"])  # fmt: skip
        return headers, rows

    def to_json(self) -> str:
        rows = {n: self.rows[n] for n in self.names()}
        return json.dumps({**asdict(self), "rows": rows}, indent=2)


def _spread(values: list[float], digits: int, pct: bool = False) -> str:
    k = 100.0 if pct else 1.0
    d = digits - 2 if pct else digits
    mean = f"{k * statistics.fmean(values):.{d}f}"
    sd = f" ± {k * statistics.stdev(values):.{d}f}" if len(values) > 1 else ""
    return mean + sd + ("%" if pct else "")


def run(cfg: TextCompareConfig, console: Console | None = None) -> TextCompareResult:
    """Train every model on every seed's split; the baseline once per split."""
    console = console or Console()
    quiet = Console(quiet=True)
    result = TextCompareResult(asdict(cfg))
    models = split_list(cfg.models, "models")
    kinds = split_list(cfg.tokenizer, "tokenizer")
    used: list[str] = []  # the tokenizers the runs resolved to (auto: glove or word)
    options: dict[str, Any] = {"progress": False}
    if cfg.epochs is not None:
        options["epochs"] = cfg.epochs
    if cfg.max_time is not None:
        options["max_time"] = cfg.max_time
    for seed in range(cfg.seeds):
        data = load_text_data(cfg.data, train_limit=cfg.train_limit, seed=seed)
        result.source = data.source
        for i, (model, kind) in enumerate((m, k) for m in models for k in kinds):
            name = model if len(kinds) == 1 else f"{model} ({kind})"
            run = f"{model}-seed{seed}" if len(kinds) == 1 else f"{model}-{kind}-seed{seed}"
            r = text(data=data, model=model, tokenizer=kind, seed=seed, baseline=(i == 0),
                     runs_dir=cfg.out, name=run, console=quiet, **options)  # fmt: skip
            res = r.extra["results"]
            if res["tokenizer"] not in used:
                used.append(res["tokenizer"])
                result.tokenizer = ", ".join(used)
            result.add(name, res["test"]["macro_f1"], res["test"]["accuracy"],
                       res["train_time_s"], res["parameters"])  # fmt: skip
            console.print(f"seed {seed} {name}: macro-F1 {res['test']['macro_f1']:.3f}, "
                          f"accuracy {res['test']['accuracy']:.2%}, "
                          f"{res['train_time_s']:.0f} s", highlight=False)  # fmt: skip
            if i == 0 and "baseline" in res:
                b = res["baseline"]
                result.add(BASELINE, b["macro_f1"], b["accuracy"], b["seconds"],
                           f"{b['features']:,} features")  # fmt: skip
                console.print(f"seed {seed} baseline: macro-F1 {b['macro_f1']:.3f}",
                              highlight=False)  # fmt: skip
    return result


def figure(result: TextCompareResult) -> Figure:
    """Macro-F1 per model: one dot per seed, a bar at the mean."""
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.add_subplot()
    names = result.names()
    for x, name in enumerate(names):
        values = result.rows[name]["macro_f1"]
        ax.bar(x, statistics.fmean(values), width=0.6, color="#9ecae1" if name != BASELINE
               else "#d9d9d9", edgecolor="0.3")  # fmt: skip
        ax.plot([x] * len(values), values, "o", color="0.15", ms=4)
    ax.set_xticks(range(len(names)), [n.replace(" + ", "\n+ ") for n in names])
    low = min(min(r["macro_f1"]) for r in result.rows.values())
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_ylabel("test macro-F1")
    seeds = len(next(iter(result.rows.values()))["macro_f1"])
    ax.set_title(f"{result.config['data']}: macro-F1 over {seeds} seeds (dots) and their mean",
                 fontsize=10)  # fmt: skip
    ax.grid(axis="y", alpha=0.3)
    return fig


def write(result: TextCompareResult, out: Path) -> tuple[Path, Path]:
    """out/result.json, out/table.md and out/figures/text-compare.png."""
    from cnnlab.core.io import atomic_write
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.report import Table

    headers, rows = result.table()
    atomic_write(out / "result.json", result.to_json())
    table = out / "table.md"
    atomic_write(table, Table(headers, rows).markdown())
    return table, save_figure(figure(result), out / "figures" / "text-compare.png")
