"""After a keyword run: both test sets (held-out espeak-ng voices, flite voices) with noise
at random SNRs, clean and at fixed SNRs; accuracy per keyword and the confusion matrix;
results.json, a noise-robustness figure and report.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from cnnlab.core.errors import RunError
from cnnlab.core.io import atomic_write

SNRS = (20.0, 10.0, 5.0, 0.0)  # the robustness curve's fixed SNRs, dB
SETS = {"test": "held-out espeak-ng voices", "flite": "flite voices (another synthesizer)"}


def predict_classes(model: torch.nn.Module, feats: torch.Tensor, chunk: int = 256) -> np.ndarray:
    model.eval()
    with torch.inference_mode():
        out = [model(feats[i : i + chunk]).float().argmax(1) for i in range(0, len(feats), chunk)]
    return torch.cat(out).numpy()


def write_keyword_results(folder: Path, model: torch.nn.Module, task: Any, fit: Any) -> dict:
    """Test the best model on both test sets; write results.json, the figure, report.html."""
    from sklearn.metrics import confusion_matrix

    from cnnlab.models import count_parameters

    d, cfg = task.data, task.cfg
    model = model.float()
    sets: dict[str, dict[str, float]] = {}
    per_word, confusion = {}, {}
    for k, split in enumerate(s for s in SETS if s in d.y):  # a folder of WAVs has no flite
        y = d.y[split]
        pred = predict_classes(model, task.test_features(split, seed=cfg.seed + 10 + k))
        row = {"noisy": float((pred == y).mean())}
        per_word[split] = {c: float((pred[y == i] == i).mean()) for i, c in enumerate(d.classes)}
        confusion[split] = confusion_matrix(y, pred, labels=range(d.num_classes)).tolist()
        for snr in (float("inf"), *SNRS):
            p = predict_classes(model, task.test_features(split, cfg.seed + 20 + k, snr))
            row["clean" if snr == float("inf") else f"{snr:g} dB"] = float((p == y).mean())
        sets[split] = row
    results = {
        "task": "keywords",
        "test": {"accuracy": sets["test"]["noisy"]}
        | ({"flite_accuracy": sets["flite"]["noisy"]} if "flite" in sets else {}),
        "sets": sets,
        "per_word": per_word,
        "confusion": confusion,
        "classes": list(d.classes),
        "parameters": count_parameters(model),
        "train_time_s": round(fit.train_time_s, 2),
        "data_source": d.source,
        "clips": {s: len(v) for s, v in d.y.items()},
        "snr_train": list(cfg.snr),
    }
    figures = folder / "figures"
    from cnnlab.viz.figures import save_figure

    save_figure(robustness_figure(results), figures / "robustness.png")
    from cnnlab.tasks.keywords.saved import write_examples

    write_examples(folder, task)
    atomic_write(folder / "results.json", json.dumps(results, indent=2))
    keywords_report(folder)
    return results


def robustness_figure(results: dict[str, Any]) -> Figure:
    """Accuracy against SNR for both test sets (clean at the right)."""
    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.add_subplot()
    labels = [f"{s:g}" for s in sorted(SNRS)] + ["clean"]
    for split, row in results["sets"].items():
        name = SETS[split]
        values = [row[f"{s:g} dB"] for s in sorted(SNRS)] + [row["clean"]]
        ax.plot(range(len(labels)), [100 * v for v in values], "o-", label=name)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("signal-to-noise ratio (dB)")
    ax.set_ylabel("test accuracy (%)")
    ax.axhline(100 / len(results["classes"]), color="0.6", ls=":", label="chance")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("noise robustness (white, pink and babble noise, equally often)", fontsize=10)
    return fig


HEADERS = ["test set", "noisy (random SNR)", "clean", *[f"{s:g} dB" for s in SNRS]]


def _rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for split, r in results["sets"].items():
        name = SETS[split]
        rows.append([name, *[f"{r[k]:.2%}" for k in ("noisy", "clean",
                                                      *[f"{s:g} dB" for s in SNRS])]])  # fmt: skip
    return rows


def summary_lines(fit: Any) -> list[Any]:
    r = fit.extra.get("results")
    if not r:
        return []
    return [("test accuracy", HEADERS, _rows(r)), f"report: {fit.folder / 'report.html'}"]


def keywords_report(folder: Path) -> Path:
    """folder/report.html from results.json."""
    from cnnlab.engine.runs import read_results
    from cnnlab.viz.report import Image, Section, Table, write_report

    r = read_results(folder)
    path = Path(folder) / "results.json"
    try:
        classes = r["classes"]
        present = {s: SETS[s] for s in r["sets"]}
        words = [[c, *[f"{r['per_word'][s][c]:.1%}" for s in present]] for c in classes]
        confusion = [[classes[i], *map(str, row)] for i, row in enumerate(r["confusion"]["test"])]
        text = (
            f"{r['data_source']}. {r['clips']['train']} training clips; noise when "
            f"training at {r['snr_train'][0]:g} to {r['snr_train'][1]:g} dB; "
            f"{r['parameters']:,} parameters; {r['train_time_s']:.0f} s of training."
        )
        rows = _rows(r)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise RunError(f"{path} is damaged ({exc}); train the run again") from None
    curve = Path(folder) / "figures" / "robustness.png"
    images = [Image("accuracy against SNR", curve.read_bytes())] if curve.is_file() else []
    sections = [
        Section("Test", text, tables=[Table(HEADERS, rows)], images=images),
        Section("Per keyword", tables=[Table(["class", *present.values()], words)]),
        Section("Confusion (held-out espeak-ng voices, noisy)",
                tables=[Table(["true \\ predicted", *classes], confusion)]),
    ]  # fmt: skip
    return write_report(Path(folder) / "report.html", "Keyword spotting", sections)
