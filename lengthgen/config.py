"""Reading user configuration: length specs and YAML files, with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lengthgen.errors import LengthgenError
from lengthgen.registry import close_matches_hint

# training precisions a run may ask for (lengthgen.runconfig.uses_autocast);
# here, not there, so that the command-line parsers need no torch
PRECISIONS = ("auto", "float32", "bf16")

MAX_LENGTH_VALUE = 10**9
MAX_LENGTH_COUNT = 100_000


def max_length_of(spec: Any) -> int | None:
    """The largest value of a length spec without expanding it (readers of
    untrusted result files use this: ``"1-99999999999"`` is one number)."""
    items = spec if isinstance(spec, (list, tuple)) else str(spec).split(",") if isinstance(spec, (str, int)) else []
    best = None
    for item in items:
        for part in str(item).split("-"):
            part = part.strip()
            if part.isdigit() and len(part) < 19:
                best = int(part) if best is None else max(best, int(part))
    return best


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
        if hi > MAX_LENGTH_VALUE or len(out) + (hi - lo + 1) > MAX_LENGTH_COUNT:
            raise LengthgenError(
                f"{what}: {short(item)} is too large (values up to {MAX_LENGTH_VALUE:,}, at most "
                f"{MAX_LENGTH_COUNT:,} of them)"
            )
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


MAX_YAML_BYTES = 1 << 20  # a config or suite is a few hundred bytes; 1 MiB is generous
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 100_000  # after alias expansion


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters: error lines stay one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_text_bounded(path: Path, limit: int, what: str = "file") -> str:
    """The text of a regular file of at most ``limit`` bytes (refuses FIFOs,
    devices such as /dev/zero and huge files before reading them whole)."""
    try:
        if not path.exists():
            raise LengthgenError(f"{path}: file not found")
        if not path.is_file():
            raise LengthgenError(f"{path}: not a regular file")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise LengthgenError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise LengthgenError(f"{path}: {what} larger than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise LengthgenError(f"{path}: not UTF-8 text") from None


class _BoundedLoader(yaml.SafeLoader):
    """safe_load with a cap on aliases and an error on duplicate keys (a
    silent last-wins hides typos in hand-written configs)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} aliases")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable keys are refused by the base class
                duplicate = False
            if duplicate:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {short(key)} (line {mark.line + 1})", mark
                )
            seen.add(key) if not isinstance(key, (list, dict)) else None
        return super().construct_mapping(node, deep=deep)


def _count_nodes(data: Any, limit: int) -> int:
    """Nodes of ``data`` as if aliases were expanded, stopping past ``limit``."""
    count, stack = 0, [data]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return count
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Load a YAML mapping safely (no Python tags, bounded size and alias
    expansion, no duplicate keys); errors name the file."""
    path = Path(path)
    text = read_text_bounded(path, MAX_YAML_BYTES, "YAML file")
    try:
        data = yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LengthgenError(f"{path}{where}: invalid YAML: {str(problem)[:200]}") from None
    except RecursionError:
        raise LengthgenError(f"{path}: YAML nested too deeply") from None
    if _count_nodes(data, MAX_YAML_NODES) > MAX_YAML_NODES:
        raise LengthgenError(f"{path}: YAML expands to more than {MAX_YAML_NODES:,} values (alias bomb?)")
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
            hint = close_matches_hint(str(key)[:100], list(allowed))
            raise LengthgenError(f"{source}: unknown key {short(key)}{hint}; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in data:
            raise LengthgenError(f"{source}: missing required key {key!r}")
    for key, kind in allowed.items():
        if key in data and data[key] is not None:
            value = data[key]
            kinds = kind if isinstance(kind, tuple) else (kind,)
            bad_bool = isinstance(value, bool) and bool not in kinds
            if bad_bool or not isinstance(value, kinds):
                names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
                raise LengthgenError(
                    f"{source}: key {key!r} expects {names}, got {type(value).__name__} {short(value)}"
                )
