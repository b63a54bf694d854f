"""`autoencode()`: train an autoencoder into a run folder on the generic task loop, then
measure it on the test split (MSE, PSNR, SSIM against the mean-image baseline) and draw the
figures and the report. The Task itself and `sample_run` live in train/autoencode.py.

With a noise spec the model is a denoising autoencoder: the input is the corrupted image, the
target the clean one. The VAE minimizes the negative ELBO (summed BCE + beta * KL).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from rich.console import Console
from torch import nn

from cnnlab.data import ImageData, load_dataset
from cnnlab.data.noise import Noise, parse_noise
from cnnlab.errors import ConfigError, RunError
from cnnlab.train import runs
from cnnlab.train.autoencode import (
    AutoencodeTask,
    evaluate_ae,
    interpolate,
    mean_image_baseline,
    to_unit,
)
from cnnlab.train.config import check_ranges, plain_paths
from cnnlab.train.task_loop import LoopConfig, fit

TASK = "autoencode"
RECON_IMAGES = 10  # test images in figures/reconstructions.png


@dataclass(frozen=True)
class AutoencodeConfig:
    """Everything an autoencoder run needs; saved as config.yaml in the run folder.

    Args:
        data: a dataset name (fashion-mnist, mnist, cifar10) or a folder; labels are ignored.
        model: ae-linear, ae-conv, ae-conv-upsample or vae-conv (see `cnnlab models`).
        model_args: options of the model's config, e.g. {"widths": [32, 16]}.
        latent: size of the code: sets `latent` (values) of ae-linear and vae-conv, or
            `latent_channels` (channels of the code map) of ae-conv and ae-conv-upsample;
            None keeps the model's default.
        noise: train as a denoising autoencoder on corrupted inputs: SIGMA, gaussian:SIGMA,
            salt-pepper:AMOUNT or none.
        epochs: passes over the training split.
        batch_size: images per step.
        lr: peak learning rate of the one-cycle schedule.
        optimizer: adamw or sgd (Nesterov momentum 0.9).
        weight_decay: decoupled weight decay (AdamW) or L2 (SGD).
        beta: weight of the KL term of the VAE (beta-VAE); ignored by the other models.
        seed: seeds the split, the initial weights, the batch order and the noise.
        val_fraction: share of the training images held out for validation.
        train_limit: keep a class-balanced subset of this many training images.
        image_size: resize image-folder data to this square size.
        max_time: stop after this many seconds; the schedule follows elapsed time.
        patience: early stopping after this many epochs without a better val/loss.
        precision: auto (bf16 only where this CPU trains faster in it), 32 or bf16.
        runs_dir: folder that holds run folders.
        name: run folder name; default <model>-<data>-<n>.
        progress: show the progress bar.
    """

    data: str = "fashion-mnist"
    model: str = "ae-conv"
    model_args: dict[str, Any] = field(default_factory=dict)
    latent: int | None = None
    noise: str = "none"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 3e-3
    optimizer: Literal["adamw", "sgd"] = "adamw"
    weight_decay: float = 1e-4
    beta: float = 1.0
    seed: int = 0
    val_fraction: float = 0.1
    train_limit: int | None = None
    image_size: int | None = None
    max_time: float | None = None
    patience: int | None = None
    precision: Literal["auto", "32", "bf16"] = "auto"
    runs_dir: str = "runs"
    name: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        plain_paths(self)
        checks = {
            "latent": self.latent is None or self.latent >= 1,
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "beta": self.beta >= 0,
            "val_fraction": 0 <= self.val_fraction < 1,
            "train_limit": self.train_limit is None or self.train_limit >= 2,
            "image_size": self.image_size is None or self.image_size >= 1,
            "max_time": self.max_time is None or self.max_time > 0,
            "patience": self.patience is None or self.patience >= 1,
            "optimizer": self.optimizer in ("adamw", "sgd"),
            "precision": self.precision in ("auto", "32", "bf16"),
        }
        check_ranges(self, checks)
        try:
            parse_noise(self.noise)
        except ValueError as exc:
            raise ValueError(f"noise: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def model_kwargs(self) -> dict[str, Any]:
        """model_args with `latent` mapped onto the model's own field (latent or
        latent_channels). Unknown models raise the registry's one-line ModelError."""
        from cnnlab.models import model_config, task_models

        registry = task_models(TASK)
        entry = registry.get(self.model)
        kwargs = dict(self.model_args)
        if self.latent is not None:
            names = {f.name for f in dataclasses.fields(entry.config)}
            key = "latent" if "latent" in names else "latent_channels"
            if key in kwargs and kwargs[key] != self.latent:
                raise ConfigError(
                    f"latent = {self.latent} contradicts model_args {key} = {kwargs[key]}; "
                    "give one of them"
                )
            kwargs[key] = self.latent
        model_config(self.model, registry=registry, **dict(kwargs))  # unknown options fail here
        return kwargs


@dataclass
class AutoencodeResult:
    """What a finished (or paused) run returns; `test` is {} when the run was paused."""

    run_dir: Path
    model: nn.Module
    history: list[dict[str, float]]
    test: dict[str, Any]
    train_time_s: float
    results: dict[str, Any] = field(default_factory=dict)


