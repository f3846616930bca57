"""Goal-directed synthesis: the target propagated back through an aggregate.

Bottom-up enumeration (:mod:`lengthgen.rasp.search`) builds every attention
output of a length before trying readouts, and its beam keeps the outputs
that say most about the target *on their own*.  An intermediate that matters
only through a later select is dropped: mode's running maximum of counts
says little about the mode by itself, and ranks far beyond the beam at its
length (``results/studies/rasp-search``).  This stage starts from the target
instead:

1. **Goal rows**: the output positions whose target the token there does not
   decide (mode: the ``<sep>`` position; the ``<eos>`` after the answer is
   decided by its token).  The last attention output must equal the target
   on them; the readout passes it on elsewhere.
2. **Through an aggregate**: for keys ``k``, predicate ``p`` and values
   ``v``, a query value ``x`` at a goal row selects the keys
   ``{j <= row: p(k[j], x)}``; ``aggregate(select(k, q, p), v, 0, max)``
   meets the goal there when the selection holds a key whose value is the
   target and none whose value exceeds it.  Which keys are selected depends
   only on where ``x`` falls among that row's key values (below all, equal
   to one, between two, above all), so each row's admissible query values
   are a set of such cells: the required selector pattern.
3. **The queries as a sub-goal**: a candidate the search already holds, or a
   running aggregate of one (``aggregate(select(tokens, tokens, true), x,
   0, max|mean)``), whose value falls in an admissible cell at every goal row.

A program found here is verified like any other; it carries no minimality
claim (the search returns it only after every shorter length was searched
bottom-up, or when the time runs out, and says which).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lengthgen.rasp.candidates import Seq, clock, op_id, signature
from lengthgen.rasp.interpreter import COMPARE, aggregate, select_matrix

TRUE_SELECT = "select(tokens, tokens, true)"
SCREEN_ROWS = 16  # rows tried first: most keys and queries fail on a few
EQUIVALENTS = 3  # sequences kept per set of goal-row values (verification may reject the first)


@dataclass
class Query:
    """A query candidate: an existing sequence or a running aggregate of one."""

    expr: str
    ops: frozenset
    at: np.ndarray  # values at the goal rows
    source: object  # the Seq it is, or reads
    reduction: str | None = None  # running max/mean of ``source`` when set


class GoalRows:
    """The goal rows of a search's sample and every sequence's values at and
    before them (``nan`` after the row's own position).

    >>> class S:  # two examples of length 3, output at the last position of each
    ...     tokens_per = [np.array([[5.0, 1.0, -1.0], [6.0, 1.0, -1.0]])]
    ...     targets = [np.array([[0.0, 0.0, 5.0], [0.0, 0.0, 6.0]])]
    ...     masks = [np.array([[False, False, True], [False, False, True]])]
    >>> rows = GoalRows(S())
    >>> rows.n, rows.target.tolist()
    (2, [5.0, 6.0])
    """

    def __init__(self, searcher):
        parts = []
        for i, (tokens, target, mask) in enumerate(zip(searcher.tokens_per, searcher.targets, searcher.masks)):
            b, p = np.nonzero(mask)
            parts.append((np.full(len(b), i), b, p, tokens[b, p], target[b, p]))
        i, b, p, tok, tgt = (np.concatenate(column) for column in zip(*parts))
        ambiguous = [t for t in np.unique(tok) if len(np.unique(tgt[tok == t])) > 1]
        keep = np.isin(tok, ambiguous)
        self.i, self.b, self.p, self.target = i[keep], b[keep], p[keep], tgt[keep]
        self.n = int(keep.sum())
        self.width = int(self.p.max()) + 1 if self.n else 0
        self.valid = np.arange(self.width)[None, :] <= self.p[:, None]
        # screening rows spread over the sample lengths (a fixed draw: the search is deterministic)
        self.order = np.random.default_rng(0).permutation(self.n)
        self._views: dict[str, np.ndarray] = {}

    def keys(self, seq) -> np.ndarray:
        """``[rows, width]``: ``seq`` at every position up to each goal row."""
        view = self._views.get(seq.expr)
        if view is None:
            view = np.full((self.n, self.width), np.nan)
            for i, values in enumerate(seq.per):
                rows = np.nonzero(self.i == i)[0]
                if rows.size:
                    w = min(values.shape[1], self.width)
                    view[rows, :w] = values[self.b[rows], :w]
            view[~self.valid] = np.nan
            self._views[seq.expr] = view
        return view

    def at(self, seq) -> np.ndarray:
        return self.keys(seq)[np.arange(self.n), self.p]


def query_cells(keys: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's key values sorted (``inf`` past the row) and one
    representative query value per cell: below every key value, equal to
    each, between neighbours, above all (``nan`` for cells past the row).

    >>> sorted_keys, reps = query_cells(np.array([[2.0, 0.0, np.nan]]), np.array([[True, True, False]]))
    >>> reps[0].tolist()[:5]
    [-1.0, 0.0, 1.0, 2.0, 3.0]
    """
    ordered = np.sort(np.where(valid, keys, np.inf), axis=1)
    n, w = ordered.shape
    nxt = np.concatenate([ordered[:, 1:], np.full((n, 1), np.inf)], axis=1)
    with np.errstate(invalid="ignore"):
        mids = np.where(np.isfinite(nxt), (ordered + nxt) / 2, ordered + 1)
    reps = np.empty((n, 2 * w + 1))
    reps[:, 0] = ordered[:, 0] - 1
    reps[:, 1::2] = ordered
    reps[:, 2::2] = mids
    reps[~np.isfinite(reps)] = np.nan
    return ordered, reps


def cell_of(ordered_row: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The cell index (as in :func:`query_cells`) of each value in ``x``."""
    t = np.searchsorted(ordered_row, x, side="left")
    w = ordered_row.shape[0]
    equal = (t < w) & (ordered_row[np.minimum(t, w - 1)] == x)
    return np.where(equal, 2 * t + 1, 2 * t)


def admissible(keys, valid, reps, pred, good, bad) -> np.ndarray:
    """``[rows, cells]``: the query cells whose selection holds a good key and no bad one."""
    sel = COMPARE[pred](keys[:, None, :], reps[:, :, None]) & valid[:, None, :]
    ok = (sel & good[:, None, :]).any(-1) & ~(sel & bad[:, None, :]).any(-1)
    return ok & ~np.isnan(reps)


class GoalSearch:
    """The goal-directed stage of one :class:`~lengthgen.rasp.search.Searcher`."""

    def __init__(self, searcher):
        self.s = searcher
        self.rows = GoalRows(searcher)

    def candidates(self, max_len: int, deadline: float) -> list[tuple[int, str, object, Query, object]]:
        """(length, pred, keys, query, values) of final aggregates that meet
        the goal on every goal row, shortest first."""
        rows, s = self.rows, self.s
        if rows.n == 0:
            return []
        rows._views.clear()  # the candidates change between calls
        reads = [r for r in s._reads() if len(s.read_cost(r)) <= max_len - 2]
        g = rows.target[:, None]
        # a value sequence can carry the target only if its value set holds every target value:
        # checked on value sets first, so a target no candidate holds (even-pairs' true/false)
        # costs nothing more
        wanted = frozenset(float(t) for t in np.unique(rows.target))
        carriers = [v for v in reads if v.bounded and (v.vset is None or wanted <= v.vset)]
        # and it must hold the target at or before every goal row
        carriers = [v for v in carriers if (rows.valid & (rows.keys(v) == g)).any(axis=1).all()]
        if not carriers:
            return []
        keys = self._distinct(reads, rows.keys)
        pool = self._pool(reads, max_len)
        screen = rows.order[:SCREEN_ROWS]
        found = []
        for v in carriers:
            values = rows.keys(v)
            good, bad = rows.valid & (values == g), rows.valid & (values > g)
            for group in keys:
                if clock() > deadline:
                    return sorted(found, key=lambda c: c[0])
                k = group[0]
                base = s.read_cost(k) | s.read_cost(v)
                if len(base) + 2 > max_len:
                    continue
                kv = rows.keys(k)
                ordered, reps = query_cells(kv[screen], rows.valid[screen])
                full = None  # every row's cells, built once per keys when a screen passes
                for pred in ("==", "!=", "<", "<=", ">", ">="):
                    a = admissible(kv[screen], rows.valid[screen], reps, pred, good[screen], bad[screen])
                    if not a.any(axis=1).all():
                        continue
                    full = full or query_cells(kv, rows.valid)
                    full_ordered, full_reps = full
                    a = admissible(kv, rows.valid, full_reps, pred, good, bad)
                    if not a.any(axis=1).all():
                        continue
                    for q in self._match(pool, full_ordered, a):
                        for kk in group:
                            sel = f"select({kk.expr}, {q.expr}, {pred})"
                            agg = f"aggregate({sel}, {v.expr}, 0, max)"
                            ops = s.read_cost(kk) | s.read_cost(v) | q.ops
                            ops = ops | {op_id("select", sel), op_id("aggregate", agg)}
                            if len(ops) <= max_len:
                                found.append((len(ops), pred, kk, q, v))
        return sorted(found, key=lambda c: c[0])

    def _distinct(self, seqs, view) -> list[list]:
        """Sequences grouped by their goal-row view, cheapest first in each group."""
        groups: dict[bytes, list] = {}
        for seq in sorted(seqs, key=lambda r: len(self.s.read_cost(r))):
            group = groups.setdefault(signature([view(seq)]), [])
            if len(group) < EQUIVALENTS:
                group.append(seq)
        return list(groups.values())

    def _pool(self, reads, max_len: int) -> list[Query]:
        """Query candidates: the reads and their running max and mean."""
        s, rows = self.s, self.rows
        pool = [Query(r.expr, s.read_cost(r), rows.at(r), r) for r in reads]
        for r in reads:
            paid = s.read_cost(r) | {op_id("select", TRUE_SELECT)}
            if len(paid) + 1 > max_len:
                continue
            view = rows.keys(r)
            for reduction in ("max", "mean"):
                if reduction == "mean" and (r.vset is None or r.vset & s.codes.symbol_codes):
                    continue  # never a mean over symbols
                expr = f"aggregate({TRUE_SELECT}, {r.expr}, 0{', max' if reduction == 'max' else ''})"
                at = np.nanmax(view, axis=1) if reduction == "max" else np.nanmean(view, axis=1)
                pool.append(Query(expr, paid | {op_id("aggregate", expr)}, at, r, reduction))
        kept: dict[bytes, list[Query]] = {}
        for q in sorted(pool, key=lambda q: len(q.ops)):
            group = kept.setdefault(signature([q.at]), [])
            if len(group) < EQUIVALENTS:
                group.append(q)
        self.pool_groups = list(kept.values())
        return [group[0] for group in self.pool_groups]

    def _match(self, pool: list[Query], ordered: np.ndarray, allowed: np.ndarray) -> list[Query]:
        """Pool entries whose value falls in an admissible cell at every goal row."""
        values = self._pool_values(pool)
        alive = np.arange(len(pool))
        for r in self.rows.order:
            cells = cell_of(ordered[r], values[alive, r])
            alive = alive[allowed[r, cells]]
            if not alive.size:
                return []
        return [q for i in alive for q in self.pool_groups[i]]

    def _pool_values(self, pool: list[Query]) -> np.ndarray:
        if getattr(self, "_pool_ref", None) is not pool:
            self._pool_ref, self._pool_matrix = pool, np.stack([q.at for q in pool])
        return self._pool_matrix

    def materialise(self, pred: str, keys, query: Query, values):
        """The final aggregate as a full candidate (every sample position), for the readout."""
        s = self.s
        if query.reduction is None:
            q_per = query.source.per
        else:
            q_per = [
                aggregate(np.broadcast_to(c, (x.shape[0], *c.shape)), x, query.reduction, 0.0)
                for c, x in zip(s.causal, query.source.per)
            ]
        sel = [select_matrix(k, q, pred, c) for k, q, c in zip(keys.per, q_per, s.causal)]
        per = [aggregate(m, v, "max", 0.0) for m, v in zip(sel, values.per)]
        expr = f"aggregate(select({keys.expr}, {query.expr}, {pred}), {values.expr}, 0, max)"
        vset = (values.vset | {0.0}) if values.vset is not None else None
        return Seq(expr, values.kind, per, frozenset(), vset=vset)
