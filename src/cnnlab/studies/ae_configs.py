"""The autoencoder studies' settings (compression, denoising, features, checkerboard) and
the parsing they share; light, like studies/configs.py: the command line reads them without
importing torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def parse_numbers(text: str, what: str, kind: type = float) -> tuple[Any, ...]:
    """'1,2,4' -> (1, 2, 4); an empty or malformed list is a ValueError naming `what`."""
    items = [s.strip() for s in str(text).split(",") if s.strip()]
    try:
        values = tuple(kind(s) for s in items)
    except ValueError:
        raise ValueError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if any(not v > 0 for v in values):
        raise ValueError(f"{what} must hold numbers > 0, got {text!r}")
    return values


def check_common(cfg: Any) -> None:
    """The options every autoencoder study shares: epochs, seed, train_limit, test_images."""
    if cfg.epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {cfg.epochs}")
    if cfg.seed < 0:
        raise ValueError(f"seed must be >= 0, got {cfg.seed}")
    if cfg.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {cfg.batch_size}")
    if cfg.train_limit is not None and cfg.train_limit < 20:
        raise ValueError(f"train_limit must be >= 20 (or None for all), got {cfg.train_limit}")
    if cfg.test_images < 1:
        raise ValueError(f"test_images must be >= 1, got {cfg.test_images}")


# ---- constants the checks read (their studies import them from here) ---------------------------


DECODERS = {  # the checkerboard study's decoders: name -> (model, model_args)
    "transpose": ("ae-conv", {}),
    "nearest": ("ae-conv-upsample", {"upsample": "nearest"}),
    "bilinear": ("ae-conv-upsample", {"upsample": "bilinear"}),
}


@dataclass(frozen=True)
class CompressionStudyConfig:
    """The compression study: one autoencoder per code size, its quantized code against JPEG
    at the same bytes per image.

    Args:
        data: dataset name (see cnnlab datasets) or a folder.
        conv_latents: comma-separated latent_channels of ae-conv, one model each, e.g.
            1,2,4,8,16 (28x28 input: a 7x7xC code; 4 is the course's); "" for none.
        linear_latents: comma-separated code sizes (values) of ae-linear, one model each,
            e.g. 16,32,64; "" for none.
        bits: bits per stored code value, 1..16; sets the bytes per image JPEG is given.
        epochs: passes over the training images per model.
        train_limit: training images, a class-balanced subset (null: all).
        test_images: test images every point is measured on (AE and JPEG alike), the first
            of the test split.
        batch_size: images per step.
        seed: seeds the split, the weights and the batch order.
        out: folder for result.json, table.md, figures/, report.html and the models' run
            folders under runs/ (a taken folder gets -2, -3, ...).
    """

    data: str = "fashion-mnist"
    conv_latents: str = "1,2,4,8,16"
    linear_latents: str = "16,32,64"
    bits: int = 8
    epochs: int = 10
    train_limit: int | None = 20000
    test_images: int = 1000
    batch_size: int = 128
    seed: int = 0
    out: str = "runs/ae-study-compression"

    def __post_init__(self) -> None:
        check_common(self)
        if not 1 <= self.bits <= 16:
            raise ValueError(f"bits must be in 1..16, got {self.bits}")
        if not self.conv_list and not self.linear_list:
            raise ValueError("conv_latents and linear_latents are both empty; give at least one")

    @property
    def conv_list(self) -> tuple[int, ...]:
        return parse_numbers(self.conv_latents, "conv_latents", int)

    @property
    def linear_list(self) -> tuple[int, ...]:
        return parse_numbers(self.linear_latents, "linear_latents", int)


# ---- autoencoder: denoising (studies/ae_denoising.py) ------------------------------------------


@dataclass(frozen=True)
class DenoisingStudyConfig:
    """The denoising study: one denoising autoencoder per noise kind against Gaussian blur
    and the median filter, at every noise level.

    Args:
        data: dataset name (see cnnlab datasets) or a folder.
        gaussian: comma-separated Gaussian noise sigmas on [0, 1] pixel values, e.g.
            0.1,0.3,0.5; "" for none.
        salt_pepper: comma-separated salt-and-pepper amounts (share of pixels set to black
            or white, in (0, 1]), e.g. 0.05,0.1; "" for none.
        model: the denoiser, an autoencoder model (see cnnlab models); one per noise kind,
            trained on a mix of its levels.
        latent: code size of the denoiser (latent_channels of ae-conv: 16 -> 7x7x16, no
            squeeze on purpose); null keeps the model's default.
        blur_sigmas: comma-separated Gaussian blur sigmas in pixels, the best chosen on
            validation images per level.
        median_sizes: comma-separated odd median filter sizes, the best chosen on validation
            images per level.
        epochs: passes over the training images per model.
        train_limit: training images, a class-balanced subset (null: all).
        test_images: test images every method is measured on, the first of the test split.
        val_images: validation images the filters' settings are chosen on.
        batch_size: images per step.
        seed: seeds the split, the weights, the batch order and the noise.
        out: folder for result.json, table.md, figures/, report.html and the models' run
            folders under runs/ (a taken folder gets -2, -3, ...).
    """

    data: str = "fashion-mnist"
    gaussian: str = "0.1,0.3,0.5"
    salt_pepper: str = "0.05,0.1,0.2"
    model: str = "ae-conv"
    latent: int | None = 16
    blur_sigmas: str = "0.3,0.5,0.75,1,1.5,2"
    median_sizes: str = "3,5"
    epochs: int = 10
    train_limit: int | None = 20000
    test_images: int = 1000
    val_images: int = 500
    batch_size: int = 128
    seed: int = 0
    out: str = "runs/ae-study-denoising"

    def __post_init__(self) -> None:
        check_common(self)
        if self.val_images < 1:
            raise ValueError(f"val_images must be >= 1, got {self.val_images}")
        if not self.kinds:
            raise ValueError("gaussian and salt_pepper are both empty; give at least one level")
        if any(v > 1 for v in self.kinds.get("salt-pepper", ())):
            raise ValueError(f"salt_pepper amounts must be in (0, 1], got {self.salt_pepper}")
        if any(k % 2 == 0 for k in parse_numbers(self.median_sizes, "median_sizes", int)):
            raise ValueError(f"median_sizes must be odd, got {self.median_sizes}")
        parse_numbers(self.blur_sigmas, "blur_sigmas")

    @property
    def kinds(self) -> dict[str, tuple[float, ...]]:
        out = {}
        for kind, text, what in (
            ("gaussian", self.gaussian, "gaussian"),
            ("salt-pepper", self.salt_pepper, "salt_pepper"),
        ):
            if str(text).strip():
                out[kind] = parse_numbers(text, what)
        return out


# ---- autoencoder: features (studies/ae_features.py) --------------------------------------------


@dataclass(frozen=True)
class FeaturesStudyConfig:
    """The features study: a linear classifier on few labels, on the autoencoder's code
    against the raw pixels (and a random encoder).

    Args:
        data: dataset name (see cnnlab datasets) or a folder.
        model: the autoencoder whose code is the feature, an autoencoder model (see cnnlab
            models).
        latent: code size of the autoencoder (latent_channels of ae-conv: 4 -> 7x7x4 = 196,
            the course's); null keeps the model's default.
        labels: comma-separated numbers of labelled training images per class for the linear
            classifier, one row each, e.g. 10,100,1000.
        seeds: draws of the labelled images per number; the table shows mean ± std.
        l2: L2 penalty of the classifier on standardized features (times the sum of squared
            weights); 0 for none.
        random_encoder: also probe the same encoder at its random initialization.
        epochs: passes over the training images to train the autoencoder (labels unused).
        train_limit: training images, a class-balanced subset (null: all).
        test_images: test images the classifiers are scored on, the first of the test split.
        batch_size: images per step.
        seed: seeds the split, the weights, the batch order and the draws of labelled images.
        out: folder for result.json, table.md, figures/, report.html and the autoencoder's
            run folder under runs/ (a taken folder gets -2, -3, ...).
    """

    data: str = "fashion-mnist"
    model: str = "ae-conv"
    latent: int | None = 4
    labels: str = "10,100,1000"
    seeds: int = 3
    l2: float = 1e-3
    random_encoder: bool = True
    epochs: int = 5
    train_limit: int | None = None
    test_images: int = 10000
    batch_size: int = 128
    seed: int = 0
    out: str = "runs/ae-study-features"

    def __post_init__(self) -> None:
        check_common(self)
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {self.seeds}")
        if self.l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {self.l2}")
        parse_numbers(self.labels, "labels", int)

    @property
    def label_list(self) -> tuple[int, ...]:
        return parse_numbers(self.labels, "labels", int)


# ---- autoencoder: checkerboard (studies/ae_checkerboard.py) ------------------------------------


@dataclass(frozen=True)
class CheckerboardStudyConfig:
    """The checkerboard study: the same autoencoder with a transposed-convolution decoder and
    with upsample + convolution decoders.

    Args:
        data: dataset name (see cnnlab datasets) or a folder.
        decoders: comma-separated decoders, one autoencoder each, from transpose (ae-conv),
            nearest and bilinear (ae-conv-upsample).
        latent: code channels of every decoder's autoencoder (4 -> 7x7x4, the course's); null
            keeps the models' default.
        epochs: passes over the training images for each autoencoder.
        train_limit: training images, a class-balanced subset (null: all).
        test_images: test images the decoders are scored on, the first of the test split.
        batch_size: images per step.
        seed: seeds the split, the weights and the batch order.
        out: folder for result.json, table.md, figures/, report.html and the models' run
            folders under runs/ (a taken folder gets -2, -3, ...).
    """

    data: str = "fashion-mnist"
    decoders: str = "transpose,nearest,bilinear"
    latent: int | None = 4
    epochs: int = 5
    train_limit: int | None = 20000
    test_images: int = 2000
    batch_size: int = 128
    seed: int = 0
    out: str = "runs/ae-study-checkerboard"

    def __post_init__(self) -> None:
        check_common(self)
        names = self.decoder_list
        if not names:
            raise ValueError("decoders must name at least one of transpose, nearest, bilinear")
        bad = [n for n in names if n not in DECODERS]
        if bad:
            raise ValueError(
                f"unknown decoder {bad[0]!r}; choose from {', '.join(DECODERS)} (comma-separated)"
            )

    @property
    def decoder_list(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.decoders.split(",") if s.strip())


# ---- MLP vs CNN (studies/mlp_vs_cnn.py; cnnlab compare mlp-vs-cnn) -----------------------------


__all__ = [
    "CheckerboardStudyConfig",
    "CompressionStudyConfig",
    "DenoisingStudyConfig",
    "FeaturesStudyConfig",
    "DECODERS",
    "check_common",
    "parse_numbers",
]
