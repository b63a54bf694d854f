"""The configuration of an autoencoder run: one frozen dataclass, from which the CLI is
generated; saved as config.yaml in the run folder."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.config import check_ranges, inherit_arg_docs, make_config
from cnnlab.core.errors import ConfigError
from cnnlab.engine.config import LoopConfig

TASK = "autoencode"


@inherit_arg_docs
@dataclass(frozen=True)
class AutoencodeConfig(LoopConfig):
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
        batch_size: images per step.
        beta: weight of the KL term of the VAE (beta-VAE); ignored by the other models.
        seed: seeds the split, the initial weights, the batch order and the noise.
        val_fraction: share of the training images held out for validation.
        train_limit: keep a class-balanced subset of this many training images.
        image_size: resize image-folder data to this square size.
    """

    data: str = "fashion-mnist"
    model: str = "ae-conv"
    model_args: dict[str, Any] = field(default_factory=dict)
    latent: int | None = None
    noise: str = "none"
    batch_size: int = 128
    beta: float = 1.0
    val_fraction: float = 0.1
    train_limit: int | None = None
    image_size: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        checks = {
            "latent": "None or >= 1",
            "batch_size": ">= 1",
            "beta": ">= 0",
            "val_fraction": "[0, 1)",
            "train_limit": "None or >= 2",
            "image_size": "None or >= 1",
        }
        check_ranges(self, checks)
        try:
            from cnnlab.data.noise import parse_noise  # torch: only when a run is made

            parse_noise(self.noise)
        except ValueError as exc:
            raise ValueError(f"noise: {exc}") from None

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


def make_ae_config(
    config: AutoencodeConfig | dict[str, Any] | None = None, **overrides: Any
) -> AutoencodeConfig:
    """A AutoencodeConfig from a config, a dict and keyword overrides; unknown keys are an error."""
    return make_config(AutoencodeConfig, config, "autoencode", **overrides)
