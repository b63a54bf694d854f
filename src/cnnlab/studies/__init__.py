"""The lecture's experiments: each returns a result dataclass; its table and report are drawn
from that result. STUDIES lists them all (explicitly, here); `cnnlab study NAME` is generated
from it (a name with a space, "autoencoder compression", is a nested command)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.core.registry import Registry
from cnnlab.studies import ae_reports, init_report, transfer_report
from cnnlab.studies.ae_checkerboard import CheckerboardStudyConfig, run_checkerboard
from cnnlab.studies.ae_denoising import DenoisingStudyConfig, run_denoising
from cnnlab.studies.ae_features import FeaturesStudyConfig, run_features
from cnnlab.studies.autoencoder import CompressionStudyConfig, run_compression
from cnnlab.studies.init import InitStudyConfig, run_with_data_line
from cnnlab.studies.transfer import TransferStudyConfig
from cnnlab.studies.transfer import run as run_transfer_study


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


STUDIES = Registry("study")
for _name, _cfg, _help, _study in [
    ("init", InitStudyConfig, "weight initialization schemes compared",
     Study(run_with_data_line, init_report.summary_table, init_report.init_report,
           "weight initialization: final validation", (1,),
           "units equal to unit 0: the share of the first layer's units whose output equals "
           "unit 0's on every image of a batch at the start (100 % = the symmetry is never "
           "broken); course: the course notebook's validation accuracy for the MLP "
           "(784-256-128-10, Adam 1e-3, 2 epochs)")),
    ("transfer", TransferStudyConfig, "the four transfer cases x the four strategies, measured",
     Study(run_transfer_study, transfer_report.summary_table, transfer_report.transfer_report,
           "transfer: test accuracy (* the guide's choice)", (-2, -1),
           "PAD: proxy A-distance between source and target features (0 = a linear "
           "classifier cannot tell them apart, 2 = it always can); gap: distance between "
           "their mean features over their spread; guide: the strategy the lecture's "
           "four-case guide names; measured best: the strategy with the highest mean accuracy")),
    ("autoencoder compression", CompressionStudyConfig,
     "quality (PSNR, SSIM) against bytes, with JPEG",
     Study(run_compression, ae_reports.compression_table, ae_reports.compression_report,
           "autoencoder study: compression (test set)", (),
           "code: the latent's shape; bytes/image: the code stored at the chosen bits; "
           "ratio: raw bytes / bytes per image; PSNR in dB and SSIM (1 = identical): higher "
           "is better; JPEG columns: JPEG at the same budget (the bytes it really spent; "
           "over: even its lowest quality needs more)")),
    ("autoencoder denoising", DenoisingStudyConfig,
     "denoising autoencoder against blur and median",
     Study(run_denoising, ae_reports.denoising_table, ae_reports.denoising_report,
           "autoencoder study: denoising (test set)", (),
           "level: sigma of the Gaussian noise or the share of salt-and-pepper pixels (on "
           "[0, 1] images); each cell: PSNR in dB / SSIM of the method's output against the "
           "clean image (higher is better), the filter's setting in brackets")),
    ("autoencoder features", FeaturesStudyConfig,
     "linear classifier on encoder features vs raw pixels",
     Study(run_features, ae_reports.features_table, ae_reports.features_report,
           "autoencoder study: features (test set)", (),
           "labels/class: labelled training images per class; each column: test accuracy of "
           "a linear classifier on that representation (its size in dims), mean ± std over "
           "the seeds")),
    ("autoencoder checkerboard", CheckerboardStudyConfig,
     "transposed conv vs upsample + conv decoders",
     Study(run_checkerboard, ae_reports.checkerboard_table, ae_reports.checkerboard_report,
           "autoencoder study: checkerboard (test set)", (),
           "period-2 power: the reconstructions' spectral power at a period of 2 pixels "
           "(the checkerboard's frequency) relative to the clean images'; 1 = none added")),
]:  # fmt: skip
    STUDIES.register(_name, _cfg, _help)(_study)

__all__ = ["STUDIES", "Study"]
