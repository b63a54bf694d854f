"""Training: the loop, evaluation, run folders, prediction."""

from cnnlab.tasks.classify.api import load_run, make_config, train
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.evaluate import EvalResult, evaluate, predict_logits
from cnnlab.tasks.classify.predict import Prediction, predict
from cnnlab.tasks.classify.trainer import Trainer, TrainResult

__all__ = [
    "EvalResult",
    "Prediction",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "evaluate",
    "load_run",
    "make_config",
    "predict",
    "predict_logits",
    "train",
]
