"""One Registry class for models, datasets, init schemes and studies."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cnnlab.core.errors import CnnlabError


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'cnn-bn'?)' for a near miss of one of `known`, else ''."""
    known = list(known)
    bare = {k.lstrip("-"): k for k in known}  # options are compared without their dashes
    close = difflib.get_close_matches(str(name).lstrip("-"), list(bare), n=1, cutoff=0.7)
    return f" (did you mean {bare[close[0]]!r}?)" if close else ""


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """The one-line message for an unknown name: the near miss, then every known name."""
    known = list(known)
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}; choose one of: {', '.join(known)}"


@dataclass(frozen=True)
class Entry:
    name: str
    target: Callable[..., Any]  # the factory, or (lazy) a function that imports and returns it
    config: type | None = None
    help: str = ""
    task: str = ""  # which task the entry serves (models: classify, segment, autoencode, ...)
    lazy: bool = False  # the factory's module is imported on first use (a fast command line)
    facts: dict[str, Any] = field(default_factory=dict)  # what must be known before loading

    @property
    def factory(self) -> Callable[..., Any]:
        return self.target() if self.lazy else self.target


class Registry:
    """Names to factories. A duplicate name is an error; an unknown name lists the known ones."""

    def __init__(self, kind: str, error: type[CnnlabError] = CnnlabError) -> None:
        self.kind = kind
        self._error = error
        self._entries: dict[str, Entry] = {}

    def register(
        self, name: str, config: type | None = None, help: str = "", task: str = ""
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            lines = (getattr(factory, "__doc__", None) or "").strip().splitlines()
            doc = help or (lines[0] if lines else "")
            self._entries[name] = Entry(name, factory, config, doc, task)
            return factory

        return deco

    def add_lazy(
        self,
        name: str,
        load: Callable[[], Any],
        config: type | None = None,
        help: str = "",
        **facts: Any,
    ) -> None:
        """An entry whose factory `load()` imports on first use; `config`, `help` and `facts`
        are known without importing it."""  # fmt: skip
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, load, config, help, lazy=True, facts=facts)

    def get(self, name: str) -> Entry:
        if name not in self._entries:
            raise self._error(unknown(self.kind, name, self.names()))
        return self._entries[name]

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.get(name).factory(*args, **kwargs)

    def subset(self, kind: str, task: str) -> Registry:
        """The entries of one task, as a registry of their own (a view made once)."""
        sub = Registry(kind, self._error)
        sub._entries = {n: e for n, e in self._entries.items() if e.task == task}
        return sub

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())
