"""core/: the Registry (task tags and per-task views), free names that never overwrite, atomic
writes, and the config helpers every task's config uses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from cnnlab.core.config import check_ranges, holds, inherit_arg_docs, make_config
from cnnlab.core.errors import CnnlabError, ConfigError, RunError
from cnnlab.core.io import (
    atomic_write,
    check_name,
    find_run,
    free_folder,
    free_name,
    new_folder,
    safe_name,
)
from cnnlab.core.registry import Registry


def test_registry_tags_entries_with_their_task_and_makes_views():
    reg = Registry("thing")
    reg.register("a", help="first", task="x")(lambda: 1)
    reg.register("b", task="y")(lambda: 2)
    view = reg.subset("x thing", "x")
    assert view.names() == ["a"] and reg.get("a").task == "x" and view.build("a") == 1
    with pytest.raises(CnnlabError, match="unknown x thing 'b'; choose one of: a"):
        view.get("b")
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(lambda: 3)


def test_free_names_never_point_at_what_exists(tmp_path):
    assert free_name(tmp_path / "a.png") == tmp_path / "a.png"
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "a-2.png").write_bytes(b"x")
    assert free_name(tmp_path / "a.png") == tmp_path / "a-3.png"
    (tmp_path / "empty").mkdir()
    assert free_folder(tmp_path / "empty") == tmp_path / "empty"  # empty: reuse it
    (tmp_path / "empty" / "f").write_text("x")
    assert free_folder(tmp_path / "empty") == tmp_path / "empty-2"
    assert new_folder(tmp_path, "run").name == "run" and new_folder(tmp_path, "run").name == "run-2"


def test_atomic_write_replaces_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "f.txt"
    atomic_write(path, "one")
    atomic_write(path, b"two")
    assert path.read_text() == "two" and [p.name for p in path.parent.iterdir()] == ["f.txt"]


@inherit_arg_docs
@dataclass(frozen=True)
class Child:
    """A config.

    Args:
        size: how big.
    """

    size: int = 1
    speed: float = 1.0

    def __post_init__(self) -> None:
        check_ranges(self, {"size": ">= 1", "speed": "> 0"})


def test_make_config_names_the_bad_key_or_value():
    assert make_config(Child, {"size": 2}, speed=3.0) == Child(2, 3.0)
    with pytest.raises(ConfigError, match="unknown toy option\\(s\\) colour; see Child"):
        make_config(Child, None, "toy", colour="red")
    with pytest.raises(ConfigError, match="size must be >= 1, got 0"):
        make_config(Child, size=0)


def test_inherited_fields_keep_their_docs():
    @dataclass(frozen=True)
    class Base:
        """Base.

        Args:
            speed: how fast.
        """

        speed: float = 1.0

    @inherit_arg_docs
    @dataclass(frozen=True)
    class Sub(Base):
        """Sub.

        Args:
            size: how big.
        """

        size: int = 1

    assert "speed: how fast." in Sub.__doc__ and "size: how big." in Sub.__doc__


@pytest.mark.parametrize(
    "rule, good, bad",
    [
        (">= 1", [1, 5, 2.5], [0, -1, None, "3", True]),
        ("> 0", [1e-9, 3], [0, -2]),
        ("[0, 1)", [0, 0.5], [1, -0.1]),
        ("(0, 1]", [1, 0.5], [0, 1.5]),
        ("None or >= 2", [None, 2], [1]),
        (("adamw", "sgd"), ["sgd"], ["adam", None]),
    ],
)
def test_range_rules_hold_for_good_values_and_break_for_bad(rule, good, bad):
    assert all(holds(v, rule) for v in good)
    assert not any(holds(v, rule) for v in bad)


def test_range_messages_state_the_rule():
    with pytest.raises(ValueError, match=r"^speed must be > 0, got -1$"):
        Child(1, -1)
    with pytest.raises(ValueError, match=r"^x must be in \[0, 1\), got 1$"):
        check_ranges(SimpleNamespace(x=1), {"x": "[0, 1)"})
    with pytest.raises(ValueError, match=r"^o must be one of adamw, sgd, got 'adam'$"):
        check_ranges(SimpleNamespace(o="adam"), {"o": ("adamw", "sgd")})


def _run(root, name: str, when: float):
    folder = root / name
    folder.mkdir(parents=True)
    for f in ("config.yaml", "model.json"):
        (folder / f).write_text("x")
        os.utime(folder / f, (when, when))
    return folder


def test_find_run_names_the_newest_run_or_the_newest_with_a_prefix(tmp_path):
    runs = tmp_path / "runs"
    old, new = _run(runs, "vgg-fashion", 1000), _run(runs, "mlp-fashion", 2000)
    (runs / "notes").mkdir()  # not a run: no config.yaml
    assert find_run("last", runs) == new
    assert find_run("last:vgg", runs) == old
    assert find_run("runs/x", runs) == Path("runs/x")  # a path stays a path
    with pytest.raises(
        RunError, match="no run in .* starts with 'cnn'; the runs are: mlp-fashion, vgg-fashion"
    ):
        find_run("last:cnn", runs)
    with pytest.raises(RunError, match="there is no run folder in .* yet"):
        find_run("last", tmp_path / "none")


def test_new_folder_gives_each_of_many_simultaneous_callers_its_own_folder(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        folders = list(pool.map(lambda _: new_folder(tmp_path, "same"), range(16)))
    assert len(set(folders)) == 16 and all(f.is_dir() and f.parent == tmp_path for f in folders)
    assert {f.name for f in folders} == {"same", *(f"same-{n}" for n in range(2, 17))}


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", ".", "", "a b", "-rf", "x\\\\y", "c:x"])
def test_check_name_refuses_anything_but_one_safe_folder_name(bad):
    with pytest.raises(ValueError, match="must be one folder name"):
        check_name(bad)


def test_check_name_keeps_safe_names_and_safe_name_repairs_the_rest():
    for good in ("cnn-bn-fashion-mnist", "run_2", "v1.0+aug", "Übung-3", "тест"):
        assert check_name(good) == good
    assert safe_name("cnn-bn-My Photos/") == "cnn-bn-My-Photos"
    assert safe_name("../../etc") == "etc" and safe_name("///") == "run"
