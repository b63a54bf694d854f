"""The lecture's experiments: each returns a result dataclass; its table and report are drawn
from that result. STUDIES lists them all (explicitly, here); `cnnlab study NAME` is generated
from it (a name with a space, "autoencoder compression", is a nested command).

The entries are lazy, as TASKS's are: a study's config (studies/configs.py, light) and help
are known here, its Study (the run, table and report, and torch) is imported on first use
(`entry.factory`), so `cnnlab study NAME --help` and a bad option answer at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.core.registry import Registry
from cnnlab.studies.ae_configs import (
    CheckerboardStudyConfig,
    CompressionStudyConfig,
    DenoisingStudyConfig,
    FeaturesStudyConfig,
)
from cnnlab.studies.configs import InitStudyConfig, TransferStudyConfig
from cnnlab.studies.locate_configs import LocateStudyConfig
from cnnlab.studies.rl_configs import RLStudyConfig


@dataclass(frozen=True)
class Study:
    """One experiment: run(config, log) -> result; table(result) -> (headers, rows) for the
    terminal; report(result, out) -> report.html; `title` heads the table; `text` are the
    table's text columns (negative: from the end); `legend` explains its columns."""

    run: Callable[[Any, Callable[[str], None]], Any]
    table: Callable[[Any], tuple[list[str], list[list[str]]]]
    report: Callable[[Any, Path], Path]
    title: str
    text: tuple[int, ...] = ()
    legend: str = ""  # what the table's less obvious columns mean, printed under it


def _init() -> Study:
    from cnnlab.studies import init_report
    from cnnlab.studies.init import run_with_data_line

    return Study(
        run=run_with_data_line,
        table=init_report.summary_table,
        report=init_report.init_report,
        title="weight initialization: final validation",
        text=(1,),
        legend="units equal to unit 0: the share of the first layer's units whose output equals "
        "unit 0's on every image of a batch at the start (100 % = the symmetry is never "
        "broken); deepest hidden std at start: the std of the last hidden layer's activations "
        "before training (0 = the signal vanished, huge = it exploded); course: the course "
        "notebook's validation accuracy for the MLP (784-256-128-10, Adam 1e-3, 2 epochs)",
    )


def _transfer() -> Study:
    from cnnlab.studies import transfer_report
    from cnnlab.studies.transfer import run

    return Study(
        run=run,
        table=transfer_report.summary_table,
        report=transfer_report.transfer_report,
        title="transfer: test accuracy (* the guide's choice)",
        text=(-2, -1),
        legend="PAD: proxy A-distance between source and target features (0 = a linear "
        "classifier cannot tell them apart, 2 = it always can); gap: distance between "
        "their mean features over their spread; guide: the strategy the lecture's "
        "four-case guide names; measured best: the strategy with the highest mean accuracy",
    )


def _compression() -> Study:
    from cnnlab.studies import ae_reports
    from cnnlab.studies.autoencoder import run_compression

    return Study(
        run=run_compression,
        table=ae_reports.compression_table,
        report=ae_reports.compression_report,
        title="autoencoder study: compression (test set)",
        legend="code: the latent's shape; bytes/image: the code stored at the chosen bits; "
        "ratio: raw bytes / bytes per image; PSNR in dB and SSIM (1 = identical): higher "
        "is better; JPEG columns: JPEG at the same budget (the bytes it really spent; "
        "over: even its lowest quality needs more)",
    )


def _denoising() -> Study:
    from cnnlab.studies import ae_reports
    from cnnlab.studies.ae_denoising import run_denoising

    return Study(
        run=run_denoising,
        table=ae_reports.denoising_table,
        report=ae_reports.denoising_report,
        title="autoencoder study: denoising (test set)",
        legend="level: sigma of the Gaussian noise or the share of salt-and-pepper pixels (on "
        "[0, 1] images); each cell: PSNR in dB / SSIM of the method's output against the "
        "clean image (higher is better), the filter's setting in brackets",
    )


def _features() -> Study:
    from cnnlab.studies import ae_reports
    from cnnlab.studies.ae_features import run_features

    return Study(
        run=run_features,
        table=ae_reports.features_table,
        report=ae_reports.features_report,
        title="autoencoder study: features (test set)",
        legend="labels/class: labelled training images per class; each column: test accuracy of "
        "a linear classifier on that representation (its size in dims), mean ± std over "
        "the seeds",
    )


def _checkerboard() -> Study:
    from cnnlab.studies import ae_reports
    from cnnlab.studies.ae_checkerboard import run_checkerboard

    return Study(
        run=run_checkerboard,
        table=ae_reports.checkerboard_table,
        report=ae_reports.checkerboard_report,
        title="autoencoder study: checkerboard (test set)",
        legend="period-2 power: the reconstructions' spectral power at a period of 2 pixels "
        "(the checkerboard's frequency) relative to the clean images'; 1 = none added",
    )


def _rl() -> Study:
    from cnnlab.studies import rl_report
    from cnnlab.studies.rl import run

    return Study(
        run=run,
        table=rl_report.summary_table,
        report=rl_report.rl_study_report,
        title="reinforcement learning: return of the kept agents",
        text=(0, 1, 3),
        legend=rl_report.LEGEND,
    )


def _locate() -> Study:
    from cnnlab.studies import locate

    return Study(
        run=locate.run,
        table=locate.summary_table,
        report=locate.locate_study_report,
        title="locating the object: test position errors",
        text=(0, 5),
        legend=locate.LEGEND,
    )


STUDIES = Registry("study")
for _name, _load, _cfg, _help in [
    ("init", _init, InitStudyConfig, "weight initialization schemes compared"),
    ("transfer", _transfer, TransferStudyConfig,
     "the four transfer cases x the four strategies, measured"),
    ("autoencoder compression", _compression, CompressionStudyConfig,
     "quality (PSNR, SSIM) against bytes, with JPEG"),
    ("autoencoder denoising", _denoising, DenoisingStudyConfig,
     "denoising autoencoder against blur and median"),
    ("autoencoder features", _features, FeaturesStudyConfig,
     "linear classifier on encoder features vs raw pixels"),
    ("autoencoder checkerboard", _checkerboard, CheckerboardStudyConfig,
     "transposed conv vs upsample + conv decoders"),
    ("rl", _rl, RLStudyConfig,
     "DQN vs no replay, no target network and an MLP Q-network, games x seeds"),
    ("locate", _locate, LocateStudyConfig,
     "plain CNN vs CoordConv vs heat map vs MLP locating an object, equal time, seeds"),
]:  # fmt: skip
    STUDIES.add_lazy(_name, _load, _cfg, _help)

__all__ = ["STUDIES", "Study"]
