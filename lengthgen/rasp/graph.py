"""The intermediate graph every RASP program becomes, from text or Python.

Nodes are hash-consed by a :class:`Graph`: building the same operation on
the same inputs twice returns the same node, so "number of distinct
primitive operations" is simply the number of nodes reachable from the
output (``tokens`` and ``indices`` not counted).

Each sequence node also carries a *value kind* used by the RASP-L checks
(``token``, ``index`` or ``number``; see :mod:`lengthgen.rasp.valuesets`)
and, for bounded values, the set of values when it is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lengthgen.rasp.lambdas import Lambda

PREDICATES = ("==", "!=", "<", "<=", ">", ">=", "true", "false")
REDUCTIONS = ("mean", "max", "min")
SEQ_OPS = ("tokens", "indices", "full", "map", "seq_map", "where", "aggregate", "selector_width")
SEL_OPS = ("select", "sel_and", "sel_or", "sel_not")
ATTENTION_OPS = ("aggregate", "selector_width")


@dataclass(eq=False)
class Node:
    op: str
    args: tuple[Node, ...] = ()
    attrs: tuple = ()
    vkind: str = "token"  # token | position | count | number (for sequences); "" for selectors
    values: frozenset | None = None  # the possible values of a token-kind sequence, when known
    # the values that stand for symbols (token codes such as <pad> = -1),
    # as opposed to numbers that happen to equal a code
    symbolic: frozenset = frozenset()
    label: str = ""
    loc: tuple[int, int] = (0, 0)
    uid: int = 0

    @property
    def is_selector(self) -> bool:
        return self.op in SEL_OPS

    def attr(self, name: str, default: Any = None) -> Any:
        for key, value in self.attrs:
            if key == name:
                return value
        return default

    def describe(self) -> str:
        if self.op in ("tokens", "indices"):
            return self.op
        parts = [a.name for a in self.args]
        for key, value in self.attrs:
            parts.append(f"{value!r}" if key != "fn" else repr(value))
        return f"{self.op}({', '.join(parts)})"

    @property
    def name(self) -> str:
        return self.label or f"{self.op}#{self.uid}"

    def __repr__(self) -> str:
        return f"<{self.name} = {self.describe()}>"


@dataclass
class Graph:
    """Builds interned nodes and keeps them in creation (topological) order."""

    nodes: list[Node] = field(default_factory=list)
    _index: dict[tuple, Node] = field(default_factory=dict)

    def make(
        self,
        op: str,
        args: tuple[Node, ...] = (),
        attrs: tuple = (),
        vkind: str = "token",
        loc: tuple[int, int] = (0, 0),
        values: frozenset | None = None,
        symbolic: frozenset = frozenset(),
    ) -> Node:
        key = (op, tuple(a.uid for a in args), tuple((k, v.key if isinstance(v, Lambda) else v) for k, v in attrs))
        found = self._index.get(key)
        if found is not None:
            return found
        node = Node(op, args, attrs, vkind if op not in SEL_OPS else "", loc=loc, uid=len(self.nodes))
        node.values = values if node.vkind == "token" else None
        node.symbolic = symbolic if node.vkind == "token" else frozenset()
        self._index[key] = node
        self.nodes.append(node)
        return node

    def tokens(self, values: frozenset | None = None, symbolic: frozenset = frozenset()) -> Node:
        node = self.make("tokens", values=values, symbolic=symbolic)
        node.label = "tokens"
        return node

    def indices(self) -> Node:
        node = self.make("indices", vkind="position")
        node.label = "indices"
        return node


def reachable(output: Node) -> list[Node]:
    """Nodes the output depends on, in a valid evaluation order."""
    seen: dict[int, Node] = {}
    stack = [output]
    while stack:
        node = stack.pop()
        if node.uid in seen:
            continue
        seen[node.uid] = node
        stack.extend(node.args)
    return sorted(seen.values(), key=lambda n: n.uid)


@dataclass(frozen=True)
class ProgramStats:
    length: int
    attention_depth: int
    selects: int
    aggregates: int
    maps: int

    def as_dict(self) -> dict[str, int]:
        return {
            "length": self.length,
            "depth": self.attention_depth,
            "selects": self.selects,
            "aggregates": self.aggregates,
            "maps": self.maps,
        }


def program_stats(output: Node) -> ProgramStats:
    """Program length = distinct primitive operations (``tokens``/``indices``
    excluded); attention depth = most aggregate/selector_width operations on
    any path (each is one attention layer)."""
    nodes = reachable(output)
    depth: dict[int, int] = {}
    for node in nodes:
        below = max((depth[a.uid] for a in node.args), default=0)
        depth[node.uid] = below + (node.op in ATTENTION_OPS)
    ops = [n for n in nodes if n.op not in ("tokens", "indices")]
    return ProgramStats(
        length=len(ops),
        attention_depth=depth[output.uid],
        selects=sum(n.op == "select" for n in ops),
        aggregates=sum(n.op in ATTENTION_OPS for n in ops),
        maps=sum(n.op in ("map", "seq_map", "where", "full") for n in ops),
    )
