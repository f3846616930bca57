"""Program length on a normal form, so that a rewrite cannot change it.

Counting the operations a program happens to be written with rewards
style: ``tokens == 1`` is one map and ``1 == tokens`` with a ``full`` two;
folding ``where``/``full`` into one lambda takes sort from 7 operations to
4.  The *normal-form length* counts what a transformer needs instead:

* **Attention operations**: every ``select`` (and ``&``, ``|``, ``!`` of
  selectors), ``aggregate`` and ``selector_width``, after rewriting
  ``!select(k, q, ==)`` to ``select(k, q, !=)`` and ``s & s`` to ``s``, dropping the keys and
  queries of a ``true``/``false`` select (they are not read), and treating
  a mean and a max through a selector that picks at most one key as the
  same read.
* **Element-wise blocks** (one MLP each): every maximal element-wise
  computation (``map``, ``seq_map``, ``where``, ``full``, operators) that an
  attention operation reads, fused into one function of the attention
  outputs, ``tokens`` and ``indices`` it depends on.  Two blocks that
  compute the same function of the same inputs are one block (operand
  order, constant folding, ``where`` versus a lambda do not matter).  A
  block that is a constant, or just one of its inputs, costs nothing.
* **Readout**: the block that turns the last values into the output
  token (``<eos>`` handling, ``where(tokens == "<sep>", ...)``) is every
  next-token program's I/O boilerplate; it is reported separately
  (``readout``, 0 or 1) and not included in ``length``.

Two blocks are "the same function" when they agree on every combination
of their inputs' values, when those are finite and few (a task's
vocabulary), else on a fixed sample of 4,096 points: observational
equivalence, the same test the program search uses.

    >>> from lengthgen.rasp.compiler import compile_source
    >>> a = compile_source("output = aggregate(select(tokens, tokens, true), tokens == 1);")
    >>> b = compile_source("output = aggregate(select(indices, indices, true), map(tokens, lambda x: 1 == x));")
    >>> normal_form(a.output) == normal_form(b.output)
    True
    >>> normal_form(a.output).length   # select, aggregate, the block tokens == 1
    3
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from lengthgen.rasp import valuesets as V
from lengthgen.rasp.graph import ATTENTION_OPS, SEL_OPS, Node, reachable

ELEMENTWISE = ("map", "seq_map", "where", "full")
NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "true": "false", "false": "true"}
EXACT_POINTS = 200_000
SAMPLED_POINTS = 4096


@dataclass(frozen=True)
class NormalForm:
    length: int  # attention operations + element-wise blocks, readout excluded
    readout: int  # 1 when the output is an element-wise block
    attention: int
    blocks: int
    selects: int
    depth: int


class _Normaliser:
    def __init__(self, output: Node):
        self.output = output
        self.keys: dict[int, tuple] = {}  # non-element-wise node uid -> canonical key
        self.inputs: dict[int, tuple] = {}  # element-wise node uid -> the keys it is a function of
        self.deps: dict[tuple, tuple] = {}  # canonical key -> the keys it reads
        self.kinds: dict[tuple, tuple[str, frozenset | None]] = {}

    # --- element-wise blocks ----------------------------------------------
    def leaf_points(self, key: tuple, kind: str, values: frozenset | None, n: int) -> np.ndarray:
        """Sample values of one block input, fixed by the input's canonical key."""
        seed = int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:8], "little")
        rng = np.random.default_rng(seed)
        if values:
            return rng.choice(np.array(sorted(values)), size=n)
        # unbounded inputs at every scale, not only small ones: a block that
        # differs from another only from position 70 on is another block
        scale = np.exp(rng.uniform(np.log(2.0), np.log(1e6), size=n))
        if kind == "number":
            top = np.where(rng.random(n) < 0.5, 40, scale).astype(np.int64)
            return rng.integers(0, top + 1) / rng.integers(1, top + 1)
        small = rng.integers(-3, 60, size=n)
        return np.where(rng.random(n) < 0.5, small, np.floor(scale)).astype(np.float64)

    def grid(self, inputs: tuple) -> dict[tuple, np.ndarray]:
        """Points at which blocks over ``inputs`` are compared: every
        combination when the inputs' value sets are known and small."""
        sets = [self.kinds[k][1] for k in inputs]
        total = 1
        for values in sets:
            total = total * len(values) if values else EXACT_POINTS + 1
        if total <= EXACT_POINTS:
            axes = np.meshgrid(*[np.array(sorted(v)) for v in sets], indexing="ij")
            return {k: a.ravel() for k, a in zip(inputs, axes)}
        return {k: self.leaf_points(k, *self.kinds[k], SAMPLED_POINTS) for k in inputs}

    def block_key(self, node: Node) -> tuple:
        """The canonical key of the element-wise block computing ``node``:
        a constant, one of its inputs passed through, or a block."""
        inputs = self.inputs[node.uid]
        points = self.grid(inputs)
        n = len(next(iter(points.values()))) if points else 1
        values = self.evaluate(node, points, n)
        if np.all(values == values.flat[0]):
            return ("const", float(values.flat[0]))
        for k in inputs:
            if np.array_equal(values, points[k]):
                return k
        key = ("block", inputs, hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest())
        self.deps[key] = inputs
        return key

    def evaluate(self, node: Node, points: dict[tuple, np.ndarray], n: int) -> np.ndarray:
        if node.op not in ELEMENTWISE:
            return np.broadcast_to(points[self.keys[node.uid]], (n,))
        if node.op == "full":
            return np.full(n, node.attr("value"))
        args = [self.evaluate(a, points, n) for a in node.args]
        if node.op == "where":
            return np.where(args[0] != 0, args[1], args[2])
        with np.errstate(all="ignore"):
            return node.attr("fn").vectorised(*args)

    def arg_key(self, node: Node) -> tuple:
        return self.block_key(node) if node.op in ELEMENTWISE else self.keys[node.uid]

    # --- attention --------------------------------------------------------
    def attention_key(self, node: Node) -> tuple:
        if node.op == "sel_not" and node.args[0].op == "select":
            inner = node.args[0]
            return self.select_key(NEGATE[inner.attr("pred")], inner)
        if node.op == "select":
            return self.select_key(node.attr("pred"), node)
        if node.op in ("sel_and", "sel_or"):
            args = tuple(sorted({self.keys[a.uid] for a in node.args}, key=repr))
            if len(args) == 1:  # s & s is s
                return args[0]
            return self.register((node.op, args), args)
        if node.op == "aggregate":
            sel, values = self.keys[node.args[0].uid], self.arg_key(node.args[1])
            reduction = "read" if V.selects_at_most_one(node.args[0]) else node.attr("reduction")
            return self.register(("aggregate", reduction, node.attr("default"), sel, values), (sel, values))
        args = tuple(self.keys[a.uid] for a in node.args)  # selector_width, other negations
        return self.register((node.op, args), args)

    def select_key(self, pred: str, node: Node) -> tuple:
        # a true/false select never reads its keys and queries
        args = () if pred in ("true", "false") else (self.arg_key(node.args[0]), self.arg_key(node.args[1]))
        return self.register(("select", pred, args), args)

    def register(self, key: tuple, deps: tuple) -> tuple:
        self.deps[key] = deps
        return key

    def run(self) -> NormalForm:
        for node in reachable(self.output):
            if node.op in ("tokens", "indices"):
                self.keys[node.uid] = key = (node.op,)
                self.deps[key] = ()
            elif node.op in ELEMENTWISE:
                found = set()
                for a in node.args:
                    found.update(self.inputs[a.uid] if a.op in ELEMENTWISE else (self.keys[a.uid],))
                self.inputs[node.uid] = tuple(sorted(found, key=repr))
                continue
            else:
                self.keys[node.uid] = key = self.attention_key(node)
            self.kinds[key] = (node.vkind, node.values)
        if self.output.op in ELEMENTWISE:
            top = self.block_key(self.output)
            readout = int(top[0] == "block")
            roots = self.deps.get(top, ()) if readout else (top,)
        else:
            readout, roots = 0, (self.keys[self.output.uid],)
        # count what the output reaches in the canonical graph (an inner
        # select rewritten away, or the arguments of a true select, are not)
        depth: dict[tuple, int] = {}
        seen: set[tuple] = set()

        def visit(key: tuple) -> int:
            if key in depth:
                return depth[key]
            seen.add(key)
            below = max((visit(d) for d in self.deps.get(key, ())), default=0)
            depth[key] = below + (key[0] in ATTENTION_OPS)
            return depth[key]

        total_depth = max((visit(r) for r in roots), default=0)
        attention = [k for k in seen if k[0] not in ("block", "const", "tokens", "indices")]
        blocks = [k for k in seen if k[0] == "block"]
        return NormalForm(
            length=len(attention) + len(blocks),
            readout=readout,
            attention=len(attention),
            blocks=len(blocks),
            selects=sum(1 for k in attention if k[0] == "select"),
            depth=total_depth,
        )


def normal_form(output: Node) -> NormalForm:
    """The normal-form statistics of the program computing ``output``."""
    if output.op in SEL_OPS:
        raise ValueError("a program's output is a sequence, not a selector")
    return _Normaliser(output).run()
