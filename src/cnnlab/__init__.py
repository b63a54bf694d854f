"""cnnlab: a lecture on convolutional neural networks as working, measured software.

The names below are imported on first use (PEP 562), so `import cnnlab` and the command
line's help and errors do not wait for torch."""

from typing import Any

from cnnlab.core.errors import CnnlabError
from cnnlab.core.version import VERSION as __version__

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
    "locate",
    "predict",
    "rl",
    "segment",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in ("ImageData", "load_dataset"):
        from cnnlab import data as module
    elif name in ("create_model", "list_models"):
        from cnnlab import models as module
    elif name in ("EvalResult", "TrainConfig", "TrainResult", "evaluate", "load_run", "predict",
                  "train"):  # fmt: skip
        from cnnlab.tasks import classify as module
    elif name == "segment":
        from cnnlab.tasks.segment import run as module
    elif name == "locate":
        from cnnlab.tasks.locate import run as module
    elif name == "rl":
        from cnnlab.tasks.rl import run as module
    else:
        raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")
    return getattr(module, name)
