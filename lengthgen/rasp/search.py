"""Search for the shortest RASP-L program solving a benchmark.

Bottom-up enumeration in a fixed grammar, ordered by normal-form length
(:mod:`lengthgen.rasp.normal`: attention operations plus the element-wise
blocks they read; the readout is free):

* **Leaves**: ``tokens``, ``indices``, constants ``0`` and ``1``.
* **Element-wise library** (documented, fixed): on bounded values
  ``x + 1``, ``x - 1``, ``0 - x``, ``x % 2``, ``x == c``, ``x > 0``,
  ``x >= 0`` (c: 0, 1 and the task's symbols with few values, such as
  ``"<sep>"``); on indices and means only ``x + 1``, ``x - 1`` and
  comparisons; pairwise ``x + y``, ``x - y``, ``x == y``, ``x < y`` (pairs
  with an index or a mean: comparisons only).  These are the RASP-L rules of
  :mod:`lengthgen.rasp.valuesets`.
* **Attention**: ``select(k, q, pred)`` for every pred, ``aggregate(sel, v,
  0, max)``, ``aggregate(sel, v)`` (a mean; never over symbols) and
  ``selector_width(sel)``.
* **Readout**: a decision list of up to three ``where(condition, value,
  ...)`` over element-wise functions of the chosen attention outputs and
  ``tokens`` (free: it is the readout block).

Candidates are merged by *observational equivalence*: two sequences (or
selectors) with the same values on a fixed sample of inputs (every
training length up to ``sample_max``) are one candidate, the shorter kept.
A program that fits the sample is then verified with the checker at lengths
up to ``verify_max``; one that fails is set aside and the search goes on.

When the search runs to the end of its budget without a verified program,
the result is a lower bound *relative to this grammar and this sample*: no
program of at most ``max_ops`` operations in the grammar fits the sample.

Long (about 600 lines): grammar, enumeration, merging and readout search
share the candidate store and its budget accounting; splitting them would
thread that state through every call.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.rasp.candidates import Sel, Seq, clock, op_id, signature
from lengthgen.rasp.check import check_program
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.goal import GoalSearch
from lengthgen.rasp.interpreter import aggregate, select_matrix, selector_width
from lengthgen.rasp.lambdas import Lambda
from lengthgen.tasks import Task
from lengthgen.training.data import to_lm_batch

PREDICATES = ("==", "!=", "<", "<=", ">", ">=", "true")
MAX_SYMBOL_CONSTANTS = 6  # symbols used as map constants: the task's few, not 127 hint tokens
READOUT_DEPTH = 3
MAX_READOUTS = 12  # decision lists tried per set of inputs before moving on
MAX_READOUT_NODES = 20_000  # conditions tried per set of inputs (the readout search is a DFS)
THREE_INPUT_OUTPUTS = 80  # three-input readouts over the cheapest outputs only (recorded as truncated)
# the grammar a result is relative to (module docstring); bump when it changes
GRAMMAR = (
    "search-3: tokens, indices, 0, 1; unary +1 -1 0-x %2 ==c >0 >=0, means >0.5; pairwise + - == <; select x7 preds; "
    "max, mean, width; 3-way readout; goal-directed last aggregate (queries: candidates, their running max/mean)"
)


@dataclass
class SearchResult:
    benchmark: str
    max_ops: int
    found: bool
    length: int | None = None
    program: str | None = None
    exhaustive: bool = False  # every candidate up to max_ops was tried
    pruned: bool = False  # the beam dropped candidates (no lower bound then)
    bound: int = 0  # no program of this length or shorter fits the sample (0: no bound)
    depth: int | None = None  # the found program's attention depth
    seconds: float = 0.0
    candidates: int = 0
    rejected: list[str] = field(default_factory=list)  # fitted the sample, failed verification
    # merges of sample-equal candidates that could have lost a shorter whole
    # program (the kept one's operations are not a subset of the dropped
    # one's, so a program sharing operations with the dropped one may be
    # shorter): any such merge voids the lower bound
    unsafe_merges: int = 0
    truncated: bool = False  # three-input readouts were tried over only the cheapest outputs
    found_by: str | None = None  # "bottom-up" or "goal" (lengthgen.rasp.goal)
    # a goal-directed program returned when the time ran out before every
    # shorter length was searched bottom-up
    shorter_unsearched: bool = False
    settings: dict = field(default_factory=dict)  # grammar, beam, sample, verification: what the result is relative to

    @property
    def proven(self) -> bool:
        """Whether the bound holds for every program of the grammar: no merge
        could have hidden a shorter one and no readout was cut."""
        return not (self.unsafe_merges or self.truncated)

    def caveat(self) -> str:
        parts = []
        if self.unsafe_merges:
            parts.append(
                f"{self.unsafe_merges:,} merges of sample-equal candidates kept one whose operations are not a "
                "subset of the other's, which can hide a shorter whole program"
            )
        if self.truncated:
            parts.append(f"three-input readouts were tried over the {THREE_INPUT_OUTPUTS} cheapest outputs only")
        return "; not proven: " + "; ".join(parts) if parts else ""

    def summary(self) -> str:
        if self.found:
            how = " by goal-directed synthesis" if self.found_by == "goal" else ""
            gap = "; shorter lengths not all searched (time limit)" if self.shorter_unsearched else ""
            return f"{self.benchmark}: found a program of length {self.length}{how} ({self.seconds:.0f} CPU-s{gap})"
        if self.bound:
            return (
                f"{self.benchmark}: no program of length <= {self.bound} in the search grammar fits the sample "
                f"(a lower bound relative to the grammar and the sample{self.caveat()}; {self.candidates:,} "
                f"candidates, {self.seconds:.0f} CPU-s)"
            )
        why = "the beam pruned candidates" if self.pruned else "the search stopped"
        return f"{self.benchmark}: none found up to length {self.max_ops}; no lower bound ({why}; {self.seconds:.0f} CPU-s)"

    def as_dict(self) -> dict:
        return {
            "found": self.found,
            "length": self.length,
            "depth": self.depth,
            "program": self.program.splitlines() if self.program else None,
            "found_by": self.found_by,
            # a goal-directed program returned before every shorter length was searched bottom-up
            "shorter_unsearched": self.shorter_unsearched,
            # minimal only when nothing could have hidden a shorter program
            "minimal": bool(self.found and self.bound == (self.length or 0) - 1 and self.proven),
            "max_ops": self.max_ops,
            "lower_bound": self.bound or None,
            "pruned": self.pruned,
            "unsafe_merges": self.unsafe_merges,
            "truncated": self.truncated,
            "cpu_seconds": round(self.seconds, 1),
            "candidates": self.candidates,
            **self.settings,
        }


def _operator_form(body: str, x: str, y: str = "") -> str:
    """``x + 1`` over expression e as ``(e + 1)``: operators, not maps, so
    that shifts and comparisons of indices stay RASP-L."""
    left, op, right = body.split(" ", 2)
    names = {"x": x, "y": y}
    return f"({names.get(left, left)} {op} {names.get(right, right)})"


class Searcher:
    def __init__(
        self,
        task: Task,
        max_ops: int,
        sample_lengths: list[int],
        per_length: int = 16,
        seed: int = 0,
        verify_max: int = 50,
        verify_n: int = 100,
    ):
        self.task = task
        self.max_ops = max_ops
        self.codes = TokenCodes(task.vocab)
        self.verify_max = verify_max
        self.verify_n = verify_n
        self.unsafe_merges = 0
        self.tokens_per, self.targets, self.masks, self.causal = [], [], [], []
        for length in sample_lengths:
            batch = task.sample(np.random.default_rng([seed, length]), per_length, length)
            lm = to_lm_batch(batch)
            self.tokens_per.append(self.codes.id_to_code[lm.tokens])
            self.targets.append(self.codes.id_to_code[lm.labels])
            self.masks.append(lm.loss_mask)
            n = lm.tokens.shape[1]
            self.causal.append(np.triu(np.ones((n, n), dtype=bool)))
        self.target_flat = np.concatenate([t[m] for t, m in zip(self.targets, self.masks)])
        _, self.target_ids = np.unique(self.target_flat, return_inverse=True)
        self.n_targets = int(self.target_ids.max()) + 1
        symbols = sorted(self.codes.symbol_codes, reverse=True)
        # the task's own symbols when there are few (specials first)
        self.symbols = [c for c in symbols if len(symbols) <= MAX_SYMBOL_CONSTANTS or c >= -3]
        self.seqs: dict[bytes, Seq] = {}
        self.sels: dict[bytes, Sel] = {}
        self.candidates = 0
        self.goal_directed = True

    # --- building candidates ----------------------------------------------
    def add_seq(self, seq: Seq) -> Seq | None:
        if seq.cost > self.max_ops or not all(np.isfinite(a).all() for a in seq.per):
            return None
        key = signature(seq.per)
        old = self.seqs.get(key)
        self.candidates += 1
        if old is None or (seq.cost, not seq.bounded) < (old.cost, not old.bounded):
            if old is not None and not seq.ops <= old.ops:
                self.unsafe_merges += 1
            self.seqs[key] = seq
            return seq
        if not old.ops <= seq.ops:
            self.unsafe_merges += 1
        return None

    def read_cost(self, seq: Seq) -> frozenset:
        """What attention pays to read ``seq``: a block counts once."""
        if seq.read is None:
            constant = seq.vset is not None and len(seq.vset) == 1  # a constant is free (normal form)
            counted = seq.elementwise and not constant
            seq.read = seq.ops | {op_id("block", signature(seq.per).hex())} if counted else seq.ops
        return seq.read

    def map1(self, seq: Seq, body: str, kind: str) -> Seq:
        fn = Lambda.parse(("x",), body, self.codes.code)
        with np.errstate(all="ignore"):
            per = [fn.vectorised(a) for a in seq.per]
        vset = frozenset(fn.scalar(v) for v in seq.vset) if seq.vset is not None and kind == "token" else None
        if kind == "token" and seq.kind != "token":  # a comparison of an index or a mean
            vset = frozenset([0.0, 1.0])
        expr = _operator_form(body, seq.expr)
        # a sign flip of what it maps is free, as in the normal form (max of -x is -min)
        return Seq(expr, kind, per, seq.ops, elementwise=body != "0 - x", vset=vset)

    def map2(self, a: Seq, b: Seq, body: str, kind: str) -> Seq:
        fn = Lambda.parse(("x", "y"), body)
        with np.errstate(all="ignore"):
            per = [fn.vectorised(x, y) for x, y in zip(a.per, b.per)]
        vset = None
        if kind == "token":
            if a.vset is not None and b.vset is not None and len(a.vset) * len(b.vset) <= 10_000:
                vset = frozenset(fn.scalar(x, y) for x in a.vset for y in b.vset)
            if a.kind != "token" or b.kind != "token" or body in ("x == y", "x < y"):
                vset = frozenset([0.0, 1.0])
        expr = _operator_form(body, a.expr, b.expr)
        return Seq(expr, kind, per, a.ops | b.ops, elementwise=True, vset=vset)

    def unary_maps(self, seq: Seq) -> list[Seq]:
        out = []
        if seq.bounded:
            consts = [0.0, 1.0] + [c for c in self.symbols if seq.vset is None or c in seq.vset]
            for body in ("x + 1", "x - 1", "0 - x", "x % 2", "x > 0", "x >= 0"):
                out.append(self.map1(seq, body, "token"))
            for c in consts:
                literal = f'"{self.codes.token(c)}"' if c in self.codes.symbol_codes else f"{c:g}"
                out.append(self.map1(seq, f"x == {literal}", "token"))
        else:
            out += [self.map1(seq, "x + 1", seq.kind), self.map1(seq, "x - 1", seq.kind)]
            out += [self.map1(seq, body, "token") for body in ("x == 0", "x == 1", "x > 0")]
            if seq.kind == "number":  # a majority: more than half of the selected positions
                out.append(self.map1(seq, "x > 0.5", "token"))
        return out

    def binary_maps(self, a: Seq, b: Seq) -> list[Seq]:
        if a.bounded and b.bounded:
            return [self.map2(a, b, body, "token") for body in ("x + y", "x - y", "x == y", "x < y")]
        return [self.map2(a, b, body, "token") for body in ("x == y", "x < y")]

    def full(self, value: float) -> Seq:
        per = [np.full(t.shape, value) for t in self.tokens_per]
        return Seq(f"full({value:g})", "token", per, frozenset(), elementwise=True, vset=frozenset([value]))

    def select(self, keys: Seq, queries: Seq, pred: str) -> Sel | None:
        if pred == "true":  # reads neither keys nor queries
            expr, reads = "select(tokens, tokens, true)", frozenset()
        else:
            expr, reads = f"select({keys.expr}, {queries.expr}, {pred})", self.read_cost(keys) | self.read_cost(queries)
        ops = reads | {op_id("select", expr)}
        if len(ops) > self.max_ops:
            return None
        # the interpreter's own primitives, so a candidate means what the verified program will
        per = [select_matrix(k, q, pred, causal) for k, q, causal in zip(keys.per, queries.per, self.causal)]
        if not any(p.any() for p in per):
            return None
        sel = Sel(expr, per, frozenset(ops))
        key = signature(per)
        old = self.sels.get(key)
        self.candidates += 1
        if old is None or len(sel.ops) < len(old.ops):
            if old is not None and not sel.ops <= old.ops:
                self.unsafe_merges += 1
            self.sels[key] = sel
            return sel
        if not old.ops <= sel.ops:
            self.unsafe_merges += 1
        return None

    def attend(self, sel: Sel, values: Seq) -> list[Seq]:
        """aggregate (max, and mean when allowed) and selector_width over ``sel``."""
        out = []
        base = sel.ops | self.read_cost(values)
        for reduction in ("max", "mean"):
            if reduction == "mean" and (values.vset is None or values.vset & self.codes.symbol_codes):
                continue  # never a mean over symbols (see lengthgen.rasp.valuesets)
            expr = f"aggregate({sel.expr}, {values.expr}, 0{', max' if reduction == 'max' else ''})"
            ops = base | {op_id("aggregate", expr)}
            if len(ops) > self.max_ops:
                continue
            per = [aggregate(s, v, reduction, 0.0) for s, v in zip(sel.per, values.per)]
            kind = values.kind if reduction == "max" else "number"
            vset = (values.vset | {0.0}) if reduction == "max" and values.vset is not None else None
            out.append(Seq(expr, kind, per, frozenset(ops), vset=vset))
        return out

    def width(self, sel: Sel) -> Seq | None:
        expr = f"selector_width({sel.expr})"
        ops = sel.ops | {op_id("width", expr)}
        per = [selector_width(s) for s in sel.per]
        return Seq(expr, "index", per, frozenset(ops))

    # --- the readout --------------------------------------------------------
    def flat(self, seq: Seq) -> np.ndarray:
        if seq.flat is None:
            seq.flat = np.concatenate([a[m] for a, m in zip(seq.per, self.masks)])
        return seq.flat

    def ids(self, seq: Seq) -> np.ndarray:
        """Small integer ids of ``seq``'s values at output positions."""
        if seq.ids is None:
            seq.ids = np.unique(self.flat(seq), return_inverse=True)[1].astype(np.int64)
        return seq.ids

    def determines(self, inputs: list[Seq]) -> bool:
        """Whether the target is a function of (tokens, inputs) on the
        sample: necessary for any readout over them (sound pruning)."""
        key = self.ids(self.tokens)
        for seq in inputs:
            ids = self.ids(seq)
            key = key * (int(ids.max()) + 1) + ids
        key = np.unique(key, return_inverse=True)[1].astype(np.int64)
        groups = int(key.max()) + 1
        return groups == np.unique(key * self.n_targets + self.target_ids).shape[0]

    def information(self, seq: Seq) -> float:
        """Conditional entropy of the target given (tokens, seq) at output
        positions: the beam keeps the candidates that say most about it."""
        columns = np.stack([self.flat(self.tokens), self.flat(seq), self.target_flat], axis=1)
        _, joint = np.unique(columns, axis=0, return_counts=True)
        _, given = np.unique(columns[:, :2], axis=0, return_counts=True)
        n = len(columns)
        return float(-(joint / n * np.log(joint)).sum() + (given / n * np.log(given)).sum())

    def readouts(self, inputs: list[Seq], names: list[str]):
        """Decision lists of where(condition, value, ...) over element-wise
        functions of ``tokens`` and ``inputs`` (called ``names`` in the
        program) that give the target at every output position of the
        sample, as RASP expressions."""
        named = [Seq("tokens", "token", self.tokens.per, frozenset(), vset=self.tokens.vset)]
        named += [Seq(n, s.kind, s.per, s.ops, vset=s.vset) for s, n in zip(inputs, names)]
        values: list[tuple[str, np.ndarray]] = []
        for seq in named:
            values.append((seq.expr, self.flat(seq)))
            if seq.bounded or seq.kind == "index":
                values += [(m.expr, self.flat(m)) for m in self.unary_maps(seq)[:3]]
        for c in sorted(set(self.target_flat.tolist())):
            values.append((f"full({self.literal(c)})", np.full(self.target_flat.shape, c)))
        conds: list[tuple[str, np.ndarray]] = []
        for seq in named:
            for m in self.unary_maps(seq):
                if m.vset is not None and m.vset <= {0.0, 1.0}:
                    conds.append((m.expr, self.flat(m) != 0))
        for a, b in itertools.combinations(named, 2):
            for m in self.binary_maps(a, b):
                if m.vset is not None and m.vset <= {0.0, 1.0}:
                    conds.append((m.expr, self.flat(m) != 0))
        hits = [(expr, v == self.target_flat) for expr, v in values]
        everywhere = np.ones(self.target_flat.shape, dtype=bool)
        self.budget_nodes = MAX_READOUT_NODES
        self.failed: set[tuple[bytes, int]] = set()
        for depth in range(READOUT_DEPTH + 1):  # the shortest decision lists first
            yield from self._decide(everywhere, hits, conds, depth, exact=True)

    def literal(self, code: float) -> str:
        return f'"{self.codes.token(code)}"' if code in self.codes.symbol_codes else f"{code:g}"

    def _decide(self, rows: np.ndarray, hits, conds, depth: int, exact: bool = False):
        """Decision lists of at most ``depth`` conditions (exactly ``depth``
        when ``exact``, so iterative deepening yields each list once)."""
        if not exact or depth == 0:
            for expr, hit in hits:
                if hit[rows].all():
                    yield expr
                    return
        if depth == 0:
            return
        memo = (np.packbits(rows).tobytes(), depth)
        if memo in self.failed:
            return
        found = False
        for cond_expr, cond in conds:
            for polarity in (True, False):
                chosen = rows & (cond if polarity else ~cond)
                rest = rows & ~chosen
                if not chosen.any() or not rest.any():
                    continue
                self.budget_nodes -= 1
                if self.budget_nodes < 0:
                    return
                for expr, hit in hits:
                    if hit[chosen].all():
                        c = cond_expr if polarity else f"!({cond_expr})"
                        for tail in self._decide(rest, hits, conds, depth - 1, exact):
                            found = True
                            yield f"where({c}, {expr}, {tail})"
                        break
        if not found:
            self.failed.add(memo)

    # --- the search -----------------------------------------------------------
    def start(self) -> None:
        """The leaves and empty candidate stores (``run`` calls it)."""
        self.tokens = Seq("tokens", "token", self.tokens_per, frozenset(), vset=self.codes.token_values())
        shape = [t.shape for t in self.tokens_per]
        indices = Seq(
            "indices", "index", [np.broadcast_to(np.arange(s[1], dtype=float), s).copy() for s in shape], frozenset()
        )
        # what attention reads at no cost of its own: the leaves, their maps, constants
        self.base_reads = [self.tokens, indices, self.full(0.0), self.full(1.0)]
        self.base_reads += self.unary_maps(self.tokens) + self.unary_maps(indices)
        self.outputs: list[Seq] = []  # attention outputs, cheapest first
        self.tried_sel: set[tuple] = set()
        self.tried_agg: set[tuple] = set()
        self.tried_readout: set[frozenset] = set()
        self.pruned = False
        self.truncated = False

    def run(self, deadline: float, progress: Callable[[str], None] | None = None) -> SearchResult:
        start = clock()
        result = SearchResult(self.task.name, self.max_ops, False)
        self.start()
        stopped = False
        goal = GoalSearch(self) if self.goal_directed else None
        pending: tuple[int, str] | None = None  # a goal-directed program, returned once nothing shorter can come
        try:
            for budget in range(1, self.max_ops + 1):
                if pending is not None and pending[0] <= budget:
                    break
                if progress:
                    progress(
                        f"length {budget}: {len(self.outputs):,} attention outputs, {len(self.sels):,} selectors, "
                        f"{self.candidates:,} candidates"
                    )
                self._grow(budget, deadline)
                if self._try_readouts(budget, deadline, result):
                    result.found_by = "bottom-up"
                    break
                if clock() > deadline:
                    stopped = True
                    break
                if not self.pruned:
                    result.bound = budget
                if goal is not None:
                    limit = pending[0] - 1 if pending else self.max_ops
                    pending = self._goal(goal, limit, deadline, result) or pending
                    if pending and progress:
                        progress(
                            f"goal-directed: a program of length {pending[0]} (returned unless a shorter one is found)"
                        )
        except KeyboardInterrupt:
            stopped = True
        if pending is not None and not result.found:
            result.found, result.length, result.program = True, pending[0], pending[1]
            result.depth = compile_source(pending[1], "<search>", self.codes).normal.depth
            result.found_by = "goal"
            result.shorter_unsearched = stopped and budget < pending[0]
        result.seconds = clock() - start
        result.candidates = self.candidates
        result.exhaustive = not (result.found or stopped or self.pruned)
        result.pruned, result.unsafe_merges, result.truncated = self.pruned, self.unsafe_merges, self.truncated
        return result

    def _reads(self) -> list[Seq]:
        """What attention may read: the base reads, attention outputs, and
        their shifts (x + 1, x - 1) and negation."""
        out = list(self.base_reads)
        for seq in self.outputs:
            out.append(seq)
            out += [self.map1(seq, "x + 1", seq.kind), self.map1(seq, "x - 1", seq.kind)]
            if seq.bounded:
                out.append(self.map1(seq, "0 - x", "token"))
        return out

    def _grow(self, budget: int, deadline: float) -> None:
        """Every selector and attention output of length exactly ``budget``
        (selectors of length ``budget - 1`` feed them)."""
        reads = [r for r in self._reads() if len(self.read_cost(r)) <= budget - 1]
        for keys in reads:
            if clock() > deadline:
                return
            for queries in reads:
                # tried pairs are remembered by expression: the lists are rebuilt every length
                pair = (keys.expr, queries.expr)
                if pair in self.tried_sel or len(self.read_cost(keys) | self.read_cost(queries)) + 1 > budget - 1:
                    continue
                self.tried_sel.add(pair)
                for pred in PREDICATES[:-1]:
                    self.select(keys, queries, pred)
        self.select(self.tokens, self.tokens, "true")
        fresh: list[Seq] = []
        all_reads = self._reads()
        for sel in list(self.sels.values()):
            if clock() > deadline:
                return
            if len(sel.ops) + 1 > budget:
                continue
            if (sel.expr, "width") not in self.tried_agg:
                self.tried_agg.add((sel.expr, "width"))
                fresh.append(self.width(sel))
            for values in all_reads:
                if (sel.expr, values.expr) in self.tried_agg or len(sel.ops | self.read_cost(values)) + 1 > budget:
                    continue
                self.tried_agg.add((sel.expr, values.expr))
                fresh += self.attend(sel, values)
        kept = [s for s in fresh if self.add_seq(s) is not None]
        if len(kept) > self.beam:
            self.pruned = True
            kept.sort(key=lambda s: (self.information(s), s.cost))
            for s in kept[self.beam :]:
                self.seqs.pop(signature(s.per), None)
            kept = kept[: self.beam]
        self.outputs += kept

    def _try_readouts(self, budget: int, deadline: float, result: SearchResult) -> bool:
        outputs = [s for s in self.outputs if s.cost <= budget]
        combos: list[tuple[Seq, ...]] = [(s,) for s in outputs]
        combos += [c for c in itertools.combinations(outputs, 2) if len(c[0].ops | c[1].ops) <= budget]
        small = outputs[:THREE_INPUT_OUTPUTS]
        if len(outputs) > THREE_INPUT_OUTPUTS and budget >= 3:
            self.truncated = True  # said in the result: no lower bound once this cuts
        combos += [c for c in itertools.combinations(small, 3) if len(c[0].ops | c[1].ops | c[2].ops) <= budget]
        combos.sort(key=lambda c: len(frozenset().union(*(s.ops for s in c))))
        for combo in combos:
            key = frozenset(s.expr for s in combo)
            if key in self.tried_readout:
                continue
            self.tried_readout.add(key)
            if clock() > deadline:
                return False
            if not self.determines(list(combo)):
                continue
            names = [f"a{i + 1}" for i in range(len(combo))]
            for n, expr in enumerate(self.readouts(list(combo), names)):
                if n >= MAX_READOUTS:
                    break
                source = "".join(f"{name} = {s.expr};\n" for name, s in zip(names, combo)) + f"output = {expr};\n"
                if self._verify(source):
                    ops = frozenset().union(*(s.ops for s in combo))
                    result.found, result.length, result.program = True, len(ops), source
                    result.depth = compile_source(source, "<search>", self.codes).normal.depth
                    return True
                result.rejected.append(source)
        return False

    def _goal(self, goal: GoalSearch, limit: int, deadline: float, result: SearchResult) -> tuple[int, str] | None:
        """The shortest verified program of at most ``limit`` operations whose
        last aggregate the goal-directed stage proposes (lengthgen.rasp.goal)."""
        tried: set[str] = set()
        for length, pred, keys, query, values in goal.candidates(limit, deadline):
            if clock() > deadline:
                return None
            last = goal.materialise(pred, keys, query, values)
            if last.expr in tried or not self.determines([last]):
                continue
            tried.add(last.expr)
            for n, expr in enumerate(self.readouts([last], ["a1"])):
                if n >= MAX_READOUTS:
                    break
                source = f"a1 = {last.expr};\noutput = {expr};\n"
                if self._verify(source):
                    return length, source
                result.rejected.append(source)
        return None

    def _verify(self, source: str) -> bool:
        try:
            program = compile_source(source, "<search>", self.codes)
        except RaspError:
            return False
        top = min(self.verify_max, self.task.max_length() or self.verify_max)
        lengths = list(range(self.task.min_length, top + 1))
        quick = [n for n in lengths if n <= 16]
        if not check_program(program, self.task, quick, 20, seed=2).passed:
            return False
        return check_program(program, self.task, lengths, self.verify_n, seed=1).passed


