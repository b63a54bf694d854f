"""Segmentation loss, metrics and paired augmentation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics.functional.classification import multiclass_jaccard_index

from cnnlab.tasks.segment.metrics import SegConfusion, augment_pair, dice_ce_loss, seg_metrics

# 2 images of 2x3 pixels, 4 classes; class 3 is in neither prediction nor truth
PRED = torch.tensor([[[0, 0, 1], [1, 2, 2]], [[0, 1, 1], [0, 0, 2]]])
TRUTH = torch.tensor([[[0, 1, 1], [1, 2, 0]], [[0, 1, 1], [0, 2, 2]]])


def test_iou_and_dice_by_hand():
    s = seg_metrics(PRED, TRUTH, 4)
    # (pred, truth) pairs of the 12 pixels: (0,0) x3, (1,1) x4, (2,2) x2, (0,1), (0,2), (2,0)
    #   class 0: tp 3, fp 2, fn 1 -> IoU 3/6, Dice 6/9
    #   class 1: tp 4, fp 0, fn 1 -> IoU 4/5, Dice 8/9
    #   class 2: tp 2, fp 1, fn 1 -> IoU 2/4, Dice 4/6
    #   class 3: absent from both -> NaN, left out of the means
    expect_iou = [3 / 6, 4 / 5, 2 / 4]
    expect_dice = [6 / 9, 8 / 9, 4 / 6]
    assert s.iou[:3].tolist() == pytest.approx(expect_iou)
    assert s.dice[:3].tolist() == pytest.approx(expect_dice)
    assert math.isnan(s.iou[3]) and math.isnan(s.dice[3])
    assert s.miou == pytest.approx(sum(expect_iou) / 3)
    assert s.mdice == pytest.approx(sum(expect_dice) / 3)
    assert s.pixel_acc == pytest.approx(9 / 12)
    assert int(s.confusion.sum()) == 12
    d = s.as_dict(["bg", "a", "b", "c"])
    assert d["iou/a"] == pytest.approx(0.8) and math.isnan(d["dice/c"]) and "miou" in d


def test_class_only_in_truth_scores_zero():
    s = seg_metrics(torch.zeros(1, 2, 2, dtype=torch.long), torch.tensor([[[0, 0], [0, 1]]]), 2)
    assert s.iou.tolist() == pytest.approx([3 / 4, 0.0])
    assert s.miou == pytest.approx(3 / 8)


def test_agrees_with_torchmetrics_jaccard_and_chunks():
    g = torch.Generator().manual_seed(0)
    pred = torch.randint(0, 5, (6, 9, 7), generator=g)
    truth = torch.randint(0, 4, (6, 9, 7), generator=g)  # class 4 only predicted
    whole = seg_metrics(pred, truth, 5)
    ref = multiclass_jaccard_index(pred, truth, 5, average=None)
    assert torch.allclose(whole.iou.float(), ref)
    acc = SegConfusion(5)
    for i in range(0, 6, 4):  # chunks of 4 and 2
        acc.update(pred[i : i + 4], truth[i : i + 4])
    chunked = acc.compute()
    assert torch.equal(chunked.confusion, whole.confusion)
    assert chunked.miou == whole.miou


def test_dice_ce_loss_by_hand_float64():
    logits = torch.tensor([[[[2.0, 0.0]], [[0.0, 1.0]], [[0.5, 0.5]]]], dtype=torch.float64)
    target = torch.tensor([[[0, 1]]])  # (1, 1, 2); class 2 absent
    p = logits.softmax(1)[0, :, 0]  # (K=3, 2 pixels)
    ce = -(p[0, 0].log() + p[1, 1].log()) / 2
    dice0 = 2 * p[0, 0] / (p[0].sum() + 1)
    dice1 = 2 * p[1, 1] / (p[1].sum() + 1)
    expect = ce + 0.5 * (1 - (dice0 + dice1) / 2)  # the absent class 2 is not averaged
    got = dice_ce_loss(logits, target, dice_weight=0.5)
    assert got.dtype == torch.float64
    assert torch.allclose(got, expect)
    assert torch.allclose(dice_ce_loss(logits, target, 0.0), F.cross_entropy(logits, target))
    with pytest.raises(ValueError, match="dice_weight"):
        dice_ce_loss(logits, target, -1.0)


def test_perfect_logits_give_near_zero_loss():
    target = torch.randint(0, 3, (2, 4, 5, 6))
    logits = F.one_hot(target, 3).movedim(-1, 1).double() * 50
    assert dice_ce_loss(logits, target) < 1e-6


# ---------- augmentation ----------


@st.composite
def masks(draw):
    b = draw(st.integers(1, 3))
    h, w = draw(st.integers(4, 20)), draw(st.integers(4, 20))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    # blocky masks so shapes are visible; class ids 0..4
    y = torch.randint(0, 5, (b, (h + 1) // 2, (w + 1) // 2), generator=g)
    y = y.repeat_interleave(2, 1).repeat_interleave(2, 2)[:, :h, :w]
    return y, seed


@settings(max_examples=40, deadline=None)
@given(masks(), st.floats(0, 30), st.floats(0, 0.3))
def test_image_and_mask_stay_aligned(case, rotate, shift):
    """The image is a function of the mask (mask * 20); with nearest resampling for both,
    the augmented image must still be augmented mask * 20 at every pixel (the fill, 0 in
    both, agrees with mask 0 too)."""
    y, seed = case
    x = (y * 20).to(torch.uint8)[:, None].repeat(1, 2, 1, 1)  # (B, 2, H, W)
    g = torch.Generator().manual_seed(seed)
    ax, ay = augment_pair(
        x, y, g, rotate=rotate, shift=shift, scale=(0.8, 1.25), interpolation="nearest"
    )
    assert ax.shape == x.shape and ay.shape == y.shape
    assert ax.dtype == torch.uint8 and ay.dtype == torch.int64
    assert torch.equal(ax.long(), (ay * 20)[:, None].expand_as(ax))


def test_augmentation_changes_things_and_is_seeded():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (8, 16, 16), generator=g)
    x = (y * 50).to(torch.uint8)[:, None]
    a1 = augment_pair(x, y, torch.Generator().manual_seed(5))
    a2 = augment_pair(x, y, torch.Generator().manual_seed(5))
    assert torch.equal(a1[0], a2[0]) and torch.equal(a1[1], a2[1])
    assert not torch.equal(a1[1], y)
    assert set(torch.unique(a1[1]).tolist()) <= {0, 1, 2}  # nearest: no invented labels


def test_bilinear_image_stays_close_to_mask():
    y = torch.zeros(4, 32, 32, dtype=torch.long)
    y[:, 8:24, 10:22] = 3  # one big block per image
    x = (y * 20).to(torch.uint8)[:, None]
    ax, ay = augment_pair(x, y, torch.Generator().manual_seed(1), rotate=20, shift=0.1)
    diff = (ax[:, 0].float() - ay.float() * 20).abs()
    assert (diff < 1).float().mean() > 0.9  # disagreement only along the block's edge


def test_3d_flips_move_image_and_mask_together():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 4, (6, 5, 6, 7), generator=g)
    x = (y * 10).to(torch.uint8)[:, None]
    ax, ay = augment_pair(x, y, torch.Generator().manual_seed(3))
    assert torch.equal(ax[:, 0].long(), ay * 10)
    assert not torch.equal(ay, y)
    for i in range(6):  # each sample is y flipped along some subset of axes
        options = [torch.flip(y[i], [a for a in range(3) if bits >> a & 1]) for bits in range(8)]
        assert any(torch.equal(ay[i], o) for o in options)


@pytest.mark.parametrize(
    ("kw", "word"),
    [({"rotate": -1}, "rotate"), ({"shift": 0.6}, "shift"), ({"scale": (1.2, 1.0)}, "scale"),
     ({"interpolation": "cubic"}, "interpolation")],
)  # fmt: skip
def test_bad_augment_arguments(kw, word):
    y = torch.zeros(1, 8, 8, dtype=torch.long)
    with pytest.raises(ValueError, match=word):
        augment_pair(y[:, None].float(), y, torch.Generator(), **kw)
    with pytest.raises(ValueError, match="pair"):
        augment_pair(torch.zeros(1, 1, 8, 9), y, torch.Generator())
