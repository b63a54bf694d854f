"""Classification scores from a confusion matrix, in plain torch: the confusion matrix itself,
and per-class precision, recall and F1 (0 where undefined, as scikit-learn's and torchmetrics'
zero_division=0).

They were torchmetrics calls; importing torchmetrics costs about 4 s on the 2-core machines
(it imports scipy.signal and torchvision's models), paid by every `cnnlab` process that
trains or scores a classifier. torchmetrics stays the reference the tests compare against
(docs/benchmarks.md, "Start-up").
"""

from __future__ import annotations

import torch


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts of (true class, predicted class) pairs; rows are the true classes.
    Shapes: pred, target (N,) or any shape alike, integer class ids in [0, K) -> (K, K) int64."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    p, t = pred.reshape(-1).long(), target.reshape(-1).long()
    if len(p) and (min(int(p.min()), int(t.min())) < 0 or
                   max(int(p.max()), int(t.max())) >= num_classes):  # fmt: skip
        raise ValueError(f"class ids must be in [0, {num_classes})")
    counts = torch.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes)


def _ratio(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(b > 0, a / b.clamp(min=1), torch.zeros_like(a))


def per_class_scores(confusion: torch.Tensor) -> dict[str, list[float]]:
    """Precision, recall and F1 of each class from a confusion matrix (rows true classes).
    Shapes: (K, K) -> {"precision": K, "recall": K, "f1": K floats}."""
    m = confusion.double()
    tp = m.diag()
    predicted, actual = m.sum(0), m.sum(1)
    return {
        "precision": _ratio(tp, predicted).tolist(),
        "recall": _ratio(tp, actual).tolist(),
        "f1": _ratio(2 * tp, predicted + actual).tolist(),
    }
