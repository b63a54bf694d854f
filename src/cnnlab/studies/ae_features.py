"""Autoencoder features study: is unsupervised pretraining worth labels?

An autoencoder is trained on the training images with their labels unused; then a linear
classifier (multinomial logistic regression) is fitted on 10, 100, 1000 labelled images per
class, once on the encoder's code, once on the raw pixels, and once on the code of the same
encoder left at its random initialization: the last line separates what the convolution and
pooling structure gives for free from what the encoder learned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import ImageData
from cnnlab.studies.ae_configs import FeaturesStudyConfig
from cnnlab.studies.autoencoder import (
    initial_model,
    study_data,
    train_ae,
    trim,
)
from cnnlab.tasks.autoencode.metrics import to_unit

LBFGS_STEPS = 100
FEATURES = ("autoencoder code", "raw pixels", "random encoder")


@dataclass
class FeaturesRow:
    features: str  # one of FEATURES
    per_class: int  # labelled images per class asked for
    used: int  # labelled images per class used (fewer when a class has fewer)
    dims: int  # feature dimensions
    accs: list[float]  # test accuracy per seed

    @property
    def mean(self) -> float:
        return float(np.mean(self.accs))

    @property
    def std(self) -> float:
        return float(np.std(self.accs))


@dataclass
class FeaturesStudyResult:
    config: dict[str, Any]
    data_source: str
    chance: float
    test_images: int
    code_shape: list[int]
    run: str
    train_seconds: float
    rows: list[FeaturesRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeaturesStudyResult:
        rows = [FeaturesRow(**r) for r in d["rows"]]
        keys = ("config", "data_source", "chance", "test_images", "code_shape", "run")
        return cls(*(d[k] for k in keys), d["train_seconds"], rows)


def linear_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    num_classes: int,
    l2: float = 1e-3,
) -> float:
    """Test accuracy of multinomial logistic regression (L-BFGS, float64) on features
    standardized with the training images' mean and std.

    Written by hand rather than trained through the engine on purpose: a convex fit of a few
    thousand weights on features already in memory converges in one L-BFGS call in well under
    a second; a run folder, checkpoints and an epoch loop would cost more than the fit.
    Shapes: train_x (N, F), train_y (N,), test_x (M, F), test_y (M,) -> accuracy in [0, 1]."""
    if len(train_x) < 2:
        raise ValueError(f"a probe needs at least 2 training images, got {len(train_x)}")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    x = train_x.double()
    mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)  # constant features (borders) stay 0
    x, xt = (x - mu) / sd, (test_x.double() - mu) / sd
    w = torch.zeros(x.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=LBFGS_STEPS, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, train_y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(((xt @ w + b).argmax(1) == test_y).double().mean())


def take_per_class(y: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Indices of n random images of each class (all of a class that has fewer).
    Shapes: y (N,) int64 -> (<= n * classes,) int64."""
    gen = torch.Generator().manual_seed(seed)
    picks = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        picks.append(idx[torch.randperm(len(idx), generator=gen)[:n]])
    return torch.cat(picks)


@torch.no_grad()
def encode_all(model: nn.Module, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """The flattened code of every image. Shapes: (N, C, H, W) uint8 -> (N, latent_size)."""
    model.eval()
    x = to_unit(images)
    return torch.cat([model.encode(x[i : i + batch]).flatten(1) for i in range(0, len(x), batch)])


def run_features(
    cfg: FeaturesStudyConfig,
    data: ImageData | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> FeaturesStudyResult:
    """Train the autoencoder without labels; probe its code, the raw pixels and (optionally)
    a random encoder with a linear classifier on few labels; test accuracy per seed.
    Shapes: data images (N, C, H, W) uint8, labels (N,) int64."""
    data = trim(data, cfg.test_images, 1000) if data is not None else study_data(cfg)
    log(f"data: {data.source}")
    model, run_dir, seconds = train_ae(cfg, data, f"{cfg.model}-features", cfg.model, cfg.latent)
    log(f"autoencoder trained without labels in {seconds:.0f} s: {run_dir}")
    feats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
        "autoencoder code": (encode_all(model, data.train_x), encode_all(model, data.test_x)),
        "raw pixels": (to_unit(data.train_x).flatten(1), to_unit(data.test_x).flatten(1)),
    }
    if cfg.random_encoder:
        rnd = initial_model(data, cfg.model, cfg.latent, cfg.seed)
        feats["random encoder"] = (encode_all(rnd, data.train_x), encode_all(rnd, data.test_x))
    result = FeaturesStudyResult(
        asdict(cfg), data.source, 1.0 / data.num_classes, len(data.test_x),
        list(model.latent_shape), run_dir, seconds,
    )  # fmt: skip
    counts = torch.bincount(data.train_y, minlength=data.num_classes)
    for n in cfg.label_list:
        used = int(min(n, int(counts[counts > 0].min())))
        for name, (tr, te) in feats.items():
            accs = []
            for s in range(cfg.seeds):
                idx = take_per_class(data.train_y, n, seed=cfg.seed * 1000 + s)
                accs.append(
                    linear_probe(
                        tr[idx], data.train_y[idx], te, data.test_y, data.num_classes, cfg.l2
                    )
                )
            row = FeaturesRow(name, n, used, int(tr.shape[1]), accs)
            result.rows.append(row)
            spread = f" ± {row.std:.1%}" if len(accs) > 1 else ""
            log(f"{n:5d}/class  {name:17s} ({row.dims:4d} dims): {row.mean:.1%}{spread}")
    return result


__all__ = [
    "FEATURES",
    "FeaturesRow",
    "FeaturesStudyConfig",
    "FeaturesStudyResult",
    "encode_all",
    "linear_probe",
    "run_features",
    "take_per_class",
]
