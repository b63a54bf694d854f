"""Draw from a trained autoencoder run: new images from a VAE's prior, and an interpolation
between the codes of two test images (any autoencoder)."""

from __future__ import annotations

from pathlib import Path

import torch

from cnnlab.core.errors import ConfigError, RunError
from cnnlab.core.io import free_name, read_config
from cnnlab.data.datasets import load_dataset_of
from cnnlab.engine import runs
from cnnlab.tasks.autoencode.config import TASK, make_ae_config
from cnnlab.tasks.autoencode.metrics import interpolate


def _free(path: Path) -> tuple[Path, str]:
    """`path`, or the first free path-2.png, path-3.png ... with a note saying so."""
    alt = free_name(path)
    return alt, ("" if alt == path else f"{path} exists; wrote {alt} instead")


def sample_run(
    run: str | Path,
    n: int = 64,
    seed: int = 0,
    out: str | Path | None = None,
    pair: tuple[int, int] | None = None,
    steps: int = 8,
) -> tuple[dict[str, Path], list[str]]:
    """New images from a vae-conv run and/or a latent interpolation between test images
    `pair` (default (0, 1) for a VAE) of the run's data; any autoencoder can interpolate.

    Default files: RUN/figures/samples.png and interpolation.png; with `out` the samples go to
    `out` and the interpolation to OUT-interpolation.png (a plain autoencoder's interpolation
    to `out`); an existing file outside the run is never overwritten. Returns the written
    paths by kind and notes. Shapes: grids of n and `steps` images of the run's input size.
    """
    from cnnlab.tasks.autoencode.figures import save_grid

    if n < 1:
        raise ValueError(f"n = {n} is out of range; it must be >= 1")
    if steps < 2:
        raise ValueError(f"steps = {steps} is out of range; it must be >= 2")
    folder = Path(run)
    meta = runs.read_meta(folder)
    if meta.task != TASK:
        raise RunError(
            f"{folder} is a {meta.task} run of {meta.model!r}, not an autoencoder; "
            "cnnlab sample needs a run of `cnnlab autoencode --model vae-conv`"
        )
    model, _ = runs.load_model(folder)
    is_vae = hasattr(model, "sample")
    if not is_vae and pair is None:
        raise RunError(
            f"{folder} holds {meta.model!r}, a plain autoencoder with no prior to "
            "sample from (train --model vae-conv for samples); --interpolate I,J "
            "still works: interpolating codes works for any autoencoder"
        )
    if out is not None and Path(out).suffix.lower() != ".png":
        raise ConfigError(f"--out {out} must name a .png file")
    targets = {
        "samples": folder / "figures" / "samples.png",
        "interpolation": folder / "figures" / "interpolation.png",
    }
    if out is not None:
        o = Path(out)
        targets = {"samples": o, "interpolation": o.with_name(f"{o.stem}-interpolation.png")}
        if not is_vae:
            targets["interpolation"] = o
    written: dict[str, Path] = {}
    notes: list[str] = []
    if is_vae:
        path, note = _free(targets["samples"]) if out is not None else (targets["samples"], "")
        gen = torch.Generator().manual_seed(seed)
        written["samples"] = save_grid(model.sample(n, generator=gen), path, ncols=8)
        notes += [note] if note else []
    i, j = pair if pair is not None else (0, 1)
    cfg = make_ae_config(read_config(folder))
    data = load_dataset_of(cfg)
    m = len(data.test_x)
    if not (0 <= i < m and 0 <= j < m):
        raise ConfigError(
            f"--interpolate {i},{j}: the run's test split has {m} images, give indices 0-{m - 1}"
        )
    path, note = targets["interpolation"], ""
    if out is not None:
        path, note = _free(path)
    images = interpolate(model, data.test_x[i], data.test_x[j], steps)
    written["interpolation"] = save_grid(images, path, ncols=steps)
    notes += [note] if note else []
    if not is_vae:
        notes.append(f"{meta.model} is not a VAE: no samples drawn, interpolation only")
    return written, notes
