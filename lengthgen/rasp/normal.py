"""Program length on a normal form, so that a rewrite cannot change it.

Counting the operations a program happens to be written with rewards
style: ``tokens == 1`` is one map and ``1 == tokens`` with a ``full`` two;
folding ``where``/``full`` into one lambda takes sort from 7 operations to
4.  The *normal-form length* counts what a transformer needs instead:

* **Attention operations**: every ``select`` (and ``&``, ``|``, ``!`` of
  selectors), ``aggregate`` and ``selector_width``, after rewriting
  ``!select(k, q, ==)`` to ``select(k, q, !=)`` and ``s & s`` to ``s``,
  judging a combination of selects by what it selects (the selects it
  needs, joined by one operation fewer: ``(k > q) & (k != q)`` is
  ``k > q``, ``(k > q) | (k == q)`` is ``k >= q``, De Morgan's two
  spellings are one), dropping the keys and
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
from lengthgen.rasp.interpreter import COMPARE

ELEMENTWISE = ("map", "seq_map", "where", "full")
NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "true": "false", "false": "true"}
EXACT_POINTS = 200_000
SAMPLED_POINTS = 4096
# a select true (or false) on fewer than this share of the samples is not
# simplified away: the samples may just have missed where it matters
MIN_SHARE = 0.01


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
        rng = _rng_for(key)
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
        for k in inputs:
            # a sign flip is linear: the value and output maps of the attention
            # that reads it absorb it, as they would a pass-through (max of -x is -min)
            if np.array_equal(values, -points[k]) and not np.array_equal(values, points[k]):
                key = ("neg", k)
                self.deps[key] = (k,)
                return key
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
        if node.op in ("sel_and", "sel_or", "sel_not"):
            return self.selector_algebra(node)
        if node.op == "aggregate":
            sel, values = self.keys[node.args[0].uid], self.arg_key(node.args[1])
            reduction = "read" if V.selects_at_most_one(node.args[0]) else node.attr("reduction")
            return self.register(("aggregate", reduction, node.attr("default"), sel, values), (sel, values))
        args = tuple(self.keys[a.uid] for a in node.args)  # selector_width, other negations
        return self.register((node.op, args), args)

    def side_values(self, node: Node, side: str) -> np.ndarray:
        """Sampled values of a select's key or query argument; one argument
        seen from the key side and from the query side gets independent
        samples (two positions), the same samples wherever it recurs."""
        inputs = self.inputs[node.uid] if node.op in ELEMENTWISE else (self.keys[node.uid],)
        points = {k: self.narrow_points((side, k), *self.kinds[k], SAMPLED_POINTS) for k in inputs}
        return np.broadcast_to(self.evaluate(node, points, SAMPLED_POINTS), (SAMPLED_POINTS,))

    @staticmethod
    def narrow_points(key: tuple, kind: str, values: frozenset | None, n: int) -> np.ndarray:
        """Sample values for comparing selects: unbounded values from a small
        range, so that a key equals a query (or an offset of it) often
        enough for the comparison to show in the samples."""
        rng = _rng_for(key)
        if values:
            return rng.choice(np.array(sorted(values)), size=n)
        if kind == "number":
            return rng.integers(0, 5, size=n) / rng.integers(1, 5, size=n)
        return rng.integers(-3, 13, size=n).astype(np.float64)

    def selector_algebra(self, node: Node) -> tuple:
        """``&``, ``|`` and ``!`` of selects by what they select: the truth of
        the combination on sampled key and query values, kept as a function
        of only the selects it needs.  ``s & s``, ``(k > q) & (k != q)``
        (implication) and De Morgan's two spellings each score as the
        selects they need, joined by one operation fewer than selects."""
        atoms: dict[tuple, np.ndarray] = {}

        def truth(n: Node) -> np.ndarray:
            if n.op == "select":
                key = self.keys[n.uid]
                if key not in atoms:
                    pred = n.attr("pred")
                    if pred in ("true", "false"):
                        atoms[key] = np.full(SAMPLED_POINTS, pred == "true")
                    else:
                        k, q = self.side_values(n.args[0], "key"), self.side_values(n.args[1], "query")
                        with np.errstate(all="ignore"):
                            atoms[key] = COMPARE[pred](k, q)
                return atoms[key]
            if n.op == "sel_not":
                return ~truth(n.args[0])
            left, right = truth(n.args[0]), truth(n.args[1])
            return left & right if n.op == "sel_and" else left | right

        combined = truth(node)
        if any(not MIN_SHARE <= t.mean() <= 1 - MIN_SHARE for t in atoms.values()):
            # a select nearly always (or never) true on the samples cannot be
            # told from a constant: keep the combination as written
            return self.as_written(node)
        needed = sorted(atoms, key=repr)
        for atom in list(needed):
            rest = [a for a in needed if a != atom]
            if _is_function_of(combined, [atoms[a] for a in rest]):
                needed = rest
        if not needed:
            return self.register(("select", "true" if combined.all() else "false", ()), ())
        same_args = {a[2] for a in needed}
        if len(same_args) == 1 and needed[0][2]:
            # every select compares the same keys and queries: maybe one predicate says it all
            (k_node, q_node) = next(n for n in _selects(node) if self.keys[n.uid] in needed).args
            k, q = self.side_values(k_node, "key"), self.side_values(q_node, "query")
            for pred, compare in COMPARE.items():
                with np.errstate(all="ignore"):
                    if np.array_equal(combined, compare(k, q)):
                        return self.register(("select", pred, needed[0][2]), needed[0][2])
        if len(needed) == 1:
            atom = needed[0]
            if np.array_equal(combined, atoms[atom]):
                return atom
            if np.array_equal(combined, ~atoms[atom]) and atom[1] in NEGATE:
                return self.register(("select", NEGATE[atom[1]], atom[2]), atom[2])
        digest = hashlib.sha256(np.packbits(combined).tobytes()).hexdigest()
        key: tuple = tuple(needed)
        for step in range(max(1, len(needed) - 1)):  # one join per select beyond the first
            key = self.register(("selexpr", digest, step, key), key if step == 0 else (key,))
        return key

    def as_written(self, node: Node) -> tuple:
        args = tuple(sorted({self.keys[a.uid] for a in node.args}, key=repr))
        if len(args) == 1 and node.op != "sel_not":  # s & s is s
            return args[0]
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
            readout = int(top[0] == "block")  # a pass-through or a sign flip is no block
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
        attention = [k for k in seen if k[0] not in ("block", "const", "tokens", "indices", "neg")]
        blocks = [k for k in seen if k[0] == "block"]
        return NormalForm(
            length=len(attention) + len(blocks),
            readout=readout,
            attention=len(attention),
            blocks=len(blocks),
            selects=sum(1 for k in attention if k[0] == "select"),
            depth=total_depth,
        )


def _rng_for(key: tuple) -> np.random.Generator:
    """A generator fixed by a canonical key: one input gets the same samples wherever it recurs."""
    return np.random.default_rng(int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:8], "little"))


def _selects(node: Node):
    """The select atoms under a combination of selectors."""
    if node.op == "select":
        yield node
    elif node.op in SEL_OPS:
        for arg in node.args:
            yield from _selects(arg)


def _is_function_of(target: np.ndarray, columns: list[np.ndarray]) -> bool:
    """Whether ``target`` is determined by the ``columns`` on these samples."""
    code = np.zeros(len(target), dtype=np.int64)
    for i, col in enumerate(columns):
        code |= col.astype(np.int64) << i
    pairs = np.unique(code * 2 + target.astype(np.int64))
    return len(pairs) == len(np.unique(code))


def normal_form(output: Node) -> NormalForm:
    """The normal-form statistics of the program computing ``output``."""
    if output.op in SEL_OPS:
        raise ValueError("a program's output is a sequence, not a selector")
    return _Normaliser(output).run()
