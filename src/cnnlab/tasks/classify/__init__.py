"""Image classification: its config, task, evaluation, prediction and report."""

from cnnlab.tasks.classify.api import TrainResult, load_run, make_config, train
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.evaluate import EvalResult, evaluate, predict_logits
from cnnlab.tasks.classify.predict import Prediction, predict

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
