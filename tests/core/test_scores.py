"""core/scores.py against torchmetrics (the reference it replaced, to keep torchmetrics'
4-s import out of every training process): the confusion matrix and per-class precision,
recall and F1, with classes that are never predicted or never true."""

from __future__ import annotations

import pytest
import torch
from torchmetrics.functional.classification import (
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)

from cnnlab.core.scores import confusion_matrix, per_class_scores


@pytest.mark.parametrize("seed", range(5))
def test_scores_equal_torchmetrics_with_absent_classes(seed):
    g = torch.Generator().manual_seed(seed)
    k, n = 7, 300
    target = torch.randint(0, k - 1, (n,), generator=g)  # class 6 is never true
    pred = torch.where(torch.rand(n, generator=g) < 0.6, target,
                       torch.randint(0, k, (n,), generator=g))  # fmt: skip
    pred[pred == 2] = 3  # class 2 is never predicted
    cm = confusion_matrix(pred, target, k)
    assert torch.equal(cm, multiclass_confusion_matrix(pred, target, k).long())
    got = per_class_scores(cm)
    kw = {"num_classes": k, "average": "none", "zero_division": 0}
    for name, fn in (("precision", multiclass_precision), ("recall", multiclass_recall),
                     ("f1", multiclass_f1_score)):  # fmt: skip
        assert got[name] == pytest.approx(fn(pred, target, **kw).tolist(), abs=1e-6), name
    assert got["precision"][2] == 0.0 and got["recall"][6] == 0.0 and got["f1"][6] == 0.0


def test_confusion_rows_are_true_classes_and_bad_ids_are_refused():
    cm = confusion_matrix(torch.tensor([1, 1, 0]), torch.tensor([0, 1, 0]), 2)
    assert cm.tolist() == [[1, 1], [0, 1]]  # one 0 taken for a 1
    assert confusion_matrix(torch.tensor([[1]]), torch.tensor([[1]]), 3).sum() == 1
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        confusion_matrix(torch.tensor([2]), torch.tensor([0]), 2)
    with pytest.raises(ValueError, match="differ"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2)
