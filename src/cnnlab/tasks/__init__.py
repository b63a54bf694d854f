"""Tasks: one folder per task, each a Task (engine/task.py) with its config dataclass, data
binding, loss and metrics (`step(batch, stage)`), predict and report section. TASKS lists them
by name; the command line is generated from it (one command per task, one --resume), except
for a task that keeps its own command (transfer: cli/transfer.py).

The entries are lazy: a task's config, command and help are known here, its Task class (and
torch) is imported on first use, so `cnnlab --help` and a bad option answer at once. A test
checks that each entry's facts are its Task class's own."""

from cnnlab.core.registry import Registry
from cnnlab.tasks.autoencode.config import AutoencodeConfig
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.keywords.config import KeywordsConfig
from cnnlab.tasks.locate.config import LocateConfig
from cnnlab.tasks.rl.config import RLConfig
from cnnlab.tasks.segment.config import SegmentConfig
from cnnlab.tasks.text.config import TextConfig
from cnnlab.tasks.transfer.config import TransferRunConfig


def _classify() -> type:
    from cnnlab.tasks.classify.task import ClassifyTask

    return ClassifyTask


def _segment() -> type:
    from cnnlab.tasks.segment.task import SegTask

    return SegTask


def _autoencode() -> type:
    from cnnlab.tasks.autoencode.task import AutoencodeTask

    return AutoencodeTask


def _text() -> type:
    from cnnlab.tasks.text.task import TextTask

    return TextTask


def _keywords() -> type:
    from cnnlab.tasks.keywords.task import KeywordsTask

    return KeywordsTask


def _rl() -> type:
    from cnnlab.tasks.rl.task import RLTask

    return RLTask


def _locate() -> type:
    from cnnlab.tasks.locate.task import LocateTask

    return LocateTask


def _transfer() -> type:
    from cnnlab.tasks.transfer.task import TransferTask

    return TransferTask


TASKS = Registry("task")
for _name, _load, _cfg, _command, _own, _help in [
    ("classify", _classify, TrainConfig, "train", False,
     "train a classifier (MLP, CNN, VGG, ResNet); writes runs/<name>/ (docs/training.md)"),
    ("segment", _segment, SegmentConfig, "segment", False,
     "segment images or volumes (U-Net, FCN); writes runs/<name>/ (docs/segmentation.md)"),
    ("autoencode", _autoencode, AutoencodeConfig, "autoencode", False,
     "train an autoencoder, a denoiser (--noise) or a VAE; writes runs/<name>/ with PSNR,"
     " SSIM, reconstruction figures and report.html"),
    ("transfer", _transfer, TransferRunConfig, "transfer", True,
     "diagnose the transfer case and run its strategy (docs/transfer.md)"),
    ("text", _text, TextConfig, "text", False,
     "classify texts with a 1-D CNN (text-cnn, bow-mlp); writes runs/<name>/ (docs/text.md)"),
    ("keywords", _keywords, KeywordsConfig, "keywords", False,
     "spot spoken keywords with a CNN on log-mel spectrograms; writes runs/<name>/"),
    ("rl", _rl, RLConfig, "rl", False,
     "train a DQN agent that plays from pixels (q-cnn, q-mlp, nature-cnn); writes "
     "runs/<name>/ (docs/rl.md)"),
    ("locate", _locate, LocateConfig, "locate", False,
     "find an object's position on a table in a camera image (CNN, CoordConv, heat map, "
     "MLP); writes runs/<name>/ (docs/robotics.md)"),
]:  # fmt: skip
    TASKS.add_lazy(_name, _load, _cfg, _help, command=_command, own_command=_own)

__all__ = ["TASKS"]
