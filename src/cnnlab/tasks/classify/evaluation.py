"""Evaluation of a classifier on in-memory images: accuracy, loss, per-class precision /
recall / F1 and the confusion matrix (core/scores.py), and the most confident mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.core.scores import confusion_matrix, per_class_scores
from cnnlab.data.loader import normalize


@torch.inference_mode()
def predict_logits(
    model: nn.Module,
    x: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    batch_size: int = 1000,
    tta: bool = False,
    channels_last: bool = False,
) -> torch.Tensor:
    """Logits for uint8 images; with tta, the mean of the logits of x and its mirror image.

    Shapes: x (N, C, H, W) uint8 -> (N, K) float32.
    """
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = normalize(x[i : i + batch_size], mean, std)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        logits = model(xb).float()
        if tta:
            logits = (logits + model(xb.flip(3)).float()) / 2
        out.append(logits)
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


@dataclass
class EvalResult:
    """Test metrics of a classifier. Shapes: confusion (K, K), rows are true classes."""

    accuracy: float
    loss: float
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]
    confusion: list[list[int]]
    classes: list[str]
    probs: torch.Tensor = field(repr=False)
    preds: torch.Tensor = field(repr=False)

    def per_class(self) -> list[dict[str, Any]]:
        return [
            {"class": c, "precision": p, "recall": r, "f1": f, "support": s}
            for c, p, r, f, s in zip(
                self.classes, self.precision, self.recall, self.f1, self.support, strict=True
            )
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "per_class": self.per_class(),
            "confusion": self.confusion,
        }


def metrics_from_logits(logits: torch.Tensor, y: torch.Tensor, classes: list[str]) -> EvalResult:
    """Shapes: logits (N, K), y (N,)."""
    k = len(classes)
    preds = logits.argmax(1)
    confusion = confusion_matrix(preds, y, k)
    scores = per_class_scores(confusion)
    return EvalResult(
        accuracy=float((preds == y).float().mean()) if len(y) else 0.0,
        loss=float(F.cross_entropy(logits, y)) if len(y) else 0.0,
        precision=scores["precision"],
        recall=scores["recall"],
        f1=scores["f1"],
        support=torch.bincount(y, minlength=k).tolist(),
        confusion=confusion.tolist(),
        classes=list(classes),
        probs=logits.softmax(1),
        preds=preds,
    )


def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    classes: list[str],
    mean: Sequence[float],
    std: Sequence[float],
    tta: bool = False,
    channels_last: bool = False,
) -> EvalResult:
    """Evaluate on uint8 images. Shapes: x (N, C, H, W) uint8, y (N,) int64."""
    logits = predict_logits(model, x, mean, std, tta=tta, channels_last=channels_last)
    return metrics_from_logits(logits, y, classes)


def worst_mistakes(result: EvalResult, y: torch.Tensor, n: int = 24) -> list[dict[str, Any]]:
    """The n wrong predictions made with the highest confidence."""
    wrong = torch.nonzero(result.preds != y).flatten()
    conf = result.probs[wrong, result.preds[wrong]]
    order = wrong[conf.argsort(descending=True)][:n]
    return [
        {
            "index": int(i),
            "true": result.classes[int(y[i])],
            "pred": result.classes[int(result.preds[i])],
            "confidence": round(float(result.probs[i, result.preds[i]]), 4),
        }
        for i in order
    ]
