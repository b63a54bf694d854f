"""The one model registry: every entry of every task builds with its default config, maps the
task's input to the task's output shape, rebuilds from a run's model.json description, and
fails in one line on an unknown option. A new model is tested here without a new test."""

from __future__ import annotations

import pytest
import torch

from cnnlab.core.errors import ModelError
from cnnlab.engine.runs import ModelMeta
from cnnlab.models import ALL_MODELS, TASK_MODELS, create_task_model

IN, H, W = 1, 28, 28
OUT = {"classify": 10, "autoencode": IN, "segment": 3, "transfer": 4, "text": 3, "keywords": 12,
       "rl": 6, "locate": 4}  # fmt: skip
RL = (36, 36)  # Q-networks: nature-cnn strides by 8 in all
VOCAB, LENGTH = 50, 16  # text models take token ids (B, LENGTH) of a VOCAB-word vocabulary
BACKBONE = {"run": {"model": "cnn-small", "config": {}, "in_channels": 1, "num_classes": 5,
                    "input_size": [28, 28], "task": "classify"}}  # fmt: skip
TRANSFERRED = {"backbone": BACKBONE, "backbone_input": (1, 28, 28), "backbone_mean": (0.5,),
               "backbone_std": (0.25,), "target_mean": (0.4,), "target_std": (0.3,),
               "strategy": "early", "cut": "conv.2", "grid": 2}  # fmt: skip
ENTRIES = [(e.task, e.name) for e in ALL_MODELS]


def _build(task: str, name: str, **config) -> torch.nn.Module:
    if task == "transfer":
        config = {**TRANSFERRED, **config}
    if task == "text":
        return create_task_model(task, name, VOCAB, OUT[task], (LENGTH,), **config)
    if task == "rl":
        return create_task_model(task, name, IN, OUT[task], RL, **config)
    return create_task_model(task, name, IN, OUT[task], (H, W), **config)


def test_every_task_has_example_shapes_here():
    # a new task's models are tested once its output size is given in OUT (and its shape below)
    assert set(TASK_MODELS) == set(OUT)


def test_every_entry_has_a_task_a_config_and_a_description():
    assert {task for task, _ in ENTRIES} == set(TASK_MODELS)
    for e in ALL_MODELS:
        assert e.task in TASK_MODELS and e.config is not None and e.help, e.name
        assert e.name in TASK_MODELS[e.task]


@pytest.mark.parametrize(("task", "name"), ENTRIES, ids=[n for _, n in ENTRIES])
def test_entry_maps_its_tasks_input_to_its_tasks_output(task: str, name: str):
    torch.manual_seed(0)
    model = _build(task, name).eval()
    x = torch.randint(1, VOCAB, (2, LENGTH)) if task == "text" else torch.rand(2, IN, H, W)
    x = torch.rand(2, IN, *RL) if task == "rl" else x
    with torch.no_grad():
        out = model(x)
    want = {"classify": (2, 10), "transfer": (2, 4), "autoencode": (2, IN, H, W),
            "segment": (2, 3, H, W), "text": (2, 3), "keywords": (2, 12),
            "rl": (2, 6), "locate": (2, 4)}[task]  # fmt: skip
    assert tuple(out.shape) == want
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(("task", "name"), ENTRIES, ids=[n for _, n in ENTRIES])
def test_entry_rebuilds_from_its_model_json_description(task: str, name: str):
    torch.manual_seed(0)
    model = _build(task, name)
    config = TRANSFERRED if task == "transfer" else {}
    c, size = (VOCAB, (LENGTH,)) if task == "text" else (IN, RL if task == "rl" else (H, W))
    meta = ModelMeta(name, config, c, OUT[task], size, [], (0.5,), (0.25,), task=task)
    again = meta.build()
    again.load_state_dict(model.state_dict())  # the same architecture, key for key
    assert type(again) is type(model)


@pytest.mark.parametrize(("task", "name"), ENTRIES, ids=[n for _, n in ENTRIES])
def test_unknown_option_is_one_line(task: str, name: str):
    with pytest.raises(ModelError, match=f"model '{name}' has no option 'bogus'") as info:
        _build(task, name, bogus=1)
    assert "\n" not in str(info.value)


def test_a_classifier_name_is_unknown_to_other_tasks():
    with pytest.raises(ModelError, match="unknown segmentation model 'cnn-bn'; choose one of"):
        create_task_model("segment", "cnn-bn", 1, 3, (32, 32))
