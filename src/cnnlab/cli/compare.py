"""cnnlab compare mlp-vs-cnn, and cnnlab demo (the same comparison, sized for 2 minutes)."""

from __future__ import annotations

import time
from typing import Any

from jsonargparse import ArgumentParser

from cnnlab.cli.common import config_from, console, parser_for, table
from cnnlab.core.io import free_folder
from cnnlab.studies.configs import KeywordsCompareConfig, MLPvsCNNConfig, TextCompareConfig


def register(sub: Any) -> dict:
    compare = ArgumentParser(
        description="compare models on the same data and budget", exit_on_error=False
    )
    sub.add_subcommand("compare", compare, help="compare models (mlp-vs-cnn, text, keywords)")
    csub = compare.add_subcommands(dest="study", required=True)
    csub.add_subcommand(
        "mlp-vs-cnn",
        parser_for(
            MLPvsCNNConfig,
            "MLP vs CNN: parameters, accuracy, and accuracy on shifted and rotated test images",
        ),
        help="MLP vs CNN on the same data and time budget",
    )
    csub.add_subcommand(
        "text",
        parser_for(
            TextCompareConfig,
            "text-cnn vs bow-mlp vs TF-IDF + logistic regression: the same splits, several seeds",
        ),  # fmt: skip
        help="text-cnn vs bow-mlp vs the TF-IDF baseline, over seeds (docs/text.md)",
    )
    csub.add_subcommand(
        "keywords",
        parser_for(
            KeywordsCompareConfig,
            "keyword models side by side: accuracy on both test "
            "sets, parameters, MACs, latency, training time",
        ),  # fmt: skip
        help="kws-cnn vs kws-ds-cnn vs kws-tc vs kws-mlp (docs/keywords.md)",
    )
    demo = parser_for(help="the main job in under 2 minutes: MLP vs CNN on Fashion-MNIST")
    demo.add_argument("--budget", type=float, default=35.0, help="training seconds per model")
    demo.add_argument(
        "--out", type=str, default="runs/demo", help="folder for the two runs and the report"
    )
    demo.add_argument("--data", type=str, default="fashion-mnist", help="dataset name or folder")
    sub.add_subcommand("demo", demo, help="MLP vs CNN on Fashion-MNIST with a report (~2 min)")
    return {"compare": run_compare, "demo": run_demo}


def run_compare(ns: Any) -> int:
    if ns.study == "mlp-vs-cnn":
        return mlp_vs_cnn(config_from(ns["mlp-vs-cnn"], MLPvsCNNConfig))
    if ns.study == "text":
        return compare_text(config_from(ns["text"], TextCompareConfig))
    if ns.study == "keywords":
        return compare_keywords(config_from(ns["keywords"], KeywordsCompareConfig))
    raise ValueError(f"unknown comparison {ns.study!r}")


def run_demo(ns: Any) -> int:
    console.rule("cnnlab demo: MLP vs CNN")
    return mlp_vs_cnn(MLPvsCNNConfig(data=ns.data, budget=ns.budget, out=ns.out))


def mlp_vs_cnn(cfg: MLPvsCNNConfig) -> int:
    from cnnlab.data import load_dataset
    from cnnlab.studies import mlp_vs_cnn as study
    from cnnlab.viz.report import Table
    from cnnlab.viz.study_reports import mlp_vs_cnn_report

    t0 = time.perf_counter()
    out = free_folder(cfg.out)
    cfg = MLPvsCNNConfig(**{**cfg.__dict__, "out": str(out)})
    data = load_dataset(cfg.data, train_limit=cfg.train_limit, seed=cfg.seed)
    console.print(f"data: {data.source}", highlight=False)
    result = study.run(cfg, data=data, console=console)
    headers, rows = result.columns()
    console.print(table(headers, rows, "MLP vs CNN: test accuracy (same data, same budget)"))
    examples = study.examples(data, cfg).numpy()
    path = mlp_vs_cnn_report(result, examples, out)
    (out / "result.json").write_text(result.to_json())
    (out / "table.md").write_text(Table(headers, rows).markdown())
    console.print(f"report: {path.resolve()}   ({time.perf_counter() - t0:.0f} s)")
    return 0


def compare_text(cfg: TextCompareConfig) -> int:
    from cnnlab.studies import text_compare as study

    return _model_study(study, cfg, "text models on the same splits (test set)",
                        lambda r: f"data: {r.source}; tokenizer {r.tokenizer}")  # fmt: skip


def compare_keywords(cfg: KeywordsCompareConfig) -> int:
    from cnnlab.studies import keywords_compare as study

    return _model_study(study, cfg, "keyword models on the same clips (test sets)",
                        lambda r: f"data: {r.source}")  # fmt: skip


def _model_study(study: Any, cfg: Any, title: str, data_line: Any) -> int:
    """Run a models-side-by-side study (`study.run`, `study.write`) into a fresh cfg.out:
    the table on the terminal, table.md, result.json and its figure."""
    t0 = time.perf_counter()
    out = free_folder(cfg.out)
    cfg = type(cfg)(**{**cfg.__dict__, "out": str(out)})
    result = study.run(cfg, console=console)
    headers, rows = result.table()
    console.print(data_line(result), highlight=False)
    console.print(table(headers, rows, title))
    written, fig = study.write(result, out)
    console.print(f"table: {written}   figure: {fig}   ({time.perf_counter() - t0:.0f} s)",
                  highlight=False)  # fmt: skip
    return 0
