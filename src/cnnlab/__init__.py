"""cnnlab: a lecture on convolutional neural networks as working, measured software."""

from cnnlab.core.errors import CnnlabError
from cnnlab.data import ImageData, load_dataset
from cnnlab.models import create_model, list_models
from cnnlab.tasks.classify import (
    EvalResult,
    TrainConfig,
    TrainResult,
    evaluate,
    load_run,
    predict,
    train,
)
from cnnlab.tasks.segment.run import segment

__version__ = "0.1.0"
__all__ = [
    "CnnlabError",
    "EvalResult",
    "ImageData",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "create_model",
    "evaluate",
    "list_models",
    "load_dataset",
    "load_run",
    "predict",
    "segment",
    "train",
]
