"""Tasks: one folder per task, each a Task (engine/task.py) with its config dataclass, data
binding, loss and metrics (`step(batch, stage)`), predict and report section. TASKS lists them
by name; the command line is generated from it (one command per task, one --resume), except
for a task that keeps its own command (transfer: cli/transfer.py)."""

from cnnlab.core.registry import Registry
from cnnlab.tasks.autoencode.task import AutoencodeTask
from cnnlab.tasks.classify.task import ClassifyTask
from cnnlab.tasks.segment.task import SegTask
from cnnlab.tasks.transfer.task import TransferTask

TASKS = Registry("task")
for _task in (ClassifyTask, SegTask, AutoencodeTask, TransferTask):
    TASKS.register(_task.name, _task.config_cls, _task.help)(_task)

__all__ = ["TASKS"]
