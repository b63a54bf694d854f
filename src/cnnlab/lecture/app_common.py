"""What the application sections share: their budgets per level (QUICK, FULL and TINY, the
test suite's level), a helper for reading them and a sentence for a training the time cap
stopped."""

from __future__ import annotations

from typing import Any

from cnnlab.lecture.book import Context

PART = "Applications of CNNs"

# Budgets per section. quick: the whole quick book (about 20 sections) builds in about five
# minutes on 2 cores, so these seven take about two; the work is set by epochs and steps, and
# max_time only caps a training on a busy machine (the section then says so). full: the
# budgets of docs/ (the 10-minute goal runs of segmentation and robotics capped at 5).
QUICK: dict[str, dict[str, Any]] = {
    "voice": {"voices": 20, "per_word": 3, "model": "kws-tc", "epochs": 10, "max_time": 60,
              "listen": False},
    "sentiment": {"train_limit": 3000, "epochs": 2},
    "classification": {"epochs": 1, "max_time": 60, "train_limit": 30000},
    "segmentation": {"n_train": 400, "n_val": 40, "n_test": 100, "epochs": 2, "max_time": 60},
    "unet-3d": {"n_train": 24, "n_val": 4, "n_test": 6, "size": 32, "epochs": 6,
                "max_time": 60},
    "rl": {"steps": 2000, "eval_every": 1000, "episodes": 10},
    "robotics": {"size": 32, "n_train": 600, "n_val": 100, "n_test": 100, "epochs": 8,
                 "max_time": 60, "trials": 8},
}  # fmt: skip
FULL: dict[str, dict[str, Any]] = {
    "voice": {"voices": None, "per_word": None, "model": "kws-cnn", "epochs": 20,
              "max_time": None, "listen": True},
    "sentiment": {"train_limit": None, "epochs": 4},
    "classification": {"epochs": 8, "max_time": None, "train_limit": None},
    "segmentation": {"n_train": None, "n_val": None, "n_test": None, "epochs": 100,
                     "max_time": 150},
    "unet-3d": {"n_train": None, "n_val": None, "n_test": None, "size": None, "epochs": 100,
                "max_time": 300},
    "rl": {"steps": 3000, "eval_every": 1000, "episodes": 20},
    "robotics": {"size": 64, "n_train": None, "n_val": None, "n_test": None, "epochs": 200,
                 "max_time": 300, "trials": 100},
}  # fmt: skip
TINY: dict[str, dict[str, Any]] = {  # the test suite's level: every command runs once, fast
    "voice": {"voices": 3, "per_word": 1, "model": "kws-tc", "epochs": 1, "max_time": 20,
              "listen": False},
    "sentiment": {"train_limit": 150, "epochs": 1},
    "classification": {"epochs": 1, "max_time": 10, "train_limit": 300},
    "segmentation": {"n_train": 16, "n_val": 4, "n_test": 4, "epochs": 1, "max_time": 10},
    "unet-3d": {"n_train": 2, "n_val": 1, "n_test": 1, "size": 16, "epochs": 1,
                "max_time": 10},
    "rl": {"steps": 300, "eval_every": 300, "episodes": 2},
    "robotics": {"size": 32, "n_train": 20, "n_val": 4, "n_test": 6, "epochs": 1,
                 "max_time": 10, "trials": 1},
}  # fmt: skip
BUDGETS = {"quick": QUICK, "full": FULL, "tiny": TINY}


def budget(ctx: Context, key: str) -> dict[str, Any]:
    return dict(BUDGETS[ctx.level][key])


def capped(ctx: Context, text: str, run: str, b: dict[str, Any]) -> str:
    """A sentence when the time cap stopped the training command (its output `text`) before
    its epochs were done; "" otherwise. The caps only bind on a busy or slower machine."""
    if "time budget of" not in text:
        return ""
    rows = ctx.path("runs", run, "metrics.csv").read_text().strip().splitlines()
    return (f"The {b['max_time']:g}-s time cap stopped training after {len(rows) - 1} of "
            f"{b['epochs']} epochs: this machine was busier or slower than the two free cores "
            "the quick budget is sized for. ")  # fmt: skip
