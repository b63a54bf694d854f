"""cnnlab study ...: the lecture's experiments, each writing a table, figures and a report."""

from __future__ import annotations

import json
import time
from typing import Any

from jsonargparse import ArgumentParser

from cnnlab.cli.common import config_from, console, parser_for, table
from cnnlab.core.io import free_folder
from cnnlab.studies.ae_checkerboard import CheckerboardStudyConfig
from cnnlab.studies.ae_denoising import DenoisingStudyConfig
from cnnlab.studies.ae_features import FeaturesStudyConfig
from cnnlab.studies.autoencoder import CompressionStudyConfig
from cnnlab.studies.init import InitStudyConfig
from cnnlab.studies.transfer import TransferStudyConfig

AE_STUDIES = {
    "compression": (CompressionStudyConfig, "quality (PSNR, SSIM) against bytes, with JPEG"),
    "denoising": (DenoisingStudyConfig, "denoising autoencoder against blur and median"),
    "features": (FeaturesStudyConfig, "linear classifier on encoder features vs raw pixels"),
    "checkerboard": (CheckerboardStudyConfig, "transposed conv vs upsample + conv decoders"),
}


def register(sub: Any) -> dict:
    study = ArgumentParser(description="the lecture's experiments, measured", exit_on_error=False)
    sub.add_subcommand("study", study, help="run a study (init, transfer, autoencoder)")
    ssub = study.add_subcommands(dest="study", required=True)
    ssub.add_subcommand(
        "init",
        parser_for(InitStudyConfig, "weight initialization: one run per scheme and seed"),
        help="weight initialization schemes compared",
    )
    ssub.add_subcommand(
        "transfer",
        parser_for(TransferStudyConfig, "transfer learning: every strategy in the guide's 4 cases"),
        help="the four transfer cases x the four strategies, measured",
    )
    ae = ArgumentParser(description="autoencoder studies", exit_on_error=False)
    ssub.add_subcommand("autoencoder", ae, help="compression, denoising, features, checkerboard")
    asub = ae.add_subcommands(dest="which", required=True)
    for name, (cls, text) in AE_STUDIES.items():
        asub.add_subcommand(name, parser_for(cls, text), help=text)
    return {"study": run_study}


def run_study(ns: Any) -> int:
    if ns.study == "init":
        return init_study(config_from(ns["init"], InitStudyConfig))
    if ns.study == "transfer":
        return transfer_study(config_from(ns["transfer"], TransferStudyConfig))
    if ns.study == "autoencoder":
        which = ns["autoencoder"].which
        cls = AE_STUDIES[which][0]
        return autoencoder_study(which, config_from(ns["autoencoder"][which], cls))
    raise ValueError(f"unknown study {ns.study!r}")


def init_study(cfg: InitStudyConfig) -> int:
    from dataclasses import replace

    from cnnlab.data import load_dataset
    from cnnlab.studies import init as study
    from cnnlab.studies.init_report import init_report, summary_table

    t0 = time.perf_counter()
    cfg = replace(cfg, out=str(free_folder(cfg.out)))
    data = load_dataset(
        cfg.data, val_fraction=cfg.val_fraction, train_limit=cfg.train_limit, seed=0
    )
    console.print(f"data: {data.source}", highlight=False)
    result = study.run(cfg, data=data, log=lambda s: console.print(s, highlight=False))
    headers, body = summary_table(result)
    console.print(table(headers, body, "weight initialization: final validation", text=(1,)))
    path = init_report(result, cfg.out)
    (path.parent / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
    console.print(f"report: {path.resolve()}   ({time.perf_counter() - t0:.0f} s)")
    return 0


def transfer_study(cfg: TransferStudyConfig) -> int:
    from dataclasses import replace

    from cnnlab.studies import transfer as study
    from cnnlab.studies.transfer_report import summary_table, transfer_report

    t0 = time.perf_counter()
    cfg = replace(cfg, out=str(free_folder(cfg.out)))
    result = study.run(cfg, log=lambda s: console.print(s, highlight=False))
    headers, body = summary_table(result)
    title = "transfer: test accuracy (* the guide's choice)"
    console.print(table(headers, body, title, text=(len(headers) - 2, len(headers) - 1)))
    path = transfer_report(result, cfg.out)
    (path.parent / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
    console.print(f"table: {path.parent / 'table.md'}", highlight=False)
    console.print(f"report: {path.resolve()}   ({time.perf_counter() - t0:.0f} s)")
    return 0


def autoencoder_study(which: str, cfg: Any) -> int:
    """cnnlab study autoencoder compression | denoising | features | checkerboard."""
    from dataclasses import replace

    from cnnlab.studies import ae_checkerboard, ae_denoising, ae_features
    from cnnlab.studies import ae_reports as viz
    from cnnlab.studies import autoencoder as study

    runner, tabler, reporter = {
        "compression": (study.run_compression, viz.compression_table, viz.compression_report),
        "denoising": (ae_denoising.run_denoising, viz.denoising_table, viz.denoising_report),
        "features": (ae_features.run_features, viz.features_table, viz.features_report),
        "checkerboard": (
            ae_checkerboard.run_checkerboard,
            viz.checkerboard_table,
            viz.checkerboard_report,
        ),
    }[which]
    t0 = time.perf_counter()
    cfg = replace(cfg, out=str(free_folder(cfg.out)))
    result = runner(cfg, log=lambda s: console.print(s, highlight=False))
    headers, body = tabler(result)
    console.print(table(headers, body, f"autoencoder study: {which} (test set)"))
    path = reporter(result, cfg.out)
    (path.parent / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
    console.print(f"table: {path.parent / 'table.md'}", highlight=False)
    console.print(f"report: {path.resolve()}   ({time.perf_counter() - t0:.0f} s)")
    return 0
