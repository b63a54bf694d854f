"""How similar a target is to a backbone's source data, measured in the backbone's own features.

Two numbers, both computed on `forward_features` of the backbone (its end features, the ones
the `head` strategy would train on):

proxy A-distance  PAD = 2 (1 - 2 err), clipped to [0, 2], where err is the test error of a
                  logistic regression that tells source features from target features
                  (Ben-David et al. 2007/2010). 0: the classifier is at chance, the backbone
                  sees both sets alike; 2: it separates them perfectly.
feature gap       ||mu_s - mu_t|| / sqrt((tr S_s + tr S_t) / 2): the distance between the two
                  mean feature vectors in units of the features' typical spread (S: covariance).
                  0: same mean; around 1 and more: the means differ by a whole spread.

The source data of a run backbone is reloaded from its config.yaml (see `source_data`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnnlab.core.errors import DataError
from cnnlab.data import ImageData
from cnnlab.tasks.transfer.backbones import Backbone, adapt_input

LBFGS_STEPS = 200  # enough for the logistic loss to settle on a few hundred standardized features
L2 = 1e-3  # a little weight decay: separable sets would otherwise push the weights to infinity


@dataclass
class Similarity:
    """The two measures and the sample sizes behind them; `details` holds the classifier's
    train/test error, the feature width and the spread of each set."""

    proxy_a_distance: float
    feature_gap: float
    source_n: int
    target_n: int
    details: dict[str, Any] = field(default_factory=dict)


@torch.no_grad()
def features(backbone: Backbone, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """End features of `backbone` for uint8 images, in eval mode and batches.

    Shapes: x (N, C, H, W) uint8 -> (N, F) float64.
    """
    model = backbone.model.eval()
    out = [
        model.forward_features(adapt_input(x[i : i + batch_size], backbone)).double()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(out).flatten(1)  # (N, F)


def _logistic_error(
    xs: torch.Tensor, xt: torch.Tensor, gen: torch.Generator
) -> tuple[float, float]:
    """Train error and test error of a logistic regression telling xs (label 0) from xt
    (label 1) on a 50/50 split of each. Shapes: xs, xt (M, F) float64, equal M."""
    m = len(xs)
    ps, pt = torch.randperm(m, generator=gen), torch.randperm(m, generator=gen)
    half = m // 2
    tr_x = torch.cat([xs[ps[:half]], xt[pt[:half]]])  # (2 half, F)
    te_x = torch.cat([xs[ps[half:]], xt[pt[half:]]])
    tr_y = torch.cat([torch.zeros(half), torch.ones(half)]).double()
    te_y = torch.cat([torch.zeros(m - half), torch.ones(m - half)]).double()
    # standardize with the training half only: the test half must stay unseen
    mu, sd = tr_x.mean(0), tr_x.std(0).clamp_min(1e-6)
    tr_x, te_x = (tr_x - mu) / sd, (te_x - mu) / sd
    w = torch.zeros(tr_x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=LBFGS_STEPS, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(tr_x @ w + b, tr_y)
        loss = loss + L2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        train_err = float(((tr_x @ w + b > 0).double() != tr_y).double().mean())
        test_err = float(((te_x @ w + b > 0).double() != te_y).double().mean())
    return train_err, test_err


def similarity(
    backbone: Backbone,
    source_x: torch.Tensor,
    target_x: torch.Tensor,
    n: int = 1000,
    seed: int = 0,
) -> Similarity:
    """Proxy A-distance and feature gap between source and target images, in the features
    of `backbone` (formulas in the module docstring). Up to `n` images of each set, the same
    number from both so that chance is 50 %.

    Shapes: source_x (Ns, C, H, W), target_x (Nt, C', H', W') uint8; any sizes and channel
    counts adapt_input can bring to the backbone's input.
    """
    if n < 4:
        raise ValueError(f"n must be >= 4 (two images per set and split half), got {n}")
    m = min(n, len(source_x), len(target_x))
    if m < 4:
        raise DataError(
            f"need at least 4 source and 4 target images to compare, got {len(source_x)} "
            f"and {len(target_x)}"
        )
    gen = torch.Generator().manual_seed(seed)
    fs = features(backbone, source_x[torch.randperm(len(source_x), generator=gen)[:m]])
    ft = features(backbone, target_x[torch.randperm(len(target_x), generator=gen)[:m]])
    train_err, test_err = _logistic_error(fs, ft, gen)
    pad = min(2.0, max(0.0, 2.0 * (1.0 - 2.0 * test_err)))
    # trace of a covariance = sum of the per-feature variances
    tr_s, tr_t = float(fs.var(0).sum()), float(ft.var(0).sum())
    spread = max(((tr_s + tr_t) / 2) ** 0.5, 1e-12)
    gap = float((fs.mean(0) - ft.mean(0)).norm()) / spread
    details = {
        "classifier_test_error": test_err,
        "classifier_train_error": train_err,
        "features": int(fs.shape[1]),
        "trace_source": tr_s,
        "trace_target": tr_t,
    }
    return Similarity(pad, gap, m, m, details)


def source_data(folder: str | Path) -> ImageData:
    """The training data of a run backbone, loaded again from its config.yaml (dataset, seed,
    split, train_limit, image_size as in training) and cut to the run's classes when the run
    was trained on a subset of the dataset's classes (model.json keeps their names).

    Shapes: images (N, C, H, W) uint8.
    """
    from cnnlab.core.io import read_config
    from cnnlab.data.datasets import load_dataset_of
    from cnnlab.engine.runs import read_meta
    from cnnlab.tasks.transfer.strategies import select_classes

    folder = Path(folder)
    cfg, meta = read_config(folder), read_meta(folder)
    data = load_dataset_of(cfg)
    if meta.classes and meta.classes != data.classes:
        missing = [c for c in meta.classes if c not in data.classes]
        if missing:
            raise DataError(
                f"{folder} was trained on classes {', '.join(missing)} that {data.name} does "
                "not have; pass the source images explicitly"
            )
        data = select_classes(data, list(meta.classes))
    return data
