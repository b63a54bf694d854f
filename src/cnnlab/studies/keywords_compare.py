"""`cnnlab compare keywords`: the keyword models trained on the same clips with the same
noise, side by side: accuracy on held-out espeak-ng voices and on flite voices (noisy at the
training SNRs, clean, at 0 dB), parameters, multiply-accumulates per clip, one clip's latency
(features + forward, batch of one) and training time."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from rich.console import Console

from cnnlab.data.keywords import load_keywords
from cnnlab.studies.configs import KeywordsCompareConfig, split_list
from cnnlab.tasks.keywords.run import keywords

COLUMNS = (("test", "noisy"), ("test", "clean"), ("test", "0 dB"), ("flite", "noisy"),
           ("flite", "clean"))  # fmt: skip


@dataclass
class KeywordsCompareResult:
    config: dict[str, Any]
    source: str = ""
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def table(self) -> tuple[list[str], list[list[str]]]:
        sets = {"test": "espeak", "flite": "flite"}
        cols = [(s, k) for s, k in COLUMNS if any(s in r["sets"] for r in self.rows.values())]
        headers = ["model", *[f"{sets[s]} {k}" for s, k in cols], "parameters", "MACs",
                   "latency (ms)", "train time"]  # fmt: skip
        rows = []
        for name, r in self.rows.items():
            rows.append([name, *[f"{r['sets'][s][k]:.1%}" for s, k in cols],
                         f"{r['parameters']:,}", f"{r['macs'] / 1e6:.1f} M",
                         f"{r['latency_ms']:.2f}", f"{r['seconds']:.0f} s"])  # fmt: skip
        return headers, rows


def latency_ms(run: Path, calls: int = 100) -> float:
    """One clip's median latency after loading: features and forward pass, batch of one."""
    from cnnlab.tasks.keywords.saved import KeywordModel

    km = KeywordModel.load(run)
    clip = torch.zeros(1, 16000).normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    times = []
    for i in range(calls + 10):
        t0 = time.perf_counter()
        km.probabilities(clip)
        if i >= 10:
            times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def run(cfg: KeywordsCompareConfig, console: Console | None = None) -> KeywordsCompareResult:
    """Train every model on the same data; measure each."""
    from cnnlab.engine.runs import load_model
    from cnnlab.mechanics.arithmetic import summarize

    console = console or Console()
    result = KeywordsCompareResult(asdict(cfg))
    data = load_keywords(cfg.data, cfg.train_limit, cfg.seed)
    result.source = data.source
    options: dict[str, Any] = {"progress": False, "seed": cfg.seed}
    if cfg.epochs is not None:
        options["epochs"] = cfg.epochs
    if cfg.max_time is not None:
        options["max_time"] = cfg.max_time
    for model in split_list(cfg.models, "models"):
        r = keywords(data=data, model=model, runs_dir=cfg.out, name=model,
                     console=Console(quiet=True), **options)  # fmt: skip
        res = r.extra["results"]
        net, meta = load_model(r.folder)
        macs = summarize(net, (1, *meta.input_size)).total_macs
        row = {"sets": res["sets"], "parameters": res["parameters"], "macs": macs,
               "latency_ms": latency_ms(r.folder), "seconds": res["train_time_s"]}  # fmt: skip
        result.rows[model] = row
        flite = f", flite {res['sets']['flite']['noisy']:.1%}" if "flite" in res["sets"] else ""
        console.print(f"{model}: held-out espeak {res['sets']['test']['noisy']:.1%}{flite}, "
                      f"{row['seconds']:.0f} s", highlight=False)  # fmt: skip
    return result


def figure(result: KeywordsCompareResult) -> Figure:
    """Accuracy (noisy) on each test set against one clip's latency, one point per model."""
    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.add_subplot()
    for split, marker, label in (("test", "o", "held-out espeak-ng voices"),
                                 ("flite", "s", "flite voices")):  # fmt: skip
        pts = [(r["latency_ms"], 100 * r["sets"][split]["noisy"], n)
               for n, r in result.rows.items() if split in r["sets"]]  # fmt: skip
        if not pts:
            continue
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, label=label)
        for x, y, n in pts:
            ax.annotate(n, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=8)
    ax.set_xlabel("one clip's latency (ms, features + forward)")
    ax.set_ylabel("test accuracy, noisy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("keyword models: accuracy against latency", fontsize=10)
    return fig


def write(result: KeywordsCompareResult, out: Path) -> tuple[Path, Path]:
    """out/result.json, out/table.md and out/figures/keywords-compare.png."""
    from cnnlab.core.io import atomic_write
    from cnnlab.viz.figures import save_figure
    from cnnlab.viz.report import Table

    headers, rows = result.table()
    atomic_write(out / "result.json", json.dumps(asdict(result), indent=2))
    table = out / "table.md"
    atomic_write(table, Table(headers, rows).markdown())
    return table, save_figure(figure(result), out / "figures" / "keywords-compare.png")
