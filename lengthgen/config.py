"""Reading user configuration: length specs and YAML files, with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lengthgen.errors import LengthgenError
from lengthgen.registry import close_matches_hint


def parse_lengths(spec: Any, what: str = "lengths", minimum: int = 1) -> list[int]:
    """Parse a length spec into a sorted list of distinct positive lengths.

    Accepts ``"1-20"`` (inclusive range), ``"21,30,40"``, a mix
    (``"1-5,8"``), an int, or a list of ints/strings.

    >>> parse_lengths("1-3,7")
    [1, 2, 3, 7]
    """
    items: list[Any]
    if isinstance(spec, bool):
        raise LengthgenError(f"{what}: expected lengths like '1-20' or '21,30', got {spec!r}")
    if isinstance(spec, int):
        items = [spec]
    elif isinstance(spec, str):
        items = [p.strip() for p in spec.split(",")]
    elif isinstance(spec, (list, tuple)):
        items = list(spec)
    else:
        raise LengthgenError(f"{what}: expected lengths like '1-20' or '21,30', got {spec!r}")
    out: set[int] = set()
    for item in items:
        if isinstance(item, bool):
            raise LengthgenError(f"{what}: bad length {item!r}")
        if isinstance(item, int):
            lo = hi = item
        elif isinstance(item, str) and item:
            parts = item.split("-")
            try:
                if len(parts) == 1:
                    lo = hi = int(parts[0])
                elif len(parts) == 2:
                    lo, hi = int(parts[0]), int(parts[1])
                else:
                    raise ValueError
            except ValueError:
                raise LengthgenError(f"{what}: bad length {item!r} (use N, A-B or A,B,C)") from None
        else:
            raise LengthgenError(f"{what}: bad length {item!r} (use N, A-B or A,B,C)")
        if lo < minimum:
            raise LengthgenError(f"{what}: values must be >= {minimum}, got {item!r}")
        if hi < lo:
            raise LengthgenError(f"{what}: empty range {item!r} (the end is below the start)")
        out.update(range(lo, hi + 1))
    if not out:
        raise LengthgenError(f"{what}: no lengths given")
    return sorted(out)


def format_lengths(lengths: list[int]) -> str:
    """Compact inverse of :func:`parse_lengths`: ``[1, 2, 3, 7]`` -> ``"1-3,7"``."""
    runs: list[str] = []
    start = prev = None
    for x in sorted(lengths):
        if start is None:
            start = prev = x
        elif x == prev + 1:
            prev = x
        else:
            runs.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = x
    if start is not None:
        runs.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(runs)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Load a YAML mapping with ``yaml.safe_load``; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LengthgenError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LengthgenError(f"{path}: cannot read ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LengthgenError(f"{path}{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LengthgenError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def check_keys(
    data: dict[str, Any], allowed: dict[str, type | tuple[type, ...]], source: str, required: tuple[str, ...] = ()
) -> None:
    """Reject unknown keys, missing required keys and values of the wrong type."""
    for key in data:
        if key not in allowed:
            hint = close_matches_hint(str(key), list(allowed))
            raise LengthgenError(f"{source}: unknown key {key!r}{hint}; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in data:
            raise LengthgenError(f"{source}: missing required key {key!r}")
    for key, kind in allowed.items():
        if key in data and data[key] is not None:
            value = data[key]
            kinds = kind if isinstance(kind, tuple) else (kind,)
            bad_bool = isinstance(value, bool) and bool not in kinds
            if bad_bool or not isinstance(value, kinds):
                names = " or ".join(k.__name__ for k in kinds)
                raise LengthgenError(f"{source}: key {key!r} expects {names}, got {type(value).__name__} {value!r}")
