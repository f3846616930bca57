"""Sort-based forms of causal equality attention, O(N log N) per example.

``aggregate(select(k, q, ==), v)`` under the causal mask reduces, for each
query ``i``, the values of the keys ``j <= i`` with ``k[j] == q[i]``.  Sort
the keys and queries of a row together (stable, keys and queries
interleaved as ``k0 q0 k1 q1 ...``): equal values form one segment, inside
which the elements stay in position order with each key just before the
query of its own position.  A query's keys are then exactly the keys
earlier in its segment, so every reduction is a running reduction along
the sorted row, restarted at each segment.  No ``[N, N]`` selector is
built: at the lengths where programs are checked (hundreds of tokens for
addition with hints) this is several times faster than the selector.

Example: keys ``1 2 1``, queries ``1 1 2`` sort to ``k0 q0 q1 k2 | k1 q2``
(values 1 1 1 1 | 2 2): query 1 sees key 0, query 2 sees key 1 only.
"""

from __future__ import annotations

import numpy as np

# Values up to this magnitude take the narrow integer paths (exact).
INT16_SPAN = 30_000


def small_ints(x: np.ndarray) -> np.ndarray | None:
    """``x`` as the narrowest of int8/int16 when every value is an integer in range."""
    if not x.size:
        return x.astype(np.int8)
    lo, hi = x.min(), x.max()
    if lo < -INT16_SPAN or hi > INT16_SPAN or not np.array_equal(x, np.round(x)):
        return None
    return x.astype(np.int8 if lo >= -128 and hi <= 127 else np.int16)


def stable_order(x: np.ndarray) -> np.ndarray:
    """Stable argsort along rows; narrow integers take numpy's radix sort."""
    narrow = small_ints(x)
    return np.argsort(x if narrow is None else narrow, axis=1, kind="stable")


def running_count(x: np.ndarray) -> np.ndarray:
    """How many of x[0..i] equal x[i], per row: a stable sort groups equal
    values in position order, so the count is the rank inside the group."""
    batch, length = x.shape
    order = stable_order(x)
    ranked = np.take_along_axis(x, order, axis=1)
    starts = np.ones((batch, length), dtype=bool)
    starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    column = np.broadcast_to(np.arange(length), (batch, length))
    group_start = np.maximum.accumulate(np.where(starts, column, 0), axis=1)
    counts = np.empty((batch, length), dtype=np.float64)
    np.put_along_axis(counts, order, (column - group_start + 1).astype(np.float64), axis=1)
    return counts


class EqualityScan:
    """One causal ``select(keys, queries, ==)`` in sorted form; its
    aggregates and width are running reductions over the sorted rows.
    Built once per selector and shared by all its reductions."""

    def __init__(self, keys: np.ndarray, queries: np.ndarray):
        batch, length = keys.shape
        k, q = small_ints(keys), small_ints(queries)
        if k is None or q is None:
            k, q = keys, queries
        width = 2 * length
        both = np.empty((batch, width), dtype=np.promote_types(k.dtype, q.dtype))
        both[:, 0::2], both[:, 1::2] = k, q
        order = np.argsort(both, axis=1, kind="stable")
        # flat indices: np.take on them is several times faster than take_along_axis
        rows = np.arange(batch)[:, None] * width
        self.flat_order = order + rows
        ranked = both.ravel()[self.flat_order]
        start = np.ones(ranked.shape, dtype=bool)
        start[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
        self.start = start
        # each segment's values are lifted above every earlier segment's
        # (values are below 2**16 after the shift in reduce)
        self.offset = np.cumsum(start, axis=1, dtype=np.int64) << 16
        self.is_key = (order & 1) == 0
        self.key_source = (order >> 1) + rows // 2  # flat index of the key's value
        # where each query landed in the sorted row
        place = np.empty(batch * width, dtype=np.int64)
        place[self.flat_order.ravel()] = np.arange(batch * width) % width
        self.query_place = place.reshape(batch, width)[:, 1::2] + rows
        self._count = None

    def _at_queries(self, sorted_values: np.ndarray) -> np.ndarray:
        return sorted_values.ravel()[self.query_place]

    def _segment_cumsum(self, x: np.ndarray) -> np.ndarray:
        """Running sum of non-negative ``x`` restarted at every segment."""
        total = np.cumsum(x, axis=1)
        # the running sum just before each segment starts; non-decreasing
        # because x >= 0, so a running max carries it along the segment
        base = np.maximum.accumulate(np.where(self.start, total - x, 0), axis=1)
        return total - base

    def count(self) -> np.ndarray:
        """The selector's width: selected keys per query."""
        if self._count is None:
            self._count = self._at_queries(self._segment_cumsum(self.is_key.astype(np.int64)))
        return self._count

    def reduce(self, values: np.ndarray, reduction: str, default: float) -> np.ndarray | None:
        """max/min/mean of the selected keys' values (``default`` where none);
        None when the values are not small integers (the caller then builds
        the selector, whose float path matches the reference's rounding)."""
        if reduction == "min":
            out = self.reduce(-values, "max", -default)
            return None if out is None else -out
        lo = values.min() if values.size else 0.0
        shifted = values - lo + 1  # 1..span for keys; 0 marks "no key" below
        if (
            not np.isfinite(lo)
            or shifted.max(initial=0.0) > INT16_SPAN
            or not np.array_equal(shifted, np.round(shifted))
        ):
            return None
        payload = np.where(self.is_key, shifted.astype(np.int64).ravel()[self.key_source], 0)
        if reduction == "max":
            # a running max over the whole row is then a running max per
            # segment: a query with no key before it in its segment sees
            # only its own 0
            payload += self.offset
            best = self._at_queries(np.maximum.accumulate(payload, axis=1) - self.offset)
            return np.where(best > 0, best + lo - 1, default).astype(np.float64)
        count = self.count()
        # the sum of the shifted values less one per key is sum(v) - lo * count
        total = self._at_queries(self._segment_cumsum(payload)) - count + lo * count
        return np.where(count > 0, total / np.maximum(count, 1), default)
