"""After training: the test evaluation, results.json, figures and report.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.core.io import atomic_write
from cnnlab.data import ImageData
from cnnlab.engine import runs
from cnnlab.models import count_parameters
from cnnlab.tasks.classify.evaluation import EvalResult, evaluate, worst_mistakes


def write_results(
    folder: Path,
    model: nn.Module,
    data: ImageData,
    meta: runs.ModelMeta,
    state: dict[str, Any],
    train_time: float,
    tta: bool,
    channels_last: bool,
) -> EvalResult:
    """Test the model; write results.json, model.json's test figures, the figures and report."""
    test = evaluate(
        model,
        data.test_x,
        data.test_y,
        data.classes,
        data.mean,
        data.std,
        tta=tta,
        channels_last=channels_last,
    )
    mistakes = worst_mistakes(test, data.test_y)
    results = {
        "test": test.to_dict(),
        "best_epoch": state.get("best_epoch", state["epoch"]),
        "epochs_run": state["epoch"],
        "train_time_s": round(train_time, 2),
        "parameters": count_parameters(model),
        "data_source": data.source,
        "mistakes": mistakes,
    }
    atomic_write(folder / "results.json", json.dumps(results, indent=2))
    meta.extra = {"test_accuracy": test.accuracy, "best_epoch": results["best_epoch"]}
    atomic_write(
        folder / "model.json",
        json.dumps({"format": runs.FORMAT, "version": 1, **meta.__dict__}, indent=2),
    )
    from cnnlab.tasks.classify.report import run_report
    from cnnlab.viz import figures, inside

    figs = folder / "figures"
    figures.save_figure(figures.plot_curves(state["history"]), figs / "curves.png")
    figures.save_figure(
        figures.plot_confusion(torch.tensor(test.confusion).numpy(), data.classes),
        figs / "confusion.png",
    )
    idx = [m["index"] for m in mistakes]
    figures.save_figure(
        figures.plot_mistakes(
            data.test_x[idx].numpy(),
            [m["true"] for m in mistakes],
            [m["pred"] for m in mistakes],
            [m["confidence"] for m in mistakes],
        ),
        figs / "mistakes.png",
    )
    if len(data.test_y) and data.test_x.shape[1] in (1, 3):
        # the report's "Inside the model" section draws this image's feature maps
        inside.save_example(figs, data.test_x[0].numpy(), data.classes[int(data.test_y[0])])
    run_report(folder)
    return test