def search(
    task: Task,
    max_ops: int,
    time_limit: float = 600.0,
    sample_max: int = 10,
    per_length: int = 24,
    seed: int = 0,
    beam: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> SearchResult:
    """The shortest program (normal-form length) for ``task`` up to ``max_ops``."""
    if not 1 <= max_ops <= 12:
        raise LengthgenError(f"--max-ops must be in 1..12, got {max_ops}")
    if not 1 <= time_limit <= 86_400:
        raise LengthgenError(f"--time-limit must be in 1..86400 CPU-seconds, got {time_limit}")
    if not 1 <= beam <= 1_000_000:
        raise LengthgenError(f"--beam must be in 1..1000000, got {beam}")
    top = min(sample_max, task.max_length() or sample_max)
    lengths = list(range(task.min_length, max(task.min_length, top) + 1))
    searcher = Searcher(task, max_ops, lengths, per_length, seed)
    searcher.beam = beam
    result = searcher.run(clock() + time_limit, progress)
    result.settings = {
        "grammar": GRAMMAR,
        "beam": beam,
        "sample": {"lengths": f"{lengths[0]}-{lengths[-1]}", "per_length": per_length, "seed": seed},
        "verified": f"{task.min_length}-{min(searcher.verify_max, task.max_length() or searcher.verify_max)}",
    }
    return result
