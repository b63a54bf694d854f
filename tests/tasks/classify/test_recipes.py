"""Training recipes (`--recipe fast|best`): their settings reach the run's config, options
typed beside them win, in the command line and in the Python API alike; an unknown recipe is
one line. Their accuracy is measured by benchmarks/time_to_accuracy.py, not here."""

from __future__ import annotations

import pytest
import yaml
from rich.console import Console

import cnnlab
from cnnlab.tasks.classify.config import TrainConfig
from cnnlab.tasks.classify.recipes import RECIPES, config_with_recipe, with_recipe
from conftest import cli, one_line_error


def test_typed_options_win_over_the_recipe_and_the_rest_is_the_recipes():
    got = with_recipe({"recipe": "fast", "lr": 0.05, "epochs": 5}, typed={"recipe", "lr"})
    assert got["lr"] == 0.05  # typed
    assert got["epochs"] == RECIPES["fast"]["epochs"]  # a default: the recipe's
    assert got["optimizer"] == "sgd" and got["val_fraction"] == 0.0
    config, rest = config_with_recipe(TrainConfig(recipe="best", epochs=3), {"max_time": 20.0})
    assert config is None and rest["epochs"] == 3 and rest["max_time"] == 20.0
    assert rest["tta"] is True and rest["augment"] == "flip,shift=2"
    assert config_with_recipe(None, {"lr": 0.1}) == (None, {"lr": 0.1})  # no recipe: untouched


def test_the_recipe_reaches_the_runs_config_from_the_command_line(capsys, image_folder, tmp_path):
    rc, _, err = cli(capsys, "train", "--recipe", "fast", "--data", image_folder, "--epochs", "1",
                     "--batch_size", "8", "--runs_dir", tmp_path, "--name", "r", "--progress",
                     "false")  # fmt: skip
    assert rc == 0, err
    cfg = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    fast = RECIPES["fast"]
    assert cfg["recipe"] == "fast" and cfg["epochs"] == 1 and cfg["batch_size"] == 8
    for key in ("model", "model_args", "optimizer", "lr", "augment", "val_fraction"):
        assert cfg[key] == fast[key], key


def test_the_recipe_reaches_the_runs_config_from_python(image_folder, tmp_path):
    r = cnnlab.train(data=str(image_folder), recipe="best", max_time=3.0, epochs=1, batch_size=8,
                     runs_dir=str(tmp_path), name="p", progress=False,
                     console=Console(quiet=True))  # fmt: skip
    cfg = yaml.safe_load((r.run_dir / "config.yaml").read_text())
    assert cfg["tta"] is True and cfg["model_args"]["widths"] == [48, 96, 192]
    assert cfg["max_time"] == 3.0 and cfg["epochs"] == 1


@pytest.mark.parametrize("how", ["cli", "python"])
def test_an_unknown_recipe_is_one_line(capsys, how):
    if how == "cli":
        rc, _, err = cli(capsys, "train", "--recipe", "turbo")
        one_line_error(rc, err, "recipe", "turbo")
    else:
        with pytest.raises(cnnlab.CnnlabError, match="unknown recipe 'turbo'"):
            cnnlab.train(recipe="turbo")
