"""After an autoencoder run: test metrics against the mean-image baseline, results.json,
the reconstruction (and VAE sample) figures and report.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.core.io import atomic_write
from cnnlab.data import ImageData
from cnnlab.data.noise import Noise
from cnnlab.tasks.autoencode.config import TASK, AutoencodeConfig
from cnnlab.tasks.autoencode.metrics import evaluate_ae, interpolate, mean_image_baseline, to_unit

RECON_IMAGES = 10  # test images in figures/reconstructions.png


def write_ae_results(
    folder: Path,
    model: nn.Module,
    data: ImageData,
    cfg: AutoencodeConfig,
    noise: Noise,
    history: list[dict[str, float]],
    best_epoch: int,
    train_time: float,
) -> dict[str, Any]:
    """Test the model; write results.json, the figures and report.html. Returns the results."""
    from cnnlab.models import count_parameters
    from cnnlab.tasks.autoencode import figures as viz

    test, fed, out = evaluate_ae(model, data, noise, cfg.seed)
    c, h, w = data.input_shape
    latent = int(model.latent_size)
    results = {
        "task": TASK,
        "test": test,
        "baseline": mean_image_baseline(data.train_x, data.test_x),
        "noise": str(noise),
        "latent_shape": list(model.latent_shape),
        "latent_size": latent,
        "compression_ratio": round(c * h * w / latent, 3),
        "best_epoch": best_epoch,
        "epochs_run": int(history[-1]["epoch"]) if history else 0,
        "train_time_s": round(train_time, 2),
        "parameters": count_parameters(model),
        "data_source": data.source,
        "test_images": len(data.test_x),
    }
    atomic_write(folder / "results.json", json.dumps(results, indent=2))
    figs = folder / "figures"
    k = min(RECON_IMAGES, len(fed))
    clean = to_unit(data.test_x[:k])
    noisy = fed[:k] if noise.kind != "none" else None
    viz.save_figure(viz.plot_reconstructions(clean, out[:k], noisy), figs / "reconstructions.png")
    viz.save_figure(viz.plot_ae_curves(history), figs / "curves.png")
    if hasattr(model, "sample") and len(data.test_x) >= 2:
        gen = torch.Generator().manual_seed(cfg.seed)
        viz.save_grid(model.sample(64, generator=gen), figs / "samples.png", ncols=8)
        path = figs / "interpolation.png"
        viz.save_grid(interpolate(model, data.test_x[0], data.test_x[1], 8), path, ncols=8)
    viz.ae_report(folder)
    return results
