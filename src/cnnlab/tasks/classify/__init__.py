"""Image classification: its config, task, evaluation, prediction and report.

The names below are imported on first use (PEP 562), so that reading TrainConfig (the command
line does, to build `cnnlab train --help`) does not import torch."""

from typing import Any

__all__ = [
    "EvalResult",
    "Prediction",
    "TrainConfig",
    "TrainResult",
    "evaluate",
    "load_run",
    "make_config",
    "predict",
    "predict_logits",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in ("TrainResult", "load_run", "make_config", "train"):
        from cnnlab.tasks.classify import api as module
    elif name in ("EvalResult", "evaluate", "predict_logits"):
        from cnnlab.tasks.classify import evaluation as module
    elif name in ("Prediction", "predict"):
        from cnnlab.tasks.classify import prediction as module
    elif name == "TrainConfig":
        from cnnlab.tasks.classify import config as module
    else:
        raise AttributeError(f"module 'cnnlab.tasks.classify' has no attribute {name!r}")
    return getattr(module, name)