def make_ae_config(
    config: AutoencodeConfig | dict[str, Any] | None = None, **overrides: Any
) -> AutoencodeConfig:
    """An AutoencodeConfig from a config, a dict and keyword overrides; unknown keys fail."""
    base = config.to_dict() if isinstance(config, AutoencodeConfig) else dict(config or {})
    base.update(overrides)
    known = {f.name for f in dataclasses.fields(AutoencodeConfig)}
    unknown = sorted(set(base) - known)
    if unknown:
        raise ConfigError(
            f"unknown autoencode option(s) {', '.join(unknown)}; see AutoencodeConfig"
        )
    if isinstance(base.get("model_args"), dict):
        base["model_args"] = dict(base["model_args"])
    return AutoencodeConfig(**base)


def _build(cfg: AutoencodeConfig, kwargs: dict[str, Any], data: ImageData) -> nn.Module:
    from cnnlab.train.task_loop import build_for_input

    torch.manual_seed(cfg.seed)
    return build_for_input(TASK, cfg.model, data.input_shape, data.input_shape[0], kwargs)


def autoencode(
    config: AutoencodeConfig | dict[str, Any] | None = None,
    *,
    data: ImageData | str | Path | None = None,
    console: Console | None = None,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    **overrides: Any,
) -> AutoencodeResult:
    """Train an autoencoder (a denoising one with `noise`) and write a run folder.

    `resume` continues the run folder RUN with its saved config (`overrides` such as a larger
    `epochs` apply); `stop_after` pauses after that many epochs of this call.

    Example: ``cnnlab.autoencode(model="ae-conv", data="fashion-mnist", latent=8, noise="0.3")``
    Shapes: images (N, C, H, W) in, reconstructions of the same shape in [0, 1].
    """
    console = console or Console(soft_wrap=True)
    loaded = data if isinstance(data, ImageData) else None
    if data is not None and loaded is None:
        overrides["data"] = str(data)
    elif loaded is not None:
        overrides.setdefault("data", loaded.origin or loaded.name)
    folder: Path | None = None
    if resume is not None:
        folder = Path(resume)
        meta_saved = runs.read_meta(folder)
        if meta_saved.task != TASK:
            raise RunError(
                f"{folder} is a {meta_saved.task} run, not an autoencoder; "
                "--resume needs a run of `cnnlab autoencode`"
            )
        cfg = make_ae_config(runs.read_config(folder), **overrides)
    else:
        cfg = make_ae_config(config, **overrides)
    kwargs = cfg.model_kwargs()  # unknown model or option: fails before the data is read
    noise = parse_noise(cfg.noise)
    if loaded is None:
        loaded = load_dataset(
            cfg.data,
            val_fraction=cfg.val_fraction,
            train_limit=cfg.train_limit,
            image_size=cfg.image_size,
            seed=cfg.seed,
        )
        console.print(f"data: {loaded.source}", highlight=False)
    data = loaded
    model = _build(cfg, kwargs, data)
    c, h, w = data.input_shape
    meta = runs.ModelMeta(
        model=cfg.model,
        config=kwargs,
        in_channels=c,
        num_classes=c,
        input_size=(h, w),
        classes=[],
        mean=(0.0,) * c,
        std=(1.0,) * c,
        data=data.source,
        task=TASK,
    )
    is_vae = hasattr(model, "sample")
    task = AutoencodeTask(
        data.train_x, data.val_x, cfg.batch_size, noise, cfg.seed, is_vae, cfg.beta
    )
    if folder is None:
        folder = runs.new_run_folder(cfg.runs_dir, cfg.name or f"{cfg.model}-{data.name}")
    runs.write_config(folder, cfg.to_dict())  # on resume: the extended epochs are kept
    from cnnlab.models import count_parameters

    console.print(
        f"run: {folder}  model {cfg.model} ({count_parameters(model):,} parameters, code "
        f"{'x'.join(map(str, model.latent_shape))}), {len(data.train_x)} train / "
        f"{len(data.val_x)} val images, noise {noise}",
        highlight=False,
    )
    res = fit(
        model,
        task,
        LoopConfig.from_config(cfg),
        folder,
        meta,
        resume=resume is not None,
        console=console,
        stop_after=stop_after,
    )
    epochs_done = int(res.history[-1]["epoch"]) if res.history else 0
    if res.stopped == "paused" and epochs_done < cfg.epochs:
        console.print(
            f"paused after epoch {epochs_done}; continue with: cnnlab autoencode --resume {folder}",
            highlight=False,
        )
        return AutoencodeResult(folder, model, res.history, {}, res.train_time_s)
    best, _ = runs.load_model(folder)
    results = write_ae_results(
        folder, best, data, cfg, noise, res.history, res.best_epoch, res.train_time_s
    )
    return AutoencodeResult(folder, best, res.history, results["test"], res.train_time_s, results)


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
    from cnnlab.viz import autoencoders as viz

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
    runs.atomic_write(folder / "results.json", json.dumps(results, indent=2))
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


__all__ = [
    "AutoencodeConfig",
    "AutoencodeResult",
    "autoencode",
    "make_ae_config",
    "write_ae_results",
]
