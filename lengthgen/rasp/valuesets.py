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
``position``
    a token's place: ``indices``, a constant offset of it, a max or min
    over positions, a read of one position through a one-key selector.
``count``
    how many keys a selector picks: ``selector_width``, a constant offset
    of it, a max or min over counts, a one-key read of a count.
``number``
    a mean over several positions: fractions whose resolution grows with
    the length.  ``mean(indices == 0)`` over every position is 1/(i+1), from
    which a map would recover the position; so a mean is a number, not a
    token, and can only be compared with a constant or shifted by one.

Unbounded kinds compare only like with like (``comparable``): positions
with positions, counts with counts, either with a bounded value (a token
read as a place or an amount), numbers with constants only.  A count
compared with a position turns counting into index arithmetic (the count
of a range is a difference of positions; the count of a union doubles
one), and a mean compared with a mean multiplies and divides positions.

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

UNBOUNDED = ("position", "count", "number")
BOOLEAN = frozenset([0.0, 1.0])
# enumerating a map's outputs stays cheap: vocabularies are small
MAX_ENUMERATED = 100_000
_OFFSET = re.compile(r"^(x [+-] -?\d+(\.\d+)?|-?\d+(\.\d+)? \+ x)$")

KIND_WORDS = {
    "position": "a position-valued sequence (grows with the length)",
    "count": "a count (selector_width: grows with the length)",
    "number": "a mean over several positions (fractions whose resolution grows with the length)",
}


def describe(node: Node) -> str:
    return KIND_WORDS.get(node.vkind, "a bounded sequence")


def combined_kind(nodes: Iterable[Node]) -> str | None:
    """The kind of a value that may come from any of ``nodes`` (``where``);
    None when it would mix two unbounded kinds (a position or a count: no
    later rule could tell which it is)."""
    kinds = {n.vkind for n in nodes} - {"token"}
    if len(kinds) > 1:
        return None
    return kinds.pop() if kinds else "token"


SIMPLE_DENOMINATOR = 16


def reach(kind: str, value: float) -> float:
    """How far (in length) comparing a ``kind`` sequence with ``value`` can
    tell lengths apart.  For a position or a count, the value itself.  For a
    number (a mean: a fraction whose denominator grows with the length) the
    threshold's distance to the simple fractions a/b, b <= 16, that it is
    not: 0.51 separates ratios near 1/2 up to n = 1/(2 x 0.01) = 50, and 0.02
    separates 1/n from 0 up to n = 50, while 0.5 itself (a majority) reaches
    no further than its neighbours 7/15 and 8/15 do.

    >>> reach("count", 7.0), reach("number", 0.02), round(reach("number", 0.51))
    (7.0, 50.0, 50)
    >>> reach("number", 0.5) < 5
    True
    """
    v = abs(value)
    if kind != "number":
        return v
    best = 0.0
    for b in range(1, SIMPLE_DENOMINATOR + 1):
        a = round(value * b)
        for q in (a - 1, a, a + 1):
            gap = abs(value - q / b)
            if gap > 1e-12:
                best = max(best, 1.0 / (b * gap))
    return min(best, 1e6)


def is_constant(node: Node) -> bool:
    """A bounded sequence with one value everywhere (``full(c)``, a map of one)."""
    return node.vkind == "token" and node.values is not None and len(node.values) == 1


def comparable(a: Node, b: Node) -> str | None:
    """None when ``a`` and ``b`` may be compared (in a select or element-wise),
    else the reason, in words.

    >>> from lengthgen.rasp.compiler import compile_source
    >>> prog = compile_source("w = selector_width(select(tokens, tokens, ==)); output = w;")
    >>> comparable(prog.names["w"], prog.graph.indices())
    'a count (selector_width: grows with the length) with a position-valued sequence (grows with the length)'
    """
    kinds = {a.vkind, b.vkind}
    if kinds <= {"token", "position"} or kinds <= {"token", "count"}:
        return None
    if kinds == {"number", "token"} and is_constant(a if b.vkind == "number" else b):
        return None
    first, second = (a, b) if a.vkind != "token" else (b, a)
    if kinds == {"number"}:
        return f"{describe(a)} with another (a ratio of two means can be any function of the position)"
    if "number" in kinds:
        return f"{describe(first)} with {describe(second)} (a number compares only with a constant)"
    return f"{describe(first)} with {describe(second)}"


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
    if node.op == "map" and node.vkind == "position":
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
