"""Figures, tables (rich rows and Markdown) and reports of the three autoencoder studies;
they only read the studies' result objects (or their result.json via from_dict)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from cnnlab.core.io import atomic_write
from cnnlab.studies.ae_checkerboard import CheckerboardStudyResult
from cnnlab.studies.ae_denoising import DenoisingStudyResult
from cnnlab.studies.ae_features import FEATURES, FeaturesStudyResult
from cnnlab.studies.autoencoder import CompressionStudyResult
from cnnlab.viz.figures import fig_to_png
from cnnlab.viz.report import Image, Section, Table, write_report

METHOD_COLORS = {
    "noisy input": "0.55",
    "gaussian blur": "tab:blue",
    "median": "tab:green",
    "autoencoder": "tab:orange",
}
FEATURE_COLORS = dict(zip(FEATURES, ("tab:orange", "tab:blue", "0.5"), strict=True))


def plot_strip(rows: dict[str, Any], pad: int = 2) -> Figure:
    """One row per label: its images side by side (pad white pixels apart), one axes per row
    so that even long strips draw fast.
    Shapes: each value (N, C, H, W) uint8 (array or nested lists), C = 1 or 3."""
    arrays = {k: np.asarray(v, dtype=np.uint8) for k, v in rows.items()}
    n = max(len(a) for a in arrays.values())
    c, h, w = next(iter(arrays.values())).shape[1:]
    fig = Figure(figsize=(0.75 * n + 2.2, 0.8 * len(arrays) + 0.2), layout="constrained")
    axes = np.asarray(fig.subplots(len(arrays), 1, squeeze=False))[:, 0]
    for ax, (label, a) in zip(axes, arrays.items(), strict=True):
        line = np.full((h, n * (w + pad) - pad, c), 255, np.uint8)  # (H, W', C)
        for i, img in enumerate(a):
            line[:, i * (w + pad) : i * (w + pad) + w] = np.transpose(img, (1, 2, 0))
        ax.imshow(line[:, :, 0] if c == 1 else line, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    return fig


def _render(figs: dict[str, Figure], out: Path) -> dict[str, bytes]:
    """Draw each figure once: PNG bytes for the report, the same bytes in out/figures/."""
    pngs = {k: fig_to_png(f) for k, f in figs.items()}
    for k, png in pngs.items():
        atomic_write(out / "figures" / f"{k}.png", png)
    return pngs


# ---- compression ---------------------------------------------------------------------------


def plot_compression(result: CompressionStudyResult) -> Figure:
    """PSNR and SSIM against bytes per image: autoencoder points (8-bit codes) per model
    family and the JPEG curve (at the bytes JPEG really spent)."""
    fig = Figure(figsize=(11, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    jpeg = sorted(result.jpeg, key=lambda p: p["bytes"])
    for ax, key, label in zip(axes, ("psnr", "ssim"), ("PSNR (dB)", "SSIM"), strict=True):
        ax.plot([p["bytes"] for p in jpeg], [p[key] for p in jpeg], "s--", color="tab:blue",
                label="JPEG (Pillow, best quality within budget)", ms=4)  # fmt: skip
        for family, marker, color in (("ae-conv", "o-", "tab:orange"),
                                      ("ae-linear", "^-", "tab:red")):  # fmt: skip
            rows = sorted((r for r in result.rows if r.model.startswith(family + "-")),
                          key=lambda r: r.bytes)  # fmt: skip
            if rows:
                ax.plot([r.bytes for r in rows], [getattr(r, key) for r in rows], marker,
                        color=color, label=f"{family} (8-bit code)", ms=5)  # fmt: skip
                for r in rows:
                    ax.annotate(
                        "x".join(map(str, r.code_shape)),
                        (r.bytes, getattr(r, key)),
                        fontsize=7,
                        xytext=(3, -10),
                        textcoords="offset points",
                    )
        course = [r for r in result.rows if r.model == result.strip_model]
        if course:
            ax.axvline(course[0].bytes, color="0.6", ls=":", lw=1)
        ax.set_xscale("log")
        ticks = [t for t in (16, 32, 64, 128, 256, 512, 1024) if t <= 2 * result.raw_bytes]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())  # log minor labels overlap
        ax.set_xlabel(f"bytes per image (raw: {result.raw_bytes})")
        ax.set_ylabel(label)
        ax.set_title(f"{label} against bytes per image")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8, loc="best")
    return fig


def compression_table(result: CompressionStudyResult) -> tuple[list[str], list[list[str]]]:
    headers = ["model", "code", "bytes/image", "ratio", "PSNR (dB)", "SSIM",
               "JPEG bytes", "JPEG PSNR", "JPEG SSIM"]  # fmt: skip
    body = []
    for r in result.rows:
        over = " (over: q1)" if r.jpeg_bytes > r.bytes else ""
        body.append([
            r.model, "x".join(map(str, r.code_shape)), str(r.bytes), f"{r.ratio:.1f}:1",
            f"{r.psnr:.2f}", f"{r.ssim:.3f}", f"{r.jpeg_bytes:.0f}{over}",
            f"{r.jpeg_psnr:.2f}", f"{r.jpeg_ssim:.3f}",
        ])  # fmt: skip
    return headers, body


def compression_report(result: CompressionStudyResult, out: Path) -> Path:
    """figures/quality-vs-bytes.png, figures/strip.png, table.md and report.html in `out`."""
    out = Path(out)
    figs = {"quality-vs-bytes": plot_compression(result)}
    if result.strip:
        figs["strip"] = plot_strip(result.strip)
    pngs = _render(figs, out)
    headers, body = compression_table(result)
    (out / "table.md").write_text(Table(headers, body).markdown())
    cfg = result.config
    text = (
        f"Each autoencoder trained {cfg['epochs']} epoch(s) on {cfg['train_limit'] or 'all'} "
        f"training images of {result.data_source}; every number is measured on the same "
        f"{result.test_images} test images. An image costs its code stored at {cfg['bits']} "
        "bits per value (one min/max pair for the whole set, not counted per image); ratio = "
        f"raw bytes ({result.raw_bytes}) / bytes. JPEG: Pillow with optimized Huffman tables, "
        "headers included, at the highest quality whose file fits the same budget; '(over: "
        "q1)' means even quality 1 does not fit and its real size is shown."
    )
    images = [Image("quality against bytes per image", pngs["quality-vs-bytes"])]
    if "strip" in pngs:
        images.append(Image(f"test images: original, {result.strip_model}, JPEG", pngs["strip"]))
    sections = [Section("Compression", text, tables=[Table(headers, body, "test set")],
                        images=images)]  # fmt: skip
    return write_report(out / "report.html", "Autoencoder study: compression", sections,
                        subtitle=result.data_source)  # fmt: skip


# ---- denoising -----------------------------------------------------------------------------


def plot_denoising(result: DenoisingStudyResult) -> Figure:
    """PSNR (top) and SSIM (bottom) against noise level, one column per noise kind, one line
    per method."""
    kinds = list(dict.fromkeys(r.kind for r in result.rows))
    fig = Figure(figsize=(4.6 * len(kinds), 5.4), layout="constrained")
    axes = fig.subplots(2, len(kinds), squeeze=False)
    for j, kind in enumerate(kinds):
        for i, (key, label) in enumerate((("psnr", "PSNR (dB)"), ("ssim", "SSIM"))):
            ax = axes[i, j]
            for method, color in METHOD_COLORS.items():
                rows = [r for r in result.rows if r.kind == kind and r.method == method]
                if rows:
                    ax.plot([r.level for r in rows], [getattr(r, key) for r in rows], "o-",
                            color=color, label=method, ms=4)  # fmt: skip
            what = "sigma" if kind == "gaussian" else "amount"
            ax.set_xlabel(f"{kind} noise {what}")
            ax.set_ylabel(label)
            ax.set_title(f"{kind}: {label}")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    return fig


def denoising_table(result: DenoisingStudyResult) -> tuple[list[str], list[list[str]]]:
    """One row per kind and level; PSNR / SSIM per method (filter settings in brackets)."""
    methods = list(METHOD_COLORS)
    headers = ["noise", "level"] + [f"{m} PSNR / SSIM" for m in methods]
    body = []
    for kind in dict.fromkeys(r.kind for r in result.rows):
        for level in dict.fromkeys(r.level for r in result.rows if r.kind == kind):
            cells = {r.method: r for r in result.rows if r.kind == kind and r.level == level}
            row = [kind, f"{level:g}"]
            for m in methods:
                r = cells.get(m)
                extra = f" ({r.setting})" if r is not None and r.setting else ""
                row.append(f"{r.psnr:.2f} / {r.ssim:.3f}{extra}" if r is not None else "—")
            body.append(row)
    return headers, body


def denoising_report(result: DenoisingStudyResult, out: Path) -> Path:
    """figures/denoising.png, figures/strip-KIND.png, table.md and report.html in `out`."""
    out = Path(out)
    figs = {"denoising": plot_denoising(result)}
    for kind, strip in result.strips.items():
        figs[f"strip-{kind}"] = plot_strip(strip)
    pngs = _render(figs, out)
    headers, body = denoising_table(result)
    (out / "table.md").write_text(Table(headers, body).markdown())
    cfg = result.config
    secs = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    text = (
        f"One denoising {cfg['model']} (latent {cfg['latent']}) per noise kind, trained "
        f"{cfg['epochs']} epoch(s) on {cfg['train_limit'] or 'all'} training images of "
        f"{result.data_source} with the noise level drawn per image from the kind's levels "
        f"(training: {secs}). The filters' settings (blur sigma from {cfg['blur_sigmas']}, "
        f"median size from {cfg['median_sizes']}) are chosen per level by PSNR on "
        f"{result.val_images} validation images, never on the test images. PSNR / SSIM on "
        f"the same {result.test_images} noisy test images for every method."
    )
    images = [Image("PSNR and SSIM against noise level", pngs["denoising"])]
    images += [Image(f"{k}: test images at the middle level", pngs[f"strip-{k}"])
               for k in result.strips]  # fmt: skip
    sections = [Section("Denoising", text, tables=[Table(headers, body, "test set")],
                        images=images)]  # fmt: skip
    return write_report(out / "report.html", "Autoencoder study: denoising", sections,
                        subtitle=result.data_source)  # fmt: skip


# ---- features ------------------------------------------------------------------------------


def plot_features(result: FeaturesStudyResult) -> Figure:
    """Test accuracy of the linear classifier against labelled images per class (log axis),
    one line per feature kind, std over seeds as error bars; chance dotted."""
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for name in dict.fromkeys(r.features for r in result.rows):
        rows = sorted((r for r in result.rows if r.features == name), key=lambda r: r.per_class)
        ax.errorbar(
            [r.used for r in rows],
            [r.mean for r in rows],
            yerr=[r.std for r in rows],
            marker="o",
            capsize=3,
            color=FEATURE_COLORS.get(name),
            label=f"{name} ({rows[0].dims} dims)",
        )
    ax.axhline(result.chance, color="0.5", ls=":", lw=1, label="chance")
    ax.set_xscale("log")
    used = sorted({r.used for r in result.rows})
    ax.set_xticks(used, [str(u) for u in used])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("labelled training images per class")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("linear classifier on features (mean ± std over seeds)")
    return fig


def features_table(result: FeaturesStudyResult) -> tuple[list[str], list[list[str]]]:
    names = list(dict.fromkeys(r.features for r in result.rows))
    dims = {r.features: r.dims for r in result.rows}
    headers = ["labels/class"] + [f"{n} ({dims[n]} dims)" for n in names]
    body = []
    for n in dict.fromkeys(r.per_class for r in result.rows):
        cells = {r.features: r for r in result.rows if r.per_class == n}
        row = [str(n)]
        for name in names:
            r = cells[name]
            spread = f" ± {r.std:.1%}" if len(r.accs) > 1 else ""
            row.append(f"{r.mean:.1%}{spread}")
        body.append(row)
    return headers, body


def features_report(result: FeaturesStudyResult, out: Path) -> Path:
    """figures/accuracy-vs-labels.png, table.md and report.html in `out`."""
    out = Path(out)
    png = _render({"accuracy-vs-labels": plot_features(result)}, out)["accuracy-vs-labels"]
    headers, body = features_table(result)
    (out / "table.md").write_text(Table(headers, body).markdown())
    cfg = result.config
    shape = "x".join(map(str, result.code_shape))
    seeds = int(cfg["seeds"])
    text = (
        f"{cfg['model']} (code {shape} = {math.prod(result.code_shape)} values) trained "
        f"{cfg['epochs']} epoch(s) on {cfg['train_limit'] or 'all'} training images of "
        f"{result.data_source}, labels unused ({result.train_seconds:.0f} s). Then a "
        "multinomial logistic regression (L-BFGS, standardized features, L2 "
        f"{cfg['l2']:g}) on N labelled training images per class, {seeds} draw(s) of the "
        f"labelled images; accuracy on {result.test_images} test images (chance "
        f"{result.chance:.0%}). 'random encoder': the same encoder at its initial weights."
    )
    sections = [Section("Features", text, tables=[Table(headers, body, "test accuracy")],
                        images=[Image("accuracy against labels per class", png)])]  # fmt: skip
    return write_report(out / "report.html", "Autoencoder study: features", sections,
                        subtitle=result.data_source)  # fmt: skip


ERROR_GAIN = 4  # the error rows of the checkerboard strip are |output - input| x 4


def checkerboard_strip(result: CheckerboardStudyResult) -> dict[str, np.ndarray]:
    """Rows for plot_strip: the clean images, then per decoder its outputs and its error
    |output - input| x ERROR_GAIN (white = large), where a period-2 pattern shows first."""
    orig = np.asarray(result.originals, dtype=np.int16)
    rows: dict[str, np.ndarray] = {"input": orig.astype(np.uint8)}
    for r in result.rows:
        out = np.asarray(r.examples, dtype=np.int16)
        rows[r.decoder] = out.astype(np.uint8)
        err = np.clip(np.abs(out - orig) * ERROR_GAIN, 0, 255).astype(np.uint8)
        rows[f"{r.decoder} error x{ERROR_GAIN}"] = err
    return rows


def checkerboard_table(result: CheckerboardStudyResult) -> tuple[list[str], list[list[str]]]:
    headers = ["decoder", "model", "parameters", "PSNR", "SSIM", "period-2 power (x clean)",
               "untrained: period-2 power", "train time"]  # fmt: skip
    body = [
        [
            r.decoder,
            r.model,
            f"{r.parameters:,}",
            f"{r.psnr:.2f} dB",
            f"{r.ssim:.3f}",
            f"{r.period2:.2f}",
            f"{r.period2_init:.1f}",
            f"{r.train_seconds:.0f} s",
        ]
        for r in result.rows
    ]
    return headers, body


def checkerboard_report(result: CheckerboardStudyResult, out: Path) -> Path:
    """figures/strip.png, table.md and report.html in `out`."""
    out = Path(out)
    png = _render({"strip": plot_strip(checkerboard_strip(result))}, out)["strip"]
    headers, body = checkerboard_table(result)
    (out / "table.md").write_text(Table(headers, body).markdown())
    cfg = result.config
    text = (
        f"The same convolutional autoencoder (code channels {cfg['latent']}) with three "
        f"decoders, each trained {cfg['epochs']} epoch(s) on {cfg['train_limit'] or 'all'} "
        f"training images of {result.data_source}, seed {cfg['seed']}; scored on "
        f"{result.test_images} test images. 'period-2 power' is the share of the outputs' "
        "spectral power at period 2 (the Nyquist row and column), divided by the same share "
        "in the clean images: above 1 the decoder adds a checkerboard-like pattern. 'untrained': "
        "the same ratio for the network at the initial weights its training started from."
    )
    sections = [Section("Checkerboard", text, tables=[Table(headers, body, "test set")],
                        images=[Image("inputs, outputs and errors", png)])]  # fmt: skip
    return write_report(out / "report.html", "Autoencoder study: checkerboard", sections,
                        subtitle=result.data_source)  # fmt: skip


__all__ = [
    "checkerboard_report",
    "checkerboard_strip",
    "checkerboard_table",
    "compression_report",
    "compression_table",
    "denoising_report",
    "denoising_table",
    "features_report",
    "features_table",
    "plot_compression",
    "plot_denoising",
    "plot_features",
    "plot_strip",
]
