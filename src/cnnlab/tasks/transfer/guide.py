"""The lecture's four-case guide, measured: is the target small or large, similar or different?

small + similar    -> head      (a new classifier on the end features)
small + different  -> early     (a classifier on features from the start of the network)
large + similar    -> finetune  (the whole network from the pretrained weights)
large + different  -> finetune  (the guide says "fine-tune or retrain"; cnnlab picks
                                 finetune: it starts from weights that already detect edges
                                 and blobs, which helps at any distance, and never costs more
                                 epochs than retrain; `--strategy retrain` is there to compare)

size     images per class = the smallest class's count in the target's training split (the
         scarcest class limits what can be learned); small below SMALL_BELOW = 100.
similar  proxy A-distance below SIMILAR_BELOW = 1.8, measured on the backbone's features
         (cnnlab.tasks.transfer.similarity). Chosen between the measured values: Fashion-MNIST 5-9
         vs a backbone of classes 0-4: 1.56-1.63; glyphs vs the same backbone: 1.94-2.0.
Similarity uses the target's training and validation images (no labels needed) and up to
n = 1000 of each set. Without source data (a torchvision backbone: ImageNet is not on disk)
similarity cannot be measured and the size-only rule applies: small -> head, large ->
finetune (a pretrained ImageNet backbone is assumed similar enough to natural images).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnlab.core.errors import DataError
from cnnlab.data import ImageData
from cnnlab.tasks.transfer.backbones import Backbone
from cnnlab.tasks.transfer.config import SMALL_BELOW  # images per class
from cnnlab.tasks.transfer.similarity import Similarity, similarity

SIMILAR_BELOW = 1.8  # proxy A-distance
GUIDE = {
    ("small", True): "head",
    ("small", False): "early",
    ("large", True): "finetune",
    ("large", False): "finetune",
}


@dataclass
class Diagnosis:
    """Which case of the guide a target is in, with the numbers behind the decision.
    `similar` is None when there was no source data to compare with."""

    images_per_class: int
    size: str  # "small" | "large"
    similarity: Similarity | None
    similar: bool | None
    quadrant: str  # e.g. "small + similar"
    strategy: str
    small_below: int = SMALL_BELOW
    similar_below: float = SIMILAR_BELOW

    def text(self) -> str:
        """A few lines saying what was measured and why this strategy."""
        lines = [
            f"target: {self.images_per_class} images per class (smallest class) -> {self.size} "
            f"(small below {self.small_below})"
        ]
        s = self.similarity
        if s is None:
            lines.append(
                "similarity: not measured (no source data for this backbone); size-only rule"
            )
        else:
            word = "similar" if self.similar else "different"
            err = s.details.get("classifier_test_error", float("nan"))
            lines.append(
                f"similarity: proxy A-distance {s.proxy_a_distance:.2f} (a linear classifier "
                f"tells source from target with {err:.1%} error on {s.source_n}+{s.target_n} "
                f"images) -> {word} (similar below {self.similar_below}); feature gap "
                f"{s.feature_gap:.2f}"
            )
        lines.append(f"quadrant: {self.quadrant} -> strategy {self.strategy}")
        return "\n".join(lines)


def images_per_class(data: ImageData) -> int:
    """The smallest number of training images of any class; a class with fewer than 2 is an
    error (nothing to learn it from). Shapes: data.train_y (N,)."""
    counts = torch.bincount(data.train_y, minlength=data.num_classes)
    few = [f"{data.classes[i]} ({int(c)})" for i, c in enumerate(counts) if c < 2]
    if few:
        raise DataError(
            f"target {data.name} has fewer than 2 training images of class(es) "
            f"{', '.join(few)}; add images or leave the class out"
        )
    return int(counts.min())


def diagnose(
    backbone: Backbone,
    target: ImageData,
    source: ImageData | None = None,
    *,
    small_below: int = SMALL_BELOW,
    similar_below: float = SIMILAR_BELOW,
    n: int = 1000,
    seed: int = 0,
) -> Diagnosis:
    """Place `target` in the guide's four cases for `backbone` (trained on `source`) and name
    the strategy. No `source`: size-only rule (see the module docstring).

    Shapes: images (N, C, H, W) uint8; source and target may differ in size and channels.
    """
    if small_below < 1:
        raise ValueError(f"small_below must be >= 1, got {small_below}")
    if not 0 < similar_below <= 2:
        raise ValueError(f"similar_below must be in (0, 2], got {similar_below}")
    per_class = images_per_class(target)
    size = "small" if per_class < small_below else "large"
    if source is None:
        strategy = "head" if size == "small" else "finetune"
        return Diagnosis(
            per_class, size, None, None, f"{size} (similarity unknown)", strategy,
            small_below, similar_below,
        )  # fmt: skip
    # similarity needs no labels: all the target's own images (train + validation) steady it
    target_x = torch.cat([target.train_x, target.val_x])
    sim = similarity(backbone, source.train_x, target_x, n=n, seed=seed)
    similar = sim.proxy_a_distance < similar_below
    quadrant = f"{size} + {'similar' if similar else 'different'}"
    return Diagnosis(
        per_class, size, sim, similar, quadrant, GUIDE[(size, similar)], small_below,
        similar_below,
    )  # fmt: skip
