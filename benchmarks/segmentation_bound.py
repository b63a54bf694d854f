"""How high can mIoU on fashion-scenes go? The test scenes with perfect outlines, each item
labelled by a Fashion-MNIST classifier that sees it alone, whole and upright (the fast
recipe stopped after 1, 2, 4 and 8 epochs), against segmentation runs measured the same way:
their items' accuracy (the majority label of each item's visible pixels) and the outline's
IoU (item pixels against background). Writes its table into docs/segmentation.md.

    python benchmarks/segmentation_bound.py                       # the classifier rows
    python benchmarks/segmentation_bound.py --runs runs/unet-fashion-scenes

Every classifier row uses the 500 test scenes of `cnnlab segment --data fashion-scenes`
(seed 0) and its items: the 10,000 Fashion-MNIST test images, none seen in training.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from _common import command, machine, write_section
from rich.console import Console

import cnnlab
from cnnlab.data.datasets import load_dataset
from cnnlab.data.scenes import SCENE_CLASSES, compose_split
from cnnlab.engine import runs
from cnnlab.tasks.classify.evaluation import predict_logits
from cnnlab.tasks.segment.metrics import seg_metrics
from cnnlab.tasks.segment.predict import predict_logits as seg_logits

DOC = Path(__file__).resolve().parents[1] / "docs" / "segmentation.md"
N_TEST, SIZE, MAX_ITEMS, SPLIT_SEED = 500, 64, 4, [0, 2]  # the segment run's test split


def miou(pred: torch.Tensor, truth: torch.Tensor) -> float:
    return seg_metrics(pred, truth, len(SCENE_CLASSES)).miou


def item_scores(pred: torch.Tensor, truth: torch.Tensor, ids: torch.Tensor) -> tuple[float, float]:
    """(share of visible items whose pixels' majority label is their class, outline IoU).
    Shapes: pred, truth, ids (N, H, W); ids = item index + 1 on its visible pixels, else 0."""
    right = total = 0
    k = len(SCENE_CLASSES)
    for p, t, i in zip(pred, truth, ids, strict=True):
        for item in i.unique()[1:]:  # 0 is the background
            on = i == item
            votes = torch.bincount(p[on], minlength=k)
            right += int(votes.argmax() == t[on][0])
            total += 1
    fg_p, fg_t = pred > 0, truth > 0
    outline = float((fg_p & fg_t).sum() / (fg_p | fg_t).sum())
    return right / max(total, 1), outline


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", default="1,2,4,8", help="the fast recipe's epochs, one row each")
    ap.add_argument("--runs", nargs="*", default=[], help="segment run folders to place beside")
    a = ap.parse_args()
    items = load_dataset("fashion-mnist", seed=0)
    args = (N_TEST, SIZE, MAX_ITEMS, SPLIT_SEED)
    images, truth = compose_split(items.test_x, items.test_y, *args)
    _, ids = compose_split(items.test_x, torch.arange(len(items.test_y)), *args)
    rows = []
    for e in [int(v) for v in a.epochs.split(",") if v]:
        with tempfile.TemporaryDirectory() as tmp:
            r = cnnlab.train(data="fashion-mnist", recipe="fast", epochs=e, runs_dir=tmp,
                             progress=False, console=Console(quiet=True))  # fmt: skip
            meta = runs.read_meta(r.run_dir)
            with torch.no_grad():
                logits = predict_logits(r.model, items.test_x, meta.mean, meta.std, tta=True)
        pred = logits.argmax(1)
        acc = float((pred == items.test_y).float().mean())
        _, oracle = compose_split(items.test_x, pred, *args)
        scene_acc, outline = item_scores(oracle, truth, ids)
        rows.append(f"| classifier, fast recipe {e} epoch{'s' * (e > 1)} (items alone: "
                    f"{acc:.1%}) | {scene_acc:.1%} | {outline:.3f} (perfect) | "
                    f"**{miou(oracle, truth):.3f}** |")  # fmt: skip
        print(rows[-1], flush=True)
    for folder in a.runs:
        model, meta = runs.load_model(Path(folder))
        with torch.no_grad():
            pred = torch.cat([seg_logits(model, meta, images[i : i + 50]).argmax(1)
                              for i in range(0, len(images), 50)])  # fmt: skip
        scene_acc, outline = item_scores(pred, truth, ids)
        name = Path(folder).name
        rows.append(f"| segment run `{name}` ({meta.model}) | {scene_acc:.1%} | {outline:.3f} | "
                    f"**{miou(pred, truth):.3f}** |")  # fmt: skip
        print(rows[-1], flush=True)
    body = f"""## How high can mIoU go? Perfect outlines, labelled by a classifier

`{command()}`: the {N_TEST} test scenes of `cnnlab segment --data fashion-scenes` with every
item's visible pixels labelled by a Fashion-MNIST classifier that saw the item alone, whole,
upright and at 28x28 (`cnnlab train --data fashion-mnist --recipe fast --epochs 4` and the
same with 1, 2 and 8 epochs, with its flip TTA), against segmentation runs scored the same
way. Item accuracy: the share of visible items whose pixels' majority label is their
class. Outline: IoU of item pixels (any class) against background.

| labeller | item accuracy in the scenes | outline IoU | mIoU |
|---|---|---|---|
{chr(10).join(rows)}

Machine: {machine()}.
"""
    write_section("segmentation-bound", body, doc=DOC)


if __name__ == "__main__":
    main()
