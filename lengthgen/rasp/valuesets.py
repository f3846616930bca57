"""Static value analysis behind the RASP-L checks.

RASP-L (Zhou et al., 2023) lets a program compute freely on values drawn
from a set whose size does not depend on the input length (tokens,
constants, small maps of those) and only compare values that grow with
the length.  A program that could map a length-dependent value would read
off positions and do arbitrary index arithmetic, which a transformer
cannot do for all lengths.  Every sequence node therefore carries a kind:

``token``
    bounded: its values come from a set fixed independently of the length.
    When that set is known (a task's vocabulary), it is kept in
    ``Node.values`` so the checks can tell numbers from symbols.
``index``
    a whole number that grows with the length: ``indices``,
    ``selector_width``, a constant offset of those, a max over them.
``number``
    a mean over several positions: fractions whose resolution grows with
    the length.  ``mean(indices == 0)`` over every position is 1/(i+1), from
    which a map would recover the position; so a mean is a number, not a
    token, and like an index it can only be compared or shifted by a
    constant.

A mean keeps its values' kind when its selector provably picks at most one
key per query (a *gather*): ``select(indices + c, q, ==)`` and any ``&``
with such a selector.  For other means over a known token set that
contains symbols the program is refused: averaging two symbols' codes can
alias a third symbol.  Use ``max`` to read one value through such a
selector.

    >>> from lengthgen.rasp.compiler import compile_source
    >>> compile_source("output = aggregate(select(tokens, tokens, true), indices == 0);").output.vkind
    'number'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lengthgen.rasp.graph import Node
from lengthgen.rasp.lambdas import Lambda

UNBOUNDED = ("index", "number")
BOOLEAN = frozenset([0.0, 1.0])
# enumerating a map's outputs stays cheap: vocabularies are small
MAX_ENUMERATED = 100_000
_OFFSET = re.compile(r"^(x [+-] -?\d+(\.\d+)?|-?\d+(\.\d+)? \+ x)$")

KIND_WORDS = {
    "index": "an index-valued sequence (grows with the length)",
    "number": "a mean over several positions (fractions whose resolution grows with the length)",
}


def describe(node: Node) -> str:
    return KIND_WORDS.get(node.vkind, "a bounded sequence")


def combined_kind(nodes: Iterable[Node]) -> str:
    """The kind of a value that may come from any of ``nodes`` (``where``)."""
    kinds = {n.vkind for n in nodes}
    return "number" if "number" in kinds else "index" if "index" in kinds else "token"


def union(sets: Iterable[frozenset | None]) -> frozenset | None:
    out: set = set()
    for values in sets:
        if values is None:
            return None
        out |= values
    return frozenset(out)


def mapped(fn: Lambda, *inputs: frozenset | None) -> frozenset | None:
    """The set of outputs of ``fn`` over every combination of its inputs'
    values, or None when an input is unknown or the product is too large."""
    if any(v is None for v in inputs):
        return None
    total = 1
    for values in inputs:
        total *= len(values)
    if total > MAX_ENUMERATED:
        return None
    combos: list[tuple] = [()]
    for values in inputs:
        combos = [c + (v,) for c in combos for v in values]
    return frozenset(fn.scalar(*c) for c in combos)


def is_position_code(node: Node) -> bool:
    """``indices`` or ``indices`` shifted by a constant: a different value at
    every position, so an equality select on it picks at most one key."""
    if node.op == "indices":
        return True
    if node.op == "map" and node.vkind == "index":
        fn = node.attr("fn")
        return bool(_OFFSET.match(fn.source.strip())) and is_position_code(node.args[0])
    return False


def position_offset(node: Node) -> float | None:
    """c for ``indices + c`` (built by the compiler as a chain of offset maps)."""
    if node.op == "indices":
        return 0.0
    if is_position_code(node):
        inner = position_offset(node.args[0])
        fn = node.attr("fn")
        return None if inner is None else inner + fn.scalar(0.0)
    return None


def selects_at_most_one(sel: Node) -> bool:
    if sel.op == "select":
        return sel.attr("pred") == "==" and is_position_code(sel.args[0])
    if sel.op == "sel_and":
        return selects_at_most_one(sel.args[0]) or selects_at_most_one(sel.args[1])
    return False


def never_selects(sel: Node) -> bool:
    """``select(indices + a, indices + b, pred)`` that no query can satisfy
    with a key at or before it (the causal mask): a look-ahead, always empty."""
    if sel.op != "select":
        return False
    a, b = position_offset(sel.args[0]), position_offset(sel.args[1])
    if a is None or b is None:
        return False
    d = b - a  # key j, query i: pred(j, i + d) with 0 <= j <= i
    pred = sel.attr("pred")
    return (pred in ("==", ">=") and d > 0) or (pred == ">" and d >= 0)
