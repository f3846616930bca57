"""The vectorised interpreter: a program over a batch ``[batch, length]`` at once.

Sequences are float64 arrays ``[B, N]``, selectors boolean ``[B, N, N]``
indexed ``[batch, key, query]`` (reductions over keys then run along a
non-contiguous axis, which numpy vectorises across the queries: about
twice as fast as reducing short contiguous rows).  Every selector is causal: query ``i``
sees keys ``j <= i`` only, which is what makes a program a next-token
predictor.  One method per primitive, dispatched on the node's op (the
tracr evaluator's shape).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.rasp.graph import SEL_OPS, Node, reachable
from lengthgen.rasp.scan import INT16_SPAN, EqualityScan, running_count, small_ints

# Selector temporaries are [chunk, N, N]; batches are cut into chunks that
# keep one below this many elements (about 2 MiB per boolean selector:
# small enough to stay in cache, measured fastest on 2 cores).
CHUNK_ELEMENTS = 2**21
# A single sequence whose selectors exceed this is refused before any work.
MAX_SEQUENCE_ELEMENTS = 2**27
# Chunks of a program that builds no selector at a length (every attention
# a gather, running reduction or sorted scan) hold this many tokens.
ROW_CHUNK_ELEMENTS = 2**16
# From this many tokens, equality attention runs sorted (scan.py, O(N log N))
# instead of through its N x N selector; below it the selector is as fast.
SCAN_MIN_LENGTH = 64

COMPARE = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


class Interpreter:
    """Evaluates the graph under ``output`` on integer token codes."""

    def __init__(self, output: Node, causal: bool = True, running: bool = True, scan_min_length: int = SCAN_MIN_LENGTH):
        """``causal=False``: every query sees every key (a ``# mode: rasp``
        program, RASP as Weiss et al. define it; not RASP-L).  ``running=False``
        builds every selector instead of the running reductions and sorted
        scans below (for benchmarks/rasp_interpreter.py --compare-running).
        ``scan_min_length``: the sequence length from which equality
        attention is evaluated sorted (tests set 0 to force it)."""
        self.output = output
        self.is_causal = causal
        self.order = reachable(output)
        # one fast path per attention node at most, the first in FAST_PATHS that applies
        enabled = [f for f in FAST_PATHS if not f.causal_only or (causal and running)]
        self.plan: dict[int, FastPath] = {}
        for node in self.order:
            path = next((f for f in enabled if f.applies(node)), None)
            if path is not None:
                self.plan[node.uid] = path
        self.scan_min_length = scan_min_length
        users: dict[int, list[Node]] = {}
        for node in self.order:
            for arg in node.args:
                users.setdefault(arg.uid, []).append(node)

        def skippable(fast: set[int]) -> set[int]:
            return {
                n.uid
                for n in self.order
                if n.op == "select" and n is not output and all(u.uid in fast for u in users.get(n.uid, []))
            }

        # selectors never built: every user takes a fast path at that length
        self.skippable_short = skippable({u for u, f in self.plan.items() if not f.long_only})
        self.skippable_long = skippable(set(self.plan))

    def planned(self, name: str) -> set[int]:
        """The nodes that take fast path ``name`` ("gather", "running", "scan")."""
        return {uid for uid, path in self.plan.items() if path.name == name}

    def run(self, codes: np.ndarray, trace: bool = False) -> np.ndarray | dict[int, np.ndarray]:
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim == 1:
            codes = codes[None, :]
        batch, length = codes.shape
        if length * length > MAX_SEQUENCE_ELEMENTS:
            raise LengthgenError(
                f"a sequence of length {length} needs {length * length:,} selector cells per example, more than the "
                f"{MAX_SEQUENCE_ELEMENTS:,} allowed (about {MAX_SEQUENCE_ELEMENTS * 9 // 2**30} GiB); use shorter lengths"
            )
        if trace:
            return self._evaluate(codes, everything=True)
        step = max(1, CHUNK_ELEMENTS // max(1, length * length))
        if not self.builds_selectors(length):
            step = max(1, ROW_CHUNK_ELEMENTS // max(1, length))
        outs = [self._evaluate(codes[i : i + step])[self.output.uid] for i in range(0, batch, step)]
        return np.concatenate(outs, axis=0)

    def builds_selectors(self, length: int) -> bool:
        skippable = self.skippable_long if length >= self.scan_min_length else self.skippable_short
        return any(n.uid not in skippable for n in self.order if n.op in SEL_OPS)

    def _evaluate(self, codes: np.ndarray, everything: bool = False) -> dict[int, np.ndarray]:
        values: dict[int, np.ndarray] = {}
        batch, length = codes.shape
        self.causal = np.triu(np.ones((length, length), dtype=bool))  # [key, query]: key <= query
        if not self.is_causal:
            self.causal[:] = True
        self.shape = (batch, length)
        scanning = length >= self.scan_min_length
        skippable = self.skippable_long if scanning else self.skippable_short
        scans: dict[int, EqualityScan] = {}
        for node in self.order:
            if node.uid in skippable and not everything:
                continue
            path = self.plan.get(node.uid)
            if path is not None and (scanning or not path.long_only):
                out = getattr(self, f"fast_{path.name}")(node, codes, values, scans)
                if out is not None:
                    values[node.uid] = out
                    continue
            args = [values[a.uid] for a in node.args]
            values[node.uid] = getattr(self, f"op_{node.op}")(node, codes, *args)
        return values

    # --- fast paths (FAST_PATHS says which node takes which) ----------------
    def fast_gather(self, node: Node, codes: np.ndarray, values: dict, scans: dict) -> np.ndarray:
        """aggregate(select(indices, queries, ==), values, default): the key
        at position ``queries[i]`` if it is a whole number in ``0..i``."""
        queries, values = values[node.args[0].args[1].uid], values[node.args[1].uid]
        length = self.shape[1]
        position = np.arange(length)
        reach = position if self.is_causal else length - 1
        valid = (queries >= 0) & (queries <= reach) & (queries == np.round(queries))
        index = np.where(valid, queries, 0).astype(np.int64)
        return np.where(valid, np.take_along_axis(values, index, axis=1), node.attr("default"))

    def fast_scan(
        self, node: Node, codes: np.ndarray, values: dict[int, np.ndarray], scans: dict[int, EqualityScan]
    ) -> np.ndarray | None:
        """A reduction over select(k, q, ==) from the selector's sorted form;
        None (after building the skipped selector) when its values are not
        small integers, so the selector path evaluates it instead."""
        sel = node.args[0]
        if sel.uid not in scans:
            scans[sel.uid] = EqualityScan(values[sel.args[0].uid], values[sel.args[1].uid])
        if node.op == "selector_width":
            return scans[sel.uid].count().astype(np.float64)
        out = scans[sel.uid].reduce(values[node.args[1].uid], node.attr("reduction"), node.attr("default"))
        if out is None and sel.uid not in values:
            values[sel.uid] = self.op_select(sel, codes, values[sel.args[0].uid], values[sel.args[1].uid])
        return out

    def fast_running(self, node: Node, codes: np.ndarray, values: dict[int, np.ndarray], scans: dict) -> np.ndarray:
        batch, length = self.shape
        position = np.arange(1, length + 1, dtype=np.float64)
        if node.op == "selector_width" and is_true_select(node.args[0]):
            return np.broadcast_to(position, self.shape).copy()
        sel = node.args[0]
        if is_constant_query(sel):  # select(k, full(c), pred): the same keys for every query
            chosen = COMPARE[sel.attr("pred")](values[sel.args[0].uid], sel.args[1].attr("value"))
            count = np.cumsum(chosen, axis=1).astype(np.float64)
            if node.op == "selector_width":
                return count
            v = values[node.args[1].uid]
            default = node.attr("default")
            reduction = node.attr("reduction")
            if reduction == "mean":
                total = np.cumsum(np.where(chosen, v, 0.0), axis=1)
                return np.where(count > 0, total / np.maximum(count, 1), default)
            sign = 1.0 if reduction == "max" else -1.0
            best = np.maximum.accumulate(np.where(chosen, sign * v, -np.inf), axis=1)
            return np.where(count > 0, sign * best, default)
        if node.op == "selector_width":  # select(x, x, ==): occurrences of x[i] among x[0..i]
            return running_count(values[node.args[0].args[0].uid])
        v = values[node.args[1].uid]
        reduction = node.attr("reduction")
        if reduction == "max":
            return np.maximum.accumulate(v, axis=1)
        if reduction == "min":
            return np.minimum.accumulate(v, axis=1)
        return np.cumsum(v, axis=1) / position

    # --- primitives -------------------------------------------------------
    def op_tokens(self, node, codes):
        return codes

    def op_indices(self, node, codes):
        return np.broadcast_to(np.arange(self.shape[1], dtype=np.float64), self.shape).copy()

    def op_full(self, node, codes):
        return np.full(self.shape, node.attr("value"), dtype=np.float64)

    def op_map(self, node, codes, x):
        return finite(node, node.attr("fn").vectorised(x))

    def op_seq_map(self, node, codes, x, y):
        return finite(node, node.attr("fn").vectorised(x, y))

    def op_where(self, node, codes, cond, a, b):
        return np.where(cond != 0, a, b)

    def op_select(self, node, codes, keys, queries):
        return select_matrix(keys, queries, node.attr("pred"), self.causal)

    def op_sel_and(self, node, codes, a, b):
        return a & b

    def op_sel_or(self, node, codes, a, b):
        return a | b

    def op_sel_not(self, node, codes, a):
        return ~a & self.causal

    def op_selector_width(self, node, codes, sel):
        return selector_width(sel)

    def op_aggregate(self, node, codes, sel, values):
        return aggregate(sel, values, node.attr("reduction"), node.attr("default"))


# The attention primitives as functions of arrays, shared with the program
# search (lengthgen.rasp.search), so both evaluate one semantics.
def select_matrix(keys: np.ndarray, queries: np.ndarray, pred: str, causal: np.ndarray) -> np.ndarray:
    """Selector ``[B, key, query]``: ``pred(key, query)`` where ``causal`` allows it.

    >>> select_matrix(np.array([[3.0, 1.0, 3.0]]), np.array([[3.0, 3.0, 1.0]]), "==", np.triu(np.ones((3, 3), bool)))[0].astype(int)
    array([[1, 1, 0],
           [0, 0, 1],
           [0, 0, 0]])
    """
    batch, length = np.shape(keys)
    if pred == "true":
        sel = np.ones((batch, length, length), dtype=bool)
    elif pred == "false":
        sel = np.zeros((batch, length, length), dtype=bool)
    else:
        k, q = small_ints(keys), small_ints(queries)
        if k is None or q is None:
            k, q = keys, queries
        sel = COMPARE[pred](k[:, :, None], q[:, None, :])  # keys along axis 1
    return np.logical_and(sel, causal, out=sel)


def selector_width(sel: np.ndarray) -> np.ndarray:
    """How many keys each query selects.

    >>> selector_width(np.triu(np.ones((1, 3, 3), bool)))
    array([[1., 2., 3.]])
    """
    return np.count_nonzero(sel, axis=1).astype(np.float64)


def aggregate(sel: np.ndarray, values: np.ndarray, reduction: str, default: float) -> np.ndarray:
    """The selected values' max, min or mean per query; ``default`` where none is selected.

    >>> sel = np.triu(np.ones((1, 3, 3), bool))
    >>> aggregate(sel, np.array([[2.0, 5.0, 1.0]]), "mean", 0.0)
    array([[2.        , 3.5       , 2.66666667]])
    """
    if reduction == "max":
        out = masked_max(sel, values)
        return np.where(out > -np.inf, out, default)
    if reduction == "min":
        out = masked_max(sel, -values)
        return np.where(out > -np.inf, -out, default)
    total, count = masked_sum(sel, values)
    return np.where(count > 0, total / np.maximum(count, 1), default)


def overflow_error(node: Node) -> LengthgenError:
    line, col = node.loc
    where = f"line {line}:{col}: " if line else ""
    return LengthgenError(
        f"{where}{node.name} produced a value that is not a finite number (overflow); numpy and Python "
        "disagree on such values (min(1, nan)), so RASP values must stay finite"
    )


def finite(node: Node, values: np.ndarray) -> np.ndarray:
    """Overflow is an error in both evaluators, so they never disagree on it."""
    if not np.isfinite(values).all():
        raise overflow_error(node)
    return values


@dataclass(frozen=True)
class FastPath:
    """A way to evaluate an attention node without its N x N selector:
    ``Interpreter.fast_<name>`` does it (returning None falls back to the
    selector).  ``long_only``: only from ``scan_min_length`` tokens on;
    ``causal_only``: only under the causal mask with ``running`` on."""

    name: str
    applies: Callable[[Node], bool]
    long_only: bool
    causal_only: bool


def _is_equality_reduction(node: Node) -> bool:
    return (
        node.op in ("aggregate", "selector_width") and node.args[0].op == "select" and node.args[0].attr("pred") == "=="
    )


def has_running_form(node: Node) -> bool:
    if node.op not in ("aggregate", "selector_width"):
        return False
    sel = node.args[0]
    return is_true_select(sel) or is_constant_query(sel) or (node.op == "selector_width" and is_self_equality(sel))


def is_true_select(selector: Node) -> bool:
    return selector.op == "select" and selector.attr("pred") == "true"


def is_constant_query(selector: Node) -> bool:
    """select(k, full(c), pred): which keys are selected does not depend on the query."""
    return selector.op == "select" and selector.attr("pred") not in ("true", "false") and selector.args[1].op == "full"


def is_self_equality(selector: Node) -> bool:
    return selector.op == "select" and selector.attr("pred") == "==" and selector.args[0] is selector.args[1]


def is_index_lookup(selector: Node) -> bool:
    """select(indices, q, ==): each query selects at most the one key at position q."""
    return selector.op == "select" and selector.attr("pred") == "==" and selector.args[0].op == "indices"


_SCRATCH: dict = {}


def _scratch(shape: tuple, dtype) -> np.ndarray:
    """A reused work array: fresh multi-megabyte arrays cost page faults on every call."""
    key = (shape, np.dtype(dtype).str)
    if key not in _SCRATCH:
        _SCRATCH.clear()
        _SCRATCH[key] = np.empty(shape, dtype=dtype)
    return _SCRATCH[key]


def masked_max(sel: np.ndarray, values: np.ndarray) -> np.ndarray:
    """max over selected keys (-inf where none): shift the values to 1.. so
    that multiplying by the 0/1 selector masks them, then take an integer max."""
    lo = values.min() if values.size else 0.0
    if not np.isfinite(lo) or not np.isfinite(values.max(initial=0.0)):
        return np.where(sel, values[:, :, None], -np.inf).max(axis=1)
    shifted = values - lo + 1
    span = shifted.max(initial=0.0)
    if span > INT16_SPAN or not np.array_equal(shifted, np.round(shifted)):
        return np.where(sel, values[:, :, None], -np.inf).max(axis=1)
    narrow = shifted.astype(np.uint8 if span <= 255 else np.int16)
    masked = np.multiply(sel.view(np.uint8), narrow[:, :, None], out=_scratch(sel.shape, narrow.dtype))
    best = masked.max(axis=1).astype(np.float64)
    return np.where(best > 0, best + lo - 1, -np.inf)


def _accumulator(largest: float) -> type:
    return np.uint16 if largest < 2**16 else np.int32


def masked_sum(sel: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sum over selected keys, number of selected keys).  Small integer
    values take an integer path (shift to >= 0, multiply by the 0/1
    selector, sum with a narrow accumulator); others a float64 einsum."""
    sel8 = sel.view(np.uint8)
    n_keys = sel.shape[1]
    count = sel8.sum(axis=1, dtype=_accumulator(n_keys)).astype(np.int64)
    lo = values.min() if values.size else 0.0
    shifted = values - lo if np.isfinite(lo) else values
    span = shifted.max(initial=0.0)
    if np.isfinite(lo) and span <= INT16_SPAN and np.array_equal(shifted, np.round(shifted)):
        narrow = shifted.astype(np.uint8 if span <= 255 else np.uint16)
        masked = np.multiply(sel8, narrow[:, :, None], out=_scratch(sel.shape, narrow.dtype))
        total = masked.sum(axis=1, dtype=_accumulator(span * n_keys)).astype(np.float64)
        return total + lo * count, count
    return np.einsum("bkq,bk->bq", sel.astype(np.float64), values), count


# In priority order: aggregate(select(indices, q, ==), v) reads one position,
# v[q], in O(N); under the causal mask a `true` select's or a constant
# query's reductions, and select(x, x, ==)'s width, are running reductions
# in O(N); the remaining reductions over select(k, q, ==) run sorted in
# O(N log N) from SCAN_MIN_LENGTH tokens on.
FAST_PATHS: tuple[FastPath, ...] = (
    FastPath(
        "gather", lambda n: n.op == "aggregate" and is_index_lookup(n.args[0]), long_only=False, causal_only=False
    ),
    FastPath("running", has_running_form, long_only=False, causal_only=True),
    FastPath("scan", _is_equality_reduction, long_only=True, causal_only=True),
)
