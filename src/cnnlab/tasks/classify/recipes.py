"""Training recipes: named sets of `cnnlab train` options measured on Fashion-MNIST
(docs/benchmarks.md, benchmarks/time_to_accuracy.py). `--recipe fast` sets them; any option
typed beside it wins. Light: no torch."""

from __future__ import annotations

from typing import Any

from cnnlab.core.errors import ConfigError

RECIPES: dict[str, dict[str, Any]] = {
    # 8 epochs of a BN CNN with a flattening head, SGD at 0.2, mirrored training images and
    # the mirror averaged in at test time, every training image used (no validation split):
    # about 93.1 % in under a minute on 2 cores (6 epochs without flips: 92.56 %)
    "fast": {
        "model": "cnn-bn", "model_args": {"pool": "flatten", "pool_before_norm": True},
        "optimizer": "sgd", "lr": 0.2, "augment": "flip", "epochs": 8, "val_fraction": 0.0,
        "tta": True,
    },
    # a wider BN CNN for 870 s (the one-cycle schedule follows the clock), flips and shifts,
    # test-time flips: about 94.4 % in 15 minutes on 2 cores
    "best": {
        "model": "cnn-bn",
        "model_args": {"stem": 32, "widths": [48, 96, 192], "convs_per_stage": [2, 2, 1],
                       "pool_before_norm": True, "pool": "flatten"},
        "optimizer": "sgd", "lr": 0.2, "augment": "flip,shift=2", "max_time": 870.0,
        "epochs": 100, "val_fraction": 0.0, "tta": True,
    },
}  # fmt: skip


def recipe_options(name: str | None) -> dict[str, Any]:
    """The options recipe `name` sets ({} for None); an unknown name is one line."""
    if name is None:
        return {}
    if name not in RECIPES:
        raise ConfigError(f"unknown recipe {name!r}; choose one of: {', '.join(RECIPES)}")
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in RECIPES[name].items()}


def with_recipe(options: dict[str, Any], typed: set[str] | None = None) -> dict[str, Any]:
    """`options` with its recipe's settings filled in: a setting is taken unless its option is
    in `typed` (the options the user gave; None: every key of `options` counts as given)."""
    recipe = recipe_options(options.get("recipe"))
    given = set(options) if typed is None else typed
    return {**options, **{k: v for k, v in recipe.items() if k not in given}}


def config_with_recipe(config: Any, overrides: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """For `cnnlab.train(config, **overrides)`: when either names a recipe, one dict with the
    recipe's settings under what was given (the overrides, a dict config's keys, a config
    object's fields that differ from their defaults); otherwise both unchanged."""
    import dataclasses

    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        base = dataclasses.asdict(config)
        typed = {f.name for f in dataclasses.fields(config) if base[f.name] != _default(f)}
    else:
        base, typed = dict(config or {}), set(config or {})
    merged = {**base, **overrides}
    if not merged.get("recipe"):
        return config, overrides
    return None, with_recipe(merged, typed | set(overrides))


def _default(f: Any) -> Any:
    import dataclasses

    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else None
