"""Tasks: one folder per task, each a Task (engine/task.py) with its config dataclass, data
binding, loss and metrics (`step(batch, stage)`), predict and report section. TASKS lists them
by name; the command line is generated from it (one command per task, one --resume)."""

from cnnlab.core.registry import Registry
from cnnlab.tasks.autoencode.task import AutoencodeTask
from cnnlab.tasks.classify.task import ClassifyTask
from cnnlab.tasks.segment.task import SegTask

TASKS = Registry("task")
for _task in (ClassifyTask, SegTask, AutoencodeTask):
    TASKS.register(_task.name, _task.config_cls, _task.help)(_task)

__all__ = ["TASKS"]
