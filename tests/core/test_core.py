"""core/: the Registry (task tags and per-task views), free names that never overwrite, atomic
writes, and the config helpers every task's config uses."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cnnlab.core.config import check_ranges, inherit_arg_docs, make_config
from cnnlab.core.errors import CnnlabError, ConfigError
from cnnlab.core.io import atomic_write, free_folder, free_name, new_folder
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
        check_ranges(self, {"size": self.size >= 1, "speed": self.speed > 0})


def test_make_config_names_the_bad_key_or_value():
    assert make_config(Child, {"size": 2}, speed=3.0) == Child(2, 3.0)
    with pytest.raises(ConfigError, match="unknown toy option\\(s\\) colour; see Child"):
        make_config(Child, None, "toy", colour="red")
    with pytest.raises(ConfigError, match="size = 0 is out of range"):
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
