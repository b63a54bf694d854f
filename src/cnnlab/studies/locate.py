"""The locate study (`cnnlab study locate`): the CoordConv question answered by measurement.
Models x seeds, each a locate run (OUT/runs/MODEL-sSEED) with the same training time; the
table gives the test split's position errors (median, 95th percentile, mean; mean ± std over
seeds and each seed's median), the yaw error, the epochs the budget allowed; the figure, the
share of test images within each error, per model (all seeds' test images together)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from rich.console import Console

from cnnlab.studies.locate_configs import LocateStudyConfig

QUIET = Console(quiet=True)
HEADERS = ["model", "parameters", "median (cm)", "95th pct (cm)", "mean (cm)", "each seed's median",
           "yaw median (deg)", "epochs", "img/s"]  # fmt: skip
LEGEND = ("position errors on the test split (objects of meshes never trained on), mean ± std "
          "over the seeds; each seed's median: seed 0 first; epochs: what the equal time budget "
          "allowed; img/s: training images per second")  # fmt: skip


@dataclass
class LocateStudyResult:
    config: dict[str, Any]
    data_source: str
    runs: list[dict[str, Any]] = field(default_factory=list)  # one per model and seed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def cell(self, model: str) -> list[dict[str, Any]]:
        return sorted((r for r in self.runs if r["model"] == model), key=lambda r: r["seed"])


def _row(folder: Path, model: str, seed: int) -> dict[str, Any]:
    res = json.loads((folder / "results.json").read_text())
    rows = [line.split(",") for line in (folder / "metrics.csv").read_text().splitlines()]
    col = rows[0].index("img_per_s") if "img_per_s" in rows[0] else None
    rate = [float(r[col]) for r in rows[1:]] if col is not None else []
    pred = np.load(folder / "test_predictions.npz")
    err = np.linalg.norm(pred["pred"][:, :2] - pred["true"][:, :2], axis=1)
    return {"model": model, "seed": seed, "folder": str(folder), **res["test"],
            "parameters": res["parameters"], "epochs": res["epochs_run"],
            "train_time_s": res["train_time_s"], "img_per_s": float(np.median(rate)) if rate
            else None, "errors": [round(float(e), 3) for e in err]}  # fmt: skip


def run(cfg: LocateStudyConfig, log: Any = print) -> LocateStudyResult:
    from cnnlab.data.tabletop import load_locate_data
    from cnnlab.tasks.locate.run import locate

    out = Path(cfg.out)
    data = load_locate_data(cfg.data, cfg.size, 0, log)
    log(f"data: {data!r}")
    result = LocateStudyResult(asdict(cfg), data.source)
    todo = [(m, s) for m in cfg.model_list for s in range(cfg.seeds)]
    for i, (model, seed) in enumerate(todo, 1):
        folder = out / "runs" / f"{model}-s{seed}"
        if not (cfg.resume and (folder / "results.json").is_file()):
            if folder.exists():
                import shutil

                shutil.rmtree(folder)  # a stopped run of this study: train it again
            locate(data=data, model=model, seed=seed, max_time=cfg.max_time, epochs=cfg.epochs,
                   n_train=cfg.n_train, runs_dir=str(out / "runs"), name=folder.name,
                   progress=False, console=QUIET)  # fmt: skip
        row = _row(folder, model, seed)
        result.runs.append(row)
        log(f"[{i}/{len(todo)}] {model} seed {seed}: median {row['median_cm']:.2f} cm, 95th "
            f"percentile {row['p95_cm']:.2f} cm, {row['epochs']} epochs in "
            f"{row['train_time_s']:.0f} s")  # fmt: skip
        from cnnlab.core.io import atomic_write

        atomic_write(out / "result.json", json.dumps(result.to_dict(), indent=1))
    return result


def _pm(values: list[float], digits: int = 2) -> str:
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def summary_table(result: LocateStudyResult) -> tuple[list[str], list[list[str]]]:
    rows = []
    for model in dict.fromkeys(r["model"] for r in result.runs):
        rs = result.cell(model)
        yaw = [r["yaw_median_deg"] for r in rs if r.get("yaw_median_deg") is not None]
        rate = [r["img_per_s"] for r in rs if r.get("img_per_s")]
        rows.append([model, f"{rs[0]['parameters']:,}", _pm([r["median_cm"] for r in rs]),
                     _pm([r["p95_cm"] for r in rs]), _pm([r["mean_cm"] for r in rs]),
                     " / ".join(f"{r['median_cm']:.2f}" for r in rs),
                     _pm(yaw, 1) if yaw else "—", f"{np.median([r['epochs'] for r in rs]):.0f}",
                     f"{np.median(rate):,.0f}" if rate else "—"])  # fmt: skip
    floor = result.runs[0]
    rows.append(["the centre (floor)", "0", f"{floor['floor_median_cm']:.2f}",
                 f"{floor['floor_p95_cm']:.2f}", f"{floor['floor_mean_cm']:.2f}", "", "—", "",
                 ""])  # fmt: skip
    return HEADERS, rows


def plot_cdf(result: LocateStudyResult) -> Figure:
    """The share of test images within each error, per model (all seeds together)."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    for model in dict.fromkeys(r["model"] for r in result.runs):
        err = np.sort(np.concatenate([r["errors"] for r in result.cell(model)]))
        ax.plot(err, np.arange(1, len(err) + 1) / len(err) * 100, label=model)
    ax.axvline(1.0, color="0.5", ls="--", lw=1)
    ax.axvline(3.0, color="0.5", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("position error (cm, log scale)")
    ax.set_ylabel("test images within (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title("the goal: median <= 1 cm (dashed), 95th percentile <= 3 cm (dotted)",
                 fontsize=9)  # fmt: skip
    return fig


def locate_study_report(result: LocateStudyResult, out: str | Path) -> Path:
    """out/figures/cdf.png, out/table.md and out/report.html."""
    from cnnlab.viz.figures import fig_to_png, save_figure
    from cnnlab.viz.report import Image, Section, Table, write_report

    out = Path(out)
    fig = plot_cdf(result)
    save_figure(fig, out / "figures" / "cdf.png")
    headers, rows = summary_table(result)
    table = Table(headers, rows)
    (out / "table.md").write_text(table.markdown() + "\n")
    cfg = result.config
    text = (f"Every run: {cfg['max_time']:g} s of training on {cfg['data']}, {cfg['seeds']} "
            f"seeds. {result.data_source}. {LEGEND}.")  # fmt: skip
    image = Image("share of test images within each error", fig_to_png(fig))
    sections = [Section("Position errors", text, tables=[table], images=[image])]
    return write_report(out / "report.html", "Locate study: CNN, CoordConv, heat map, MLP",
                        sections)  # fmt: skip
