"""Name -> object registries with helpful errors for unknown names."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from lengthgen.errors import LengthgenError

T = TypeVar("T")


def close_matches_hint(name: str, known: list[str]) -> str:
    """Return ``" (did you mean: a, b?)"`` for names close to ``name``, or ``""``."""
    matches = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if not matches:
        # Substring matches catch abbreviations ("pvr" -> "c-pvr") that
        # difflib's ratio misses.
        matches = [k for k in known if name and name in k][:3]
    return f" (did you mean: {', '.join(matches)}?)" if matches else ""


def filter_names(values: list, patterns: list[str] | None, what: str, known: list[str]) -> list:
    """The ``values`` matching any of ``patterns`` (shell wildcards); all of
    them when there are no patterns.  A pattern that matches none of
    ``known`` is an error naming close matches, so a typo in ``--what``
    never silently selects nothing.

    >>> filter_names(["parity", "reverse", "even-pairs"], ["*pa*"], "tasks", ["parity", "reverse", "even-pairs"])
    ['parity', 'even-pairs']
    """
    if not patterns:
        return values
    for pattern in patterns:
        if not any(fnmatch.fnmatch(str(v), pattern) for v in known):
            raise LengthgenError(
                f"--{what}: {pattern!r} matches nothing{close_matches_hint(pattern, [str(k) for k in known])}"
            )
    return [v for v in values if any(fnmatch.fnmatch(str(v), p) for p in patterns)]


class Registry(Generic[T]):
    """A mapping from names to entries of one kind (tasks, models, ...).

    >>> reg = Registry("widget")
    >>> @reg.register("spoon")
    ... class Spoon: ...
    >>> reg.get("spoon") is Spoon
    True
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            shown = repr(name) if len(repr(name)) <= 80 else repr(name)[:77] + "..."
            hint = close_matches_hint(str(name)[:100], list(self._entries))
            raise LengthgenError(f"unknown {self.kind} {shown}{hint}") from None

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
