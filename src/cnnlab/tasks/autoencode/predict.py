"""`cnnlab predict` for an autoencoder run: an image file through the model, the
reconstruction written as one picture (input, noisy input for a denoiser, output, and the
absolute difference), with its MSE and PSNR against the input. The web app's "Try a model"
calls the same function.

Images are read and fitted as a classifier's are (any size and colour mode, the same notes on
background and size), then scaled to [0, 1]: the range the autoencoder was trained in.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.core.errors import ConfigError
from cnnlab.core.io import atomic_write, free_name
from cnnlab.data.noise import Noise, parse_noise
from cnnlab.engine.runs import ModelMeta, load_model
from cnnlab.tasks.classify.inputs import prepare

MIN_SIDE = 112  # pixels: small images are drawn enlarged (nearest neighbour) to at least this


@dataclass
class Reconstruction:
    """One input's reconstruction. Shapes: clean, noisy, output (C, H, W) uint8; noisy is None
    when the input was fed as it is."""

    source: str
    clean: np.ndarray
    noisy: np.ndarray | None
    output: np.ndarray
    mse: float  # of the output against the clean input, pixels in [0, 1]
    psnr: float  # dB; inf when the output equals the input exactly
    noisy_psnr: float | None = None  # of the noisy input itself (what denoising improved on)
    path: Path | None = None  # the picture written (None when not written)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """ "MSE m, PSNR p dB" and, for a noisy input, "(noisy input q dB)"."""
        was = "" if self.noisy_psnr is None else f" (noisy input {self.noisy_psnr:.1f} dB)"
        return f"MSE {self.mse:.4f}, PSNR {self.psnr:.1f} dB{was}"


def _psnr(mse: float) -> float:
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def run_noise(folder: Path | None, noise: str | None) -> Noise:
    """The noise an input is corrupted with: `noise` when given (none: fed as it is), else the
    run's own training noise (a denoiser is shown denoising)."""
    if noise is None and folder is not None:
        from cnnlab.core.io import read_config

        noise = str(read_config(folder).get("noise", "none"))
    try:
        return parse_noise(noise)
    except ValueError as exc:
        raise ConfigError(f"--noise {noise!r}: {exc}") from None


@torch.no_grad()
def reconstruct_files(
    run: str | Path | tuple[nn.Module, ModelMeta],
    files: list[str | Path],
    noise: Noise | str | None = None,
    invert: str = "false",
    seed: int = 0,
) -> list[Reconstruction]:
    """Reconstruct image files with an autoencoder run (a denoiser sees them corrupted by
    `noise`, default the run's training noise, seeded by `seed`). Nothing is written."""
    model, meta = load_model(Path(run)) if isinstance(run, (str, Path)) else run
    if meta.task != "autoencode":
        raise ConfigError(f"this is a {meta.task} run; reconstructions need an autoencoder run "
                          "(cnnlab autoencode)")  # fmt: skip
    folder = Path(run) if isinstance(run, (str, Path)) else None
    if not isinstance(noise, Noise):  # a loaded model with no folder: fed as it is
        noise = run_noise(folder, noise) if folder is not None or noise else Noise()
    names, batch, notes = prepare(list(files), meta, invert)
    clean = torch.from_numpy(batch).float().div(255)  # (N, C, H, W) in [0, 1]
    fed = noise(clean, torch.Generator().manual_seed(seed)) if noise.kind != "none" else clean
    out = model.eval()(fed).float().clamp(0, 1)

    def u8(t: torch.Tensor) -> np.ndarray:
        return (t * 255).round().to(torch.uint8).numpy()

    found = []
    for i, name in enumerate(names):
        mse = float(((out[i] - clean[i]) ** 2).mean())
        noisy = None if noise.kind == "none" else u8(fed[i])
        noisy_psnr = None if noisy is None else _psnr(float(((fed[i] - clean[i]) ** 2).mean()))
        found.append(Reconstruction(name, batch[i], noisy, u8(out[i]), mse, _psnr(mse),
                                    noisy_psnr, notes=list(notes[i])))  # fmt: skip
    return found


def panels(r: Reconstruction) -> list[tuple[str, np.ndarray]]:
    """The pictures of one reconstruction, titled: input, noisy input, output, |difference|
    (scaled so its largest value is white). Shapes: each (C, H, W) uint8."""
    diff = np.abs(r.output.astype(np.int16) - r.clean.astype(np.int16)).max(axis=0, keepdims=True)
    top = max(1, int(diff.max()))
    diff = (diff * (255 / top)).astype(np.uint8)
    shown = [("input", r.clean)]
    if r.noisy is not None:
        shown.append(("noisy input", r.noisy))
    return [*shown, ("reconstruction", r.output), ("|difference|", diff)]


def _rgb(a: np.ndarray) -> np.ndarray:
    """(C, H, W) uint8 -> (H, W, 3) uint8."""
    return np.repeat(a[0][..., None], 3, axis=2) if a.shape[0] == 1 else a.transpose(1, 2, 0)


def strip_png(r: Reconstruction) -> bytes:
    """The panels side by side, 4 white pixels apart, enlarged to MIN_SIDE, as PNG bytes."""
    from PIL import Image

    images = [_rgb(a) for _, a in panels(r)]
    h, w = images[0].shape[:2]
    gap = np.full((h, 4 * max(1, w // 28), 3), 255, np.uint8)
    row = np.concatenate([x for im in images for x in (im, gap)][:-1], axis=1)
    scale = max(1, -(-MIN_SIDE // h))
    pic = Image.fromarray(row).resize((row.shape[1] * scale, h * scale), Image.NEAREST)
    buf = io.BytesIO()
    pic.save(buf, format="PNG")
    return buf.getvalue()


def predict_lines(run: Path, files: list[str], out: str | None = None, noise: str | None = None,
                  invert: str = "false") -> list[str]:  # fmt: skip
    """What `cnnlab predict AE_RUN FILE...` prints, writing one picture per input: `out` for
    one input, else RUN/reconstructions/STEM-recon.png; an existing file is never replaced."""
    if out is not None and len(files) > 1:
        raise ConfigError("--out names one output file; give one input FILE or leave --out out")
    if out is not None and Path(out).suffix.lower() != ".png":
        raise ConfigError(f"--out {out} must name a .png file")
    lines = []
    for r in reconstruct_files(run, files, noise, invert):
        wanted = Path(out) if out is not None else run / "reconstructions" / (
            f"{Path(r.source).stem}-recon.png")  # fmt: skip
        target = free_name(wanted)
        atomic_write(target, strip_png(r))
        lines.append(f"{r.source} -> {target}: {r.summary()}")
        lines += [f"  note: {n}" for n in r.notes]
        if target != wanted:
            lines.append(f"  note: {wanted} exists; wrote {target} instead")
    return lines
