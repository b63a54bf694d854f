"""One Registry class for models, datasets, init schemes and studies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cnnlab.core.errors import CnnlabError


@dataclass(frozen=True)
class Entry:
    name: str
    factory: Callable[..., Any]
    config: type | None = None
    help: str = ""
    task: str = ""  # which task the entry serves (models: classify, segment, autoencode, ...)


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

    def get(self, name: str) -> Entry:
        if name not in self._entries:
            known = ", ".join(self.names())
            raise self._error(f"unknown {self.kind} {name!r}; choose one of: {known}")
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
