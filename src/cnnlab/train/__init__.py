"""Training: the loop, evaluation, run folders, prediction."""

from cnnlab.train.api import load_run, make_config, train
from cnnlab.train.config import TrainConfig
from cnnlab.train.evaluate import EvalResult, evaluate, predict_logits
from cnnlab.train.loop import Trainer, TrainResult
from cnnlab.train.predict import Prediction, predict

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
