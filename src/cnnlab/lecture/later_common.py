"""What the later CNN sections share: their budgets per level (QUICK, FULL and TINY, the test
suite's level) and a helper for reading them. quick keeps the five sections (transfer learning
and its guide, weight initialization, autoencoders, convolutional autoencoders) to about 100 s
on 2 cores; full uses the budgets of docs/transfer.md, docs/initialization.md and
docs/autoencoders.md."""

from __future__ import annotations

from typing import Any

from cnnlab.lecture.book import Context

PART = "CNNs"

QUICK: dict[str, dict[str, Any]] = {
    # the backbone: cnn-bn on Fashion-MNIST; the target: `target_limit` letters (glyphs)
    "transfer": {"epochs": 1, "train_limit": 10000, "target_limit": 100, "target_epochs": 15,
                 "strategies": "head,retrain", "imagenet": False},
    "transfer-guide": {"small": 10, "large": 100, "seeds": 1, "epochs": 2, "small_epochs": 8,
                       "batch_size": 32, "backbone_epochs": 1, "train_limit": 2000,
                       "test_limit": 200, "similarity_n": 100},
    "init": {"epochs": 1, "seeds": 1, "train_limit": 2000},
    "autoencoders": {"epochs": 2, "train_limit": 5000, "batch_size": 32, "val_fraction": 0.02},
    "conv-autoencoders": {"epochs": 2, "train_limit": 4000, "batch_size": 32,
                          "val_fraction": 0.02, "noise": "0.3", "dense": False},
}  # fmt: skip
FULL: dict[str, dict[str, Any]] = {
    "transfer": {"epochs": 5, "train_limit": None, "target_limit": 200, "target_epochs": 30,
                 "strategies": "head,early,retrain", "imagenet": True},
    "transfer-guide": {"small": None, "large": None, "seeds": None, "epochs": None,
                       "small_epochs": None, "batch_size": None, "backbone_epochs": None,
                       "train_limit": None, "test_limit": None, "similarity_n": None},
    "init": {"epochs": 2, "seeds": 3, "train_limit": None},
    "autoencoders": {"epochs": 5, "train_limit": None, "batch_size": None, "val_fraction": None},
    "conv-autoencoders": {"epochs": 5, "train_limit": None, "batch_size": None,
                          "val_fraction": None, "noise": "0.3", "dense": True},
}  # fmt: skip


TINY: dict[str, dict[str, Any]] = {  # the test suite's level: every command once, seconds
    "transfer": {"epochs": 1, "train_limit": 500, "target_limit": 50, "target_epochs": 2,
                 "strategies": "head,retrain", "imagenet": False},
    "transfer-guide": {"small": 4, "large": 100, "seeds": 1, "epochs": 1, "small_epochs": 2,
                       "batch_size": 64, "backbone_epochs": 1, "train_limit": 300,
                       "test_limit": 50, "similarity_n": 40},
    "init": {"epochs": 1, "seeds": 1, "train_limit": 500},
    "autoencoders": {"epochs": 1, "train_limit": 300, "batch_size": 64, "val_fraction": 0.01},
    "conv-autoencoders": {"epochs": 1, "train_limit": 300, "batch_size": 64,
                          "val_fraction": 0.01, "noise": "0.3", "dense": False},
}  # fmt: skip
BUDGETS = {"quick": QUICK, "full": FULL, "tiny": TINY}


def budget(ctx: Context, key: str) -> dict[str, Any]:
    return dict(BUDGETS[ctx.level][key])
