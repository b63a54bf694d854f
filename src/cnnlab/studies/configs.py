"""The studies' configurations, light: the command line (`cnnlab study NAME --help`, a bad
option) reads them without importing torch. Each study's module (studies/init.py, transfer.py,
mlp_vs_cnn.py) imports its config from here, the autoencoder studies from ae_configs.py, and
keeps it importable under its old name. What a check needs from a heavy module (an init
scheme's parser, the transfer strategies) is imported inside `__post_init__`, when a config is
made."""

from __future__ import annotations

from dataclasses import dataclass

from cnnlab.core.errors import ConfigError
from cnnlab.tasks.transfer.config import SMALL_BELOW

# ---- shared helpers ----------------------------------------------------------------------------


def split_list(text: str, what: str) -> tuple[str, ...]:
    """'mlp, cnn' -> ('mlp', 'cnn'); an empty list is a ValueError naming `what`."""
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if not items:
        raise ValueError(f"{what} must name at least one, e.g. {what}=mlp")
    return items


def class_indices(text: str, name: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2]: at least 2 class indices, else a ValueError naming `name`."""
    try:
        idx = [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise ValueError(f"{name} must be class indices like 0,1,2, got {text!r}") from None
    if len(idx) < 2:
        raise ValueError(f"{name} must name at least 2 classes, got {text!r}")
    return idx


DEFAULT_SCHEMES = (  # the init study's schemes
    "zeros,ones,uniform,uniform-rule,normal,normal-rule,truncated-normal,"
    "xavier-normal,kaiming-normal,default"
)

# ---- weight initialization (studies/init.py) ---------------------------------------------------


@dataclass(frozen=True)
class InitStudyConfig:
    """The weight initialization study: models x schemes x seeds, with the course's training
    settings (Adam at a constant lr, no augmentation, fp32).

    Args:
        data: dataset name (see cnnlab datasets) or a folder.
        model: comma-separated registered models, e.g. mlp,cnn-plain (cnn-plain: 8 conv
            layers, no BatchNorm).
        schemes: comma-separated init schemes (see cnnlab inits), with settings after a colon,
            e.g. zeros,ones,normal:std=0.1.
        epochs: passes over the training split per run.
        seeds: runs per model and scheme (seeds 0..seeds-1); the table shows mean ± std, the
            curves the mean and the spread.
        batch_size: images per step.
        lr: Adam learning rate, constant throughout (the course: 1e-3).
        val_fraction: share of the training images held out for validation, in (0, 1) (the
            course: 0.2); the final accuracy and loss are measured on it.
        train_limit: train on a class-balanced subset of this many images (default: all).
        log_every: steps averaged into one point of a loss curve (fewer when a run has under
            10 points' worth of steps).
        out: folder for result.json, figures/ and report.html (a taken folder gets -2, -3, ...).
    """

    data: str = "fashion-mnist"
    model: str = "mlp,cnn-plain"
    schemes: str = DEFAULT_SCHEMES
    epochs: int = 2
    seeds: int = 3
    batch_size: int = 100
    lr: float = 1e-3
    val_fraction: float = 0.2
    train_limit: int | None = None
    log_every: int = 25
    out: str = "runs/init-study"

    def __post_init__(self) -> None:
        for name in ("epochs", "seeds", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        from cnnlab.nn.init import parse_init  # torch: only when a config is made

        for spec in self.scheme_list:
            parse_init(spec)  # unknown schemes fail before any training

    @property
    def models(self) -> tuple[str, ...]:
        return split_list(self.model, "model")

    @property
    def scheme_list(self) -> tuple[str, ...]:
        return split_list(self.schemes, "schemes")


# ---- transfer (studies/transfer.py) ------------------------------------------------------------


@dataclass(frozen=True)
class TransferStudyConfig:
    """The four-quadrant transfer study: the backbone, the four targets, the strategies and
    their training settings.

    Args:
        data: dataset of the source and the similar target: a name (see cnnlab datasets) or
            a folder.
        source_classes: comma-separated class indices of `data` the backbone is trained on,
            e.g. 0,1,2,3,4 (at least 2).
        similar_classes: comma-separated class indices of `data` that make the similar target,
            e.g. 5,6,7,8,9 (at least 2).
        different: dataset of the different target: a name (e.g. glyphs, mnist) or a folder.
        different_classes: comma-separated class indices of `different` to keep, e.g. 0,1,2
            (default: all).
        small: images per class of the small targets (>= 2; a class-balanced subset drawn
            per seed).
        large: images per class of the large targets, more than `small` (default: all).
        strategies: comma-separated strategies to compare, from head, early, finetune,
            retrain.
        seeds: runs per strategy and quadrant (seeds 0..seeds-1); the table shows mean ± std.
        backbone: transfer from this network instead of training one: a run folder,
            imagenet:efficientnet-lite0 (offline, see docs/transfer.md) or torchvision:NAME.
            A run's own data is the source for the similarity measure; an ImageNet network has
            none here, so the guide's choice is the lecture's rule for the quadrant each target
            was built for. source_classes, backbone_model, backbone_epochs and train_limit
            then do not apply.
        image_size: the image side the backbone sees in head and early (default: its own).
        train_size: the image side in finetune and retrain, which run the backbone backward on
            every step (default: image_size).
        test_limit: test each target on this many of its test images, the same number of
            each class (default: all).
        pilot: also run the pilot (`cnnlab transfer --pilot`) in every quadrant and seed, and
            measure how often its pick is within a point of the best, against the rule.
        pilot_epochs: epochs of each pilot run.
        pilot_fraction: share of each class's training images the pilot trains on (with
            pilot_folds 1).
        pilot_folds: 1: the pilot scores on one held-out part (1 - pilot_fraction); k >= 2:
            k-fold cross-validation, every training image scored once (about k - 1 times the
            cost). 1 here, so the measured study reruns as it was; `cnnlab transfer --pilot`
            defaults to 4, which picked right in all 12 cases where one split did in 9.
        backbone_model: registered model trained on the source classes (see cnnlab models).
        backbone_epochs: epochs of the backbone's training.
        train_limit: train the backbone on a class-balanced subset of this many source images
            (default: all).
        epochs: epochs of each strategy run on a large target.
        small_epochs: epochs of each strategy run on a small target (few steps per epoch).
        lr: learning rate of the trained layers (finetune: the backbone at a tenth of it).
        batch_size: images per step on a large target.
        small_batch_size: images per step on a small target.
        similarity_n: at most this many images of each set (source, target) for the
            similarity measure (>= 4).
        small_below: the guide's size threshold: a target with fewer images per class is
            small.
        out: folder for the backbone run, result.json, table.md, figures/ and report.html (a
            taken folder gets -2, -3, ...).
    """

    data: str = "fashion-mnist"
    source_classes: str = "0,1,2,3,4"
    similar_classes: str = "5,6,7,8,9"
    different: str = "glyphs"
    different_classes: str | None = None
    small: int = 20
    large: int | None = None
    strategies: str = "head,early,finetune,retrain"
    seeds: int = 3
    backbone: str | None = None
    image_size: int | None = None
    train_size: int | None = None
    test_limit: int | None = None
    pilot: bool = False
    pilot_epochs: int = 3
    pilot_fraction: float = 0.75
    pilot_folds: int = 1
    backbone_model: str = "cnn-bn"
    backbone_epochs: int = 5
    train_limit: int | None = None
    epochs: int = 5
    small_epochs: int = 30
    lr: float = 3e-3
    batch_size: int = 128
    small_batch_size: int = 16
    similarity_n: int = 1000
    small_below: int = SMALL_BELOW
    out: str = "runs/transfer-study"

    def __post_init__(self) -> None:
        for name in ("seeds", "backbone_epochs", "epochs", "small_epochs", "batch_size",
                     "small_batch_size", "small_below", "pilot_epochs", "pilot_folds"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("image_size", "train_size"):
            if getattr(self, name) is not None and getattr(self, name) < 8:
                raise ValueError(f"{name} must be >= 8 pixels, got {getattr(self, name)}")
        if self.test_limit is not None and self.test_limit < 2:
            raise ValueError(f"test_limit must be >= 2, got {self.test_limit}")
        if not 0.0 < self.pilot_fraction < 1.0:
            raise ValueError(f"pilot_fraction must be in (0, 1), got {self.pilot_fraction}")
        if self.small < 2:
            raise ValueError(f"small must be >= 2 images per class, got {self.small}")
        if self.large is not None and self.large <= self.small:
            raise ValueError(f"large must be more than small ({self.small}), got {self.large}")
        if self.train_limit is not None and self.train_limit < 2:
            raise ValueError(f"train_limit must be >= 2, got {self.train_limit}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.similarity_n < 4:
            raise ValueError(f"similarity_n must be >= 4, got {self.similarity_n}")
        class_indices(self.source_classes, "source_classes")
        class_indices(self.similar_classes, "similar_classes")
        if self.different_classes is not None:
            class_indices(self.different_classes, "different_classes")
        from cnnlab.tasks.transfer.strategies import STRATEGIES  # torch: only when made

        unknown = [s for s in self.strategy_list if s not in STRATEGIES]
        if unknown or not self.strategy_list:
            raise ConfigError(
                f"unknown strategy {', '.join(unknown) or '(none)'} in strategies; use some of "
                f"{', '.join(STRATEGIES.names())}"
            )

    @property
    def strategy_list(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.strip() for s in self.strategies.split(",") if s.strip()))


# ---- autoencoder: compression (studies/autoencoder.py) -----------------------------------------


@dataclass(frozen=True)
class MLPvsCNNConfig:
    """The MLP vs CNN comparison: both models, their shared data and time budget, and the
    perturbed test sets.

    Args:
        data: dataset name (see cnnlab datasets) or a folder.
        mlp: the vector model, a registered model name (see cnnlab models).
        cnn: the convolutional model, a registered model name (see cnnlab models).
        budget: training seconds for each model (the same for both); must be > 0.
        epochs: most epochs each model trains; training stops earlier when the budget ends.
        shifts: test-time shifts in pixels, a list such as [2,4,6] ([] for none); each test
            image moves this far up, down, left or right.
        rotations: test-time rotations in degrees, a list such as [10,20] ([] for none);
            clockwise or counter-clockwise at random.
        augment: training augmentation of both models: none (shows the architectures' own
            invariance), auto, or e.g. "flip,shift=2,rotate=10" (as cnnlab train --augment).
        train_limit: train on a class-balanced subset of this many images (default: all).
        seed: seeds the data split, the weights, the batch order and the test perturbations.
        out: folder for the two runs, result.json, figures/ and report.html (a taken folder
            gets -2, -3, ...).
    """

    data: str = "fashion-mnist"
    mlp: str = "mlp"
    cnn: str = "cnn-bn"
    budget: float = 40.0
    epochs: int = 50
    shifts: tuple[int, ...] = (2, 4, 6)
    rotations: tuple[float, ...] = (10.0, 20.0)
    augment: str = "none"
    train_limit: int | None = None
    seed: int = 0
    out: str = "runs/mlp-vs-cnn"

    def __post_init__(self) -> None:
        if self.budget <= 0:
            raise ValueError(f"budget must be > 0 seconds, got {self.budget}")
        if any(s < 0 for s in self.shifts):
            raise ValueError(f"shifts must be >= 0 pixels, got {self.shifts}")


__all__ = [
    "InitStudyConfig",
    "MLPvsCNNConfig",
    "TransferStudyConfig",
    "DEFAULT_SCHEMES",
    "class_indices",
    "split_list",
]


@dataclass(frozen=True)
class TextCompareConfig:
    """text-cnn against its contrasts on the same splits: the bag-of-words MLP and the TF-IDF +
    logistic regression baseline, over several seeds.

    Args:
        data: tweets, a CSV/TSV file or a folder of class sub-folders (as cnnlab text).
        models: the text models compared, comma-separated (see cnnlab models).
        tokenizer: auto, bpe, word or glove (as cnnlab text --tokenizer), or several,
            comma-separated: every model is trained with each.
        seeds: how many seeds; seed s draws split s, so every model and the baseline of one
            seed see the same texts, and the spread covers both splits and weights.
        epochs: epochs of each model (None: cnnlab text's default).
        max_time: most training seconds of each model (None: no limit).
        train_limit: keep a class-balanced subset of this many training texts.
        out: folder for the runs, result.json, table.md and the figure (a taken folder gets
            -2, -3, ...).
    """

    data: str = "tweets"
    models: str = "text-cnn,bow-mlp"
    tokenizer: str = "auto"
    seeds: int = 3
    epochs: int | None = None
    max_time: float | None = None
    train_limit: int | None = None
    out: str = "runs/compare-text"

    def __post_init__(self) -> None:
        split_list(self.models, "models")
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {self.seeds}")
        bad = set(split_list(self.tokenizer, "tokenizer")) - {"auto", "bpe", "word", "glove"}
        if bad:
            raise ValueError(f"tokenizer must be auto, bpe, word or glove, got {sorted(bad)}")


@dataclass(frozen=True)
class KeywordsCompareConfig:
    """Keyword models side by side on the same clips: accuracy on both test sets (noisy,
    clean, 0 dB), parameters, multiply-accumulates, one clip's latency and training time.

    Args:
        data: keywords (the synthetic set), a .npz from cnnlab datasets make keywords, or a
            folder of WAV files with one sub-folder per word.
        models: the keyword models compared, comma-separated (see cnnlab models).
        epochs: epochs of each model (None: cnnlab keywords' default).
        max_time: most training seconds of each model (None: no limit).
        train_limit: keep a class-balanced subset of this many training clips.
        seed: the seed of every run (weights, noise, order).
        out: folder for the runs, result.json, table.md and the figure (a taken folder gets
            -2, -3, ...).
    """

    data: str = "keywords"
    models: str = "kws-cnn,kws-ds-cnn,kws-tc,kws-mlp"
    epochs: int | None = None
    max_time: float | None = None
    train_limit: int | None = None
    seed: int = 0
    out: str = "runs/compare-keywords"

    def __post_init__(self) -> None:
        split_list(self.models, "models")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
