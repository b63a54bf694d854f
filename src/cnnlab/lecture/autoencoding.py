"""The book's sections on the lecture's autoencoder slides: a dense autoencoder, and a
convolutional one also trained as a denoiser (budgets in later_common.py)."""

from __future__ import annotations

from typing import Any

from cnnlab.lecture.book import Context, Outcome
from cnnlab.lecture.book import copy as _copy
from cnnlab.lecture.book import opts as _opts
from cnnlab.lecture.book import results as _results
from cnnlab.lecture.later_common import budget

# ---- autoencoders --------------------------------------------------------------------------


def _autoencode(ctx: Context, b: dict[str, Any], name: str, *argv: str) -> dict[str, Any]:
    """`cnnlab autoencode ARGV` with budget `b` into runs/NAME; its results.json."""
    ctx.cli("autoencode", *argv,
            *_opts(epochs=b["epochs"], train_limit=b["train_limit"], batch_size=b["batch_size"],
                   val_fraction=b["val_fraction"]),
            "--progress", "false", "--runs_dir", ctx.path("runs"), "--name", name)  # fmt: skip
    return _results(ctx, "runs", name, "results.json")


def _ae_row(label: str, r: dict[str, Any]) -> list[str]:
    t = r["test"]
    code = "x".join(str(n) for n in r["latent_shape"])
    return [label, f"{r['parameters']:,}", f"{code} = {r['latent_size']}",
            f"{r['compression_ratio']:.1f} : 1", f"{t['mse']:.4f}", f"{t['psnr']:.2f} dB",
            f"{t['ssim']:.3f}"]  # fmt: skip


def _baseline_row(base: dict[str, float]) -> list[str]:
    return ["mean image (baseline)", "—", "—", "—", f"{base['mse']:.4f}",
            f"{base['psnr']:.2f} dB", f"{base['ssim']:.3f}"]  # fmt: skip


AE_HEADERS = ["model", "parameters", "code", "compression", "test MSE", "PSNR", "SSIM"]


def autoencoders(ctx: Context) -> Outcome:
    b = budget(ctx, "autoencoders")
    data = ctx.data("fashion-mnist")
    r = _autoencode(ctx, b, "dense", "--data", data, "--model", "ae-linear")
    t, base = r["test"], r["baseline"]
    out = Outcome(measured="", verdict="shown")
    out.table(AE_HEADERS,
              [_baseline_row(base), _ae_row("ae-linear (dense)", r)],
              f"{r['test_images']:,} test images never seen in training; labels unused; the "
              "baseline predicts the training set's mean image for every image")  # fmt: skip
    ratio = t["mse"] / base["mse"]
    out.measured = (
        f"trained without labels, the dense autoencoder redraws test images from "
        f"{r['latent_size']} numbers ({r['compression_ratio']:.1f} : 1) with a mean squared "
        f"error of {t['mse']:.4f} ({t['psnr']:.1f} dB), {ratio:.0%} of the mean image's "
        f"{base['mse']:.4f} ({base['psnr']:.1f} dB)."
    )
    out.verdict = "holds" if ratio <= 0.5 else "differs"
    if out.verdict == "differs":
        out.because = (
            f"after {r['epochs_run']} epoch(s) its error is still above half the baseline's: "
            "the budget was too short for the code to capture more than the rough shape."
        )
    out.figures = [(_copy(ctx, "runs/dense/figures/reconstructions.png", "reconstructions.png"),
                    f"test images (top) and what the autoencoder redraws from its "
                    f"{r['latent_size']}-number code (bottom)")]  # fmt: skip
    return out


def conv_autoencoders(ctx: Context) -> Outcome:
    b = budget(ctx, "conv-autoencoders")
    data = ctx.data("fashion-mnist")
    conv = _autoencode(ctx, b, "conv", "--data", data, "--model", "ae-conv")
    noisy = _autoencode(ctx, b, "denoise", "--data", data, "--model", "ae-conv",
                        "--noise", b["noise"])  # fmt: skip
    size = str(conv["latent_size"])
    dense = None
    if b["dense"]:  # a dense autoencoder with a code of the same size, for comparison
        dense = _autoencode(ctx, b, "dense", "--data", data, "--model", "ae-linear",
                            "--latent", size)  # fmt: skip
    c, n, base = conv["test"], noisy["test"], conv["baseline"]
    out = Outcome(measured="", verdict="shown")
    rows = [_baseline_row(base), _ae_row("ae-conv", conv)]
    if dense is not None:
        rows.append(_ae_row("ae-linear (dense, the same code size)", dense))
    out.table(AE_HEADERS, rows,
              f"{conv['test_images']:,} test images; the same training images and epochs for "
              "each model")  # fmt: skip
    out.table(["input", "PSNR", "SSIM"],
              [[f"noisy (Gaussian, sigma {b['noise']})", f"{n['noisy_psnr']:.2f} dB",
                f"{n['noisy_ssim']:.3f}"],
               ["the denoising ae-conv's output", f"{n['psnr']:.2f} dB", f"{n['ssim']:.3f}"]],
              "a denoising ae-conv: noisy images in, the clean ones as the target; measured "
              "against the clean test images")  # fmt: skip
    ratio = c["mse"] / base["mse"]
    compared = ""
    if dense is not None:
        d = dense["test"]
        compared = (f" (a dense autoencoder with the same code size: {d['psnr']:.1f} dB with "
                    f"{dense['parameters']:,} weights)")  # fmt: skip
    out.measured = (
        f"with {conv['parameters']:,} weights the convolutional autoencoder redraws test images "
        f"from a {size}-number code ({conv['compression_ratio']:.0f} : 1) at {c['psnr']:.1f} dB, "
        f"an error {ratio:.0%} of the mean image's{compared}; trained as a denoiser it turns "
        f"{n['noisy_psnr']:.1f} dB noisy inputs into {n['psnr']:.1f} dB."
    )
    reconstructs, denoises = ratio <= 0.5, n["psnr"] > n["noisy_psnr"]
    out.verdict = "holds" if reconstructs and denoises else "differs"
    if out.verdict == "differs":
        why = []
        if not reconstructs:
            why.append(f"after {conv['epochs_run']} epoch(s) its error is still above half the "
                       "mean image's: too short a training for its small decoder")  # fmt: skip
        if not denoises:
            why.append("the denoiser's output is not yet closer to the clean images than its "
                       "noisy input: too short a training")  # fmt: skip
        out.because = "; ".join(why) + "."
    out.figures = [
        (_copy(ctx, "runs/conv/figures/reconstructions.png", "reconstructions.png"),
         f"ae-conv: test images (top) and what it redraws from its {size}-number code"),
        (_copy(ctx, "runs/denoise/figures/reconstructions.png", "denoising.png"),
         f"the denoising ae-conv: clean test images, with Gaussian noise (sigma {b['noise']}), "
         "and its output"),
    ]  # fmt: skip
    if dense is not None:
        out.figures.append((_copy(ctx, "runs/dense/figures/reconstructions.png", "dense.png"),
                            f"the dense autoencoder with the same {size}-number code"))  # fmt: skip
    return out
