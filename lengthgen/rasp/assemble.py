"""RASP-L program -> weights of a causal transformer (the construction).

The program graph is laid out in one residual stream, as tracr does it
(Lindner et al., 2023), with its own choices for next-token programs:

- every sequence is **categorical** (a one-hot block, one dimension per
  value it can take at the given maximum length) except a mean over several
  keys, which is **numerical** (one dimension holding the number);
- ``tokens`` come from the token embedding, ``indices`` from a learned
  absolute position table (only when the program reads ``indices``:
  otherwise the model has no positional encoding at all), a ``full(c)``
  is the constant dimension ``one`` that every token carries;
- ``map``, ``seq_map`` and ``where`` are ReLU MLPs that look values up
  (one hidden unit per input value or pair); a map of a number is a
  staircase of ReLU ramps placed between the values the number can take;
- each ``aggregate`` and ``selector_width`` is one attention head.  A
  selector becomes a bilinear query-key table (``B`` per satisfied
  ``select``; ``&`` adds tables; ``|``, or a ``~`` over more than one
  select, first builds a joint key and query encoding with an MLP).  A
  ``max``/``min`` aggregate adds ``S * rank(value)`` to every key so that
  softmax lands on the largest selected value.  Every head has an
  attention *sink*: one extra key and value seen by every query (as
  ``nn.MultiheadAttention(add_bias_kv=True)``), scored just below a
  selected key: when nothing is selected the sink writes the default.
  ``selector_width`` scores the sink like a selected key, so the head reads
  1 / (w + 1) and an MLP turns that into w (tracr does this with a BOS
  token);
- a node is computed in the first sublayer of its kind after its inputs,
  so the depth is the longest chain of attention and MLP steps.

Exactness: softmax is never exactly hard, so scores are spaced so that
every neglected weight is below e^-40 (float64 keeps that as noise far
below every MLP threshold).  Weights that grow with the maximum length are
those of positions, counts and means (one dimension per value);
:func:`growth` finds them by assembling at two lengths.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.graph import Node, reachable
from lengthgen.rasp.reference import COMPARE  # one scalar meaning of each predicate

# logit spacing: a neglected key is at least GAP below the one that wins
GAP = 50.0
RANK_STEP = 40.0  # between two ranks of a max/min aggregate's values
# caps that keep a compiled model a few hundred MB at most
MAX_BLOCK = 20_000  # values one sequence may take
MAX_NEURONS = 200_000  # hidden units of one MLP operation
MAX_SUPPORT = 5_000_000  # candidate values of a mean enumerated
# an element-wise expression is one MLP over its sources' value
# combinations when there are at most this many
FUSE_ROWS = 4096
ELEMENTWISE = ("map", "seq_map", "where", "full")


class CompileError(LengthgenError):
    """A program (or one operation of it) that the construction cannot compile."""


def where_(node: Node) -> str:
    line, col = node.loc
    return f"line {line}:{col}: " if line else ""


@dataclass
class Block:
    """A sequence's place in the residual stream.  Categorical: ``dims[value]``
    lists the (residual dim, weight) pairs whose weighted sum is the
    indicator of that value (one pair for a block of its own; a map of one
    categorical sequence sums its source's indicators and needs no layer;
    values may be tuples for joint encodings).  Numerical: ``dim`` and the
    sorted ``support``, every value it can take."""

    dims: dict = field(default_factory=dict)
    dim: int = -1
    support: np.ndarray | None = None
    time: int = 0  # sublayer that writes it: 0 embedding, 2l+1 attention of layer l, 2l+2 its MLP
    # a categorical block read off a number (number, its support, the value
    # at each support point): a later MLP may read the number instead and
    # save the layer this block cost (see Assembler.gated)
    origin: tuple | None = None

    @property
    def numeric(self) -> bool:
        return self.dim >= 0

    def values(self) -> list:
        return list(self.dims)


@dataclass
class HeadSpec:
    """One attention head as sparse entries (residual dim, head coordinate, value)."""

    layer: int
    label: str
    q: list = field(default_factory=list)
    k: list = field(default_factory=list)
    v: list = field(default_factory=list)
    o: list = field(default_factory=list)  # (value coordinate, residual dim, value)
    sink_k: dict = field(default_factory=dict)
    sink_v: dict = field(default_factory=dict)
    n_qk: int = 0
    n_v: int = 0


@dataclass
class MlpSpec:
    layer: int
    label: str
    w1: list = field(default_factory=list)  # (residual dim, hidden unit, value)
    w2: list = field(default_factory=list)  # (hidden unit, residual dim, value)
    n: int = 0

    def unit(self) -> int:
        self.n += 1
        if self.n > MAX_NEURONS:
            raise CompileError(f"{self.label}: needs more than {MAX_NEURONS:,} hidden units")
        return self.n - 1


@dataclass
class Assembly:
    """Everything a :class:`~lengthgen.models.compiled.CompiledTransformer` is built from."""

    width: int
    n_layers: int
    heads: list[HeadSpec]
    mlps: list[MlpSpec]
    token_embedding: list  # (token id, residual dim, value)
    position_embedding: list  # (position, residual dim, value)
    readout: list  # (residual dim, token id, value)
    output_read: list  # (residual dim, output value's index, weight): the output's indicators
    output_values: np.ndarray  # the value each index stands for
    vocab_size: int
    max_positions: int
    uses_positions: bool
    # whether any weight depends on max_positions (positions, counts, means):
    # if not, the model is right at every length
    length_bound: bool
    causal: bool
    ops: list[tuple[str, str, int]]  # (operation, sublayer kind, size) for the report

    def layer_heads(self, layer: int) -> list[HeadSpec]:
        return [h for h in self.heads if h.layer == layer]

    def layer_mlps(self, layer: int) -> list[MlpSpec]:
        return [m for m in self.mlps if m.layer == layer]


def mean_support(values: list[float], max_keys: int, default: float) -> np.ndarray:
    """Every value a mean of 1..max_keys integers drawn from ``values`` can
    take (a superset: every integer sum between the extremes), and the default.

    >>> mean_support([0.0, 1.0], 3, 0.0).tolist()
    [0.0, 0.3333333333333333, 0.5, 0.6666666666666666, 1.0]
    """
    lo, hi = min(values), max(values)
    total = sum(int(q * (hi - lo)) + 1 for q in range(1, max_keys + 1))
    if total > MAX_SUPPORT:
        raise CompileError(f"a mean can take about {total:,} values (more than {MAX_SUPPORT:,})")
    parts = [np.arange(q * lo, q * hi + 1) / q for q in range(1, max_keys + 1)]
    return np.unique(np.concatenate([*parts, [default]]))


class Assembler:
    """Lays out one program at one maximum sequence length ``max_len``."""

    def __init__(self, output: Node, codes: TokenCodes, max_len: int, causal: bool = True):
        if max_len < 1:
            raise CompileError(f"--max-len must be >= 1, got {max_len}")
        token_values = codes.token_values()
        if token_values is None:
            raise CompileError("compiling needs a vocabulary: give the program a '# task:' or '# vocab:' header")
        self.codes = codes
        self.max_len = max_len
        self.causal = causal
        self.width = 1  # dimension 0 is `one`
        self.blocks: dict[int, Block] = {}
        self.categorical: dict[int, Block] = {}
        self.heads: list[HeadSpec] = []
        self.mlps: list[MlpSpec] = []
        self.token_embedding = [(t, 0, 1.0) for t in range(len(codes.vocab))]
        self.position_embedding: list = []
        self.uses_positions = False
        self.length_bound = False
        self.ops: list[tuple[str, str, int]] = []
        self.fused: dict[int, list[Node]] = {}
        self.output = output

    # --- residual stream ----------------------------------------------------
    def new_block(self, values: list, time: int, what: str) -> Block:
        if len(values) > MAX_BLOCK:
            raise CompileError(f"{what}: takes {len(values):,} values at this length (more than {MAX_BLOCK:,})")
        dims = {}
        for value in values:
            dims[value] = [(self.width, 1.0)]
            self.width += 1
        return Block(dims=dims, time=time)

    def new_number(self, support: np.ndarray, time: int) -> Block:
        self.width += 1
        return Block(dim=self.width - 1, support=support, time=time)

    @staticmethod
    def attention_time(*inputs: Block) -> int:
        t = max((b.time for b in inputs), default=0)
        return t + 1 if t % 2 == 0 else t + 2

    @staticmethod
    def mlp_time(*inputs: Block) -> int:
        t = max((b.time for b in inputs), default=0)
        return t + 2 if t % 2 == 0 else t + 1

    def mlp(self, time: int, label: str) -> MlpSpec:
        spec = MlpSpec(layer=time // 2 - 1, label=label)
        self.mlps.append(spec)
        return spec

    # --- sequences ----------------------------------------------------------
    def block(self, node: Node) -> Block:
        if node.uid not in self.blocks and node.op in ELEMENTWISE:
            self.blocks[node.uid] = self.elementwise(node)
        if node.uid not in self.blocks:
            handler: Callable[[Node], Block] = getattr(self, f"op_{node.op}")
            self.blocks[node.uid] = handler(node)
        return self.blocks[node.uid]

    def cat(self, node: Node) -> Block:
        """The node as a one-hot block (a number is discretized by an MLP)."""
        found = self.block(node)
        if not found.numeric:
            return found
        if node.uid not in self.categorical:
            self.categorical[node.uid] = self.number_map(
                node, found, lambda x: x, f"{where_(node)}{node.name} as values"
            )
        return self.categorical[node.uid]

    def op_tokens(self, node: Node) -> Block:
        values = sorted(self.codes.token_values())
        block = self.new_block(values, 0, "tokens")
        for token_id, code in enumerate(self.codes.id_to_code):
            self.token_embedding.append((token_id, at(block, float(code)), 1.0))
        return block

    def op_indices(self, node: Node) -> Block:
        self.uses_positions = True
        block = self.new_block([float(i) for i in range(self.max_len)], 0, "indices")
        self.position_embedding = [(i, at(block, float(i)), 1.0) for i in range(self.max_len)]
        self.ops.append(("indices", "embedding", self.max_len))
        return block

    # --- element-wise blocks -------------------------------------------------
    def sources(self, node: Node) -> list[Node]:
        """The sequences an element-wise node is computed from in one MLP:
        the nearest attention outputs, tokens and indices behind its chain
        of maps, when their value combinations are few (at most FUSE_ROWS);
        else its direct arguments.  A number (a mean) is a source only on
        its own: a map of it is a staircase, a combination of it with
        anything would enumerate its values."""
        if node.op not in ELEMENTWISE:
            return [node]
        if node.uid in self.fused:
            return self.fused[node.uid]
        found: dict[int, Node] = {}
        for arg in node.args:
            inner = self.sources(arg)
            if arg.op in ELEMENTWISE and any(self.block(x).numeric for x in inner) and len(node.args) > 1:
                inner = [arg]
            found.update((x.uid, x) for x in inner)
        chosen = list(found.values())
        numbers = [x for x in chosen if self.block(x).numeric]
        if numbers and len(chosen) > 1 or np.prod([float(len(self.block(x).dims)) for x in chosen]) > FUSE_ROWS:
            chosen = [a for a in node.args if a.op != "full"]
        self.fused[node.uid] = chosen
        return chosen

    def elementwise(self, node: Node) -> Block:
        label = f"{where_(node)}{node.name}"
        sources = self.sources(node)
        if not sources:
            return Block(dims={float(evaluate(node, {}, 1)[0]): [(0, 1.0)]}, time=0)
        if len(sources) == 1:
            src = sources[0]
            found = self.block(src)
            if found.numeric:
                return self.number_map(node, found, lambda xs: evaluate(node, {src.uid: xs}, len(xs)), label)
            values = found.values()
            out = evaluate(node, {src.uid: np.array(values, dtype=np.float64)}, len(values))
            # the indicator of f(x) = v is the sum of x's indicators over
            # f's preimage of v: linear, so no layer of its own
            dims: dict = {}
            for v, o in zip(values, out):
                if np.isfinite(o):
                    dims.setdefault(float(o), []).extend(found.dims[v])
            if not dims:
                raise CompileError(f"{label}: no value of its input gives a finite result")
            self.ops.append((label, "linear", len(dims)))
            origin = None
            if found.origin is not None:
                number, xs, ys = found.origin
                mapped = evaluate(node, {src.uid: ys}, len(ys))
                keep = np.isfinite(mapped)
                origin = (number, xs[keep], mapped[keep])
            return Block(dims=dims, time=found.time, origin=origin)
        blocks = [self.cat(x) for x in sources]
        gated = self.gated(node, sources, blocks, label)
        if gated is not None:
            return gated
        rows = float(np.prod([len(b.dims) for b in blocks]))
        if rows > MAX_NEURONS:
            if node.op == "where":
                return self.where_mlp(node, label)
            raise CompileError(f"{label}: {rows:,.0f} combinations of its inputs' values (more than {MAX_NEURONS:,})")
        grids = np.meshgrid(*[np.array(b.values(), dtype=np.float64) for b in blocks], indexing="ij")
        flat = [g.ravel() for g in grids]
        out = evaluate(node, {x.uid: f for x, f in zip(sources, flat)}, len(flat[0]))
        if node.op == "where" and rows > FUSE_ROWS:
            return self.where_mlp(node, label)
        return self.tabulate(blocks, flat, out, label)

    def gated(self, node: Node, sources: list[Node], blocks: list[Block], label: str) -> Block | None:
        """f of a categorical block read off a number (a count's one-hot,
        say) and of other categorical blocks, computed from the number
        itself in the MLP after it: one staircase over the number per
        combination of the other values, each gated by the indicators of its
        combination (a gate that is off subtracts more than any ramp can
        reach).  This saves the layer the one-hot cost.  None when it does
        not apply or saves nothing."""
        read_off = [i for i, b in enumerate(blocks) if b.origin is not None]
        if len(read_off) != 1:
            return None
        i = read_off[0]
        number, xs, values = blocks[i].origin
        others = [b for j, b in enumerate(blocks) if j != i]
        other_nodes = [x for j, x in enumerate(sources) if j != i]
        time = self.mlp_time(number, *others)
        combos = list(itertools.product(*[b.values() for b in others]))
        if time >= self.mlp_time(*blocks) or len(combos) > FUSE_ROWS:
            return None
        tables = []
        for combo in combos:
            env = {sources[i].uid: values}
            env.update({x.uid: np.full(len(xs), float(v)) for x, v in zip(other_nodes, combo)})
            ys = evaluate(node, env, len(xs))
            keep = np.isfinite(ys)
            if keep.any():
                tables.append((combo, xs[keep], ys[keep]))
        if not tables:
            raise CompileError(f"{label}: no combination of its inputs' values gives a finite result")
        block = self.new_block(sorted({float(y) for _, _, ys in tables for y in ys}), time, label)
        spec = self.mlp(time, label)
        k = len(others)
        span = float(xs[-1] - xs[0])
        for combo, cx, cy in tables:
            gate = [(b, v) for b, v in zip(others, combo)]
            base = spec.unit()
            for b, v in gate:
                spec.w1 += read(b, v, base)
            spec.w1.append((0, base, -(k - 1.0)))
            spec.w2.append((base, at(block, float(cy[0])), 1.0))
            for j in np.flatnonzero(cy[1:] != cy[:-1]) + 1:
                lo, hi = cx[j - 1], cx[j]
                slope, mid = 2.0 / (hi - lo), (lo + hi) / 2
                off = slope * span + 2.0  # more than a ramp reaches anywhere on the support
                up, down = spec.unit(), spec.unit()
                for unit, bias in ((up, 1.0 - slope * mid), (down, -slope * mid)):
                    spec.w1.append((number.dim, unit, slope))
                    for b, v in gate:
                        spec.w1 += read(b, v, unit, off)
                    spec.w1.append((0, unit, bias - off * k))
                new, old = at(block, float(cy[j])), at(block, float(cy[j - 1]))
                spec.w2 += [(up, new, 1.0), (up, old, -1.0), (down, new, -1.0), (down, old, 1.0)]
        self.ops.append((label, "mlp", spec.n))
        return block

    def tabulate(self, blocks: list[Block], flat: list[np.ndarray], out: np.ndarray, label: str) -> Block:
        """f given on every combination of the inputs' values: a staircase
        over a signed sum when f is one, else a lookup table."""
        keep = np.isfinite(out)
        flat, out = [f[keep] for f in flat], out[keep]
        if not len(out):
            raise CompileError(f"{label}: no combination of its inputs' values gives a finite result")
        found = self.linear(blocks, flat, out, label)
        if found is not None:
            return found
        table = {tuple(float(f[i]) for f in flat): float(out[i]) for i in range(len(out))}
        return self.lookup(blocks, table, label)

    def number_map(self, node: Node, source: Block, fn: Callable, label: str) -> Block:
        """A map of a number: f is constant between neighbouring values the
        number can take, so a staircase with one step per change of f."""
        xs = source.support
        ys = np.asarray(fn(xs), dtype=np.float64)
        keep = np.isfinite(ys)
        if not keep.any():
            raise CompileError(f"{label}: no value of its input gives a finite result")
        block = self.staircase(xs[keep], ys[keep], [(source.dim, 1.0)], self.mlp_time(source), label)
        block.origin = (source, xs[keep], ys[keep])
        return block

    def staircase(self, xs: np.ndarray, ys: np.ndarray, inputs: list, time: int, label: str) -> Block:
        """An MLP reading x = sum(weight * h[dim] for dim, weight in inputs),
        which takes the sorted values ``xs``, and writing the one-hot of
        ``ys`` (f(x)): relu(a(x-t)+1) - relu(a(x-t)) is 0 below one value
        and 1 from the next one on, so a pair of units per change of f."""
        block = self.new_block(sorted(set(ys.tolist())), time, label)
        spec = self.mlp(time, label)
        base = spec.unit()
        spec.w1.append((0, base, 1.0))
        spec.w2.append((base, at(block, float(ys[0])), 1.0))
        for i in np.flatnonzero(ys[1:] != ys[:-1]) + 1:
            lo, hi = xs[i - 1], xs[i]
            slope, mid = 2.0 / (hi - lo), (lo + hi) / 2
            up, down = spec.unit(), spec.unit()
            for unit, bias in ((up, 1.0 - slope * mid), (down, -slope * mid)):
                spec.w1 += [(dim, unit, slope * weight) for dim, weight in inputs]
                spec.w1.append((0, unit, bias))
            new, old = at(block, float(ys[i])), at(block, float(ys[i - 1]))
            spec.w2 += [(up, new, 1.0), (up, old, -1.0), (down, new, -1.0), (down, old, 1.0)]
        self.ops.append((label, "mlp", spec.n))
        return block

    def linear(self, blocks: list[Block], flat: list[np.ndarray], out: np.ndarray, label: str) -> Block | None:
        """When f of the inputs is a function of a signed sum of them
        (x + y, x - y, x < y, x == y, (x + y) % 10, ...), a staircase over
        that sum: a pair of units per change of f instead of a unit per
        combination of values.  None when no such sum is cheaper."""
        best = None
        for signs in itertools.product((1.0, -1.0), repeat=len(blocks) - 1):
            coef = (1.0, *signs)
            total = sum(c * f for c, f in zip(coef, flat))
            xs, group = np.unique(total, return_inverse=True)
            ys = np.full(len(xs), np.nan)
            ys[group] = out
            if not np.array_equal(ys[group], out):
                continue  # f differs between two inputs with the same sum
            units = 1 + 2 * int(np.count_nonzero(ys[1:] != ys[:-1]))
            if best is None or units < best[0]:
                best = (units, coef, xs, ys)
        if best is None or best[0] >= len(out):
            return None
        _, coef, xs, ys = best
        inputs = [(d, c * float(v) * w) for c, b in zip(coef, blocks) for v in b.dims for d, w in b.dims[v]]
        return self.staircase(xs, ys, inputs, self.mlp_time(*blocks), label)

    def lookup(self, inputs: list[Block], table: dict[tuple, object], label: str, ordered: bool = True) -> Block:
        """An MLP with one hidden unit per row of ``table`` (a tuple of input
        values -> output value): relu(sum of the inputs' one-hots - (k - 1))
        is 1 exactly on that row."""
        time = self.mlp_time(*inputs)
        outputs = sorted(set(table.values())) if ordered else list(dict.fromkeys(table.values()))
        block = self.new_block(outputs, time, label)
        spec = self.mlp(time, label)
        for row, result in table.items():
            unit = spec.unit()
            for source, value in zip(inputs, row):
                spec.w1 += read(source, value, unit)
            spec.w1.append((0, unit, -(len(inputs) - 1.0)))
            spec.w2.append((unit, at(block, result), 1.0))
        self.ops.append((label, "mlp", spec.n))
        return block

    def where_mlp(self, node: Node, label: str) -> Block:
        """One unit per (condition value, value of the branch it picks)."""
        cond, a, b = (self.cat(arg) for arg in node.args)
        values = {v for c in cond.values() for v in (a if c != 0 else b).values()}
        time = self.mlp_time(cond, a, b)
        block = self.new_block(sorted(values), time, label)
        spec = self.mlp(time, label)
        for c in cond.values():
            branch = a if c != 0 else b
            for v in branch.values():
                unit = spec.unit()
                spec.w1 += [*read(cond, c, unit), *read(branch, v, unit), (0, unit, -1.0)]
                spec.w2.append((unit, at(block, v), 1.0))
        self.ops.append((label, "mlp", spec.n))
        return block

    # --- attention ----------------------------------------------------------
    def op_aggregate(self, node: Node) -> Block:
        sel, source = node.args
        reduction, default = node.attr("reduction"), float(node.attr("default"))
        label = f"{where_(node)}{node.name}"
        if reduction == "mean" and not at_most_one_key(sel):
            return self.mean(node, sel, source, default, label)
        values = self.cat(source)
        keys = sorted(values.values())
        outputs = sorted(set(keys) | {default})
        rank = None
        if reduction in ("max", "min"):
            order = keys if reduction == "max" else keys[::-1]
            rank = {v: i for i, v in enumerate(order)}
        head, inputs = self.selector_head(sel, label, rank, values)
        time = self.attention_time(values, *inputs)
        head.layer = time // 2
        block = self.new_block(outputs, time, label)
        head.n_v = len(outputs)
        coord = {v: i for i, v in enumerate(outputs)}
        for v in keys:
            head.v += read(values, v, coord[v])
        head.sink_v[coord[default]] = 1.0
        head.o = [(coord[v], at(block, v), 1.0) for v in outputs]
        self.ops.append((label, "attention", head.n_qk))
        return block

    def mean(self, node: Node, sel: Node, source: Node, default: float, label: str) -> Block:
        values = self.cat(source)
        keys = values.values()
        if not all(float(v).is_integer() for v in keys):
            raise CompileError(
                f"{label}: a mean over several keys of non-integer values; its results form no finite grid "
                "to read them back from"
            )
        support = mean_support(keys, self.max_len, default)
        self.length_bound = True
        head, inputs = self.selector_head(sel, label, None, values)
        time = self.attention_time(values, *inputs)
        head.layer = time // 2
        block = self.new_number(support, time)
        head.n_v = 1
        head.v = [e for v in keys for e in read(values, v, 0, float(v))]
        head.sink_v[0] = default
        head.o = [(0, block.dim, 1.0)]
        self.ops.append((label, "attention", head.n_qk))
        return block

    def op_selector_width(self, node: Node) -> Block:
        label = f"{where_(node)}{node.name}"
        head, inputs = self.selector_head(node.args[0], label, None, None, sink_selected=True)
        time = self.attention_time(*inputs)
        head.layer = time // 2
        widths = np.arange(self.max_len + 1, dtype=np.float64)
        self.length_bound = True
        share = self.new_number(np.sort(1.0 / (widths + 1.0)), time)  # the sink's share, 1/(w+1)
        head.n_v = 1
        head.sink_v[0] = 1.0
        head.o = [(0, share.dim, 1.0)]
        self.ops.append((label, "attention", head.n_qk))
        return self.number_map(node, share, lambda x: np.round(1.0 / x - 1.0), f"{label} (width)")

    def selector_head(
        self,
        sel: Node,
        label: str,
        rank: dict | None,
        values: Block | None,
        sink_selected: bool = False,
    ) -> tuple[HeadSpec, list[Block]]:
        """A head whose scores are ``big`` per satisfied select (plus the
        rank term), with the sink just below a selected key (or equal to it)."""
        head = HeadSpec(layer=-1, label=label)
        literals = conjunction(sel)
        inputs: list[Block] = []
        terms: list[tuple[Block, Block, Callable]] = []
        never = False
        if literals is None:
            keys, queries, test = self.joint(sel, label)
            terms.append((keys, queries, test))
        else:
            for atom, negated in literals:
                pred = atom.attr("pred")
                if pred in ("true", "false"):
                    if (pred == "false") != negated:
                        never = True
                    continue
                k, q = self.cat(atom.args[0]), self.cat(atom.args[1])
                terms.append((k, q, predicate(pred, negated)))
        top = RANK_STEP * (len(rank) - 1) if rank else 0.0
        big = 2.0 * (top + GAP)
        coord = 0
        for keys, queries, test in terms:
            inputs += [keys, queries]
            for qv in queries.dims:
                head.q += read(queries, qv, coord)
                for kv in keys.dims:
                    if test(kv, qv):
                        head.k += read(keys, kv, coord, big)
                coord += 1
        # the constant coordinate: rank of the key's value, and the sink's score
        head.q.append((0, coord, 1.0))
        if rank:
            inputs.append(values)
            for v, r in rank.items():
                head.k += read(values, v, coord, RANK_STEP * r)
        level = big * len(terms)
        if never:
            head.sink_k[coord] = level + big  # the default everywhere
        else:
            head.sink_k[coord] = level if sink_selected else level - big / 2
        head.n_qk = coord + 1
        self.heads.append(head)
        return head, inputs

    def joint(self, sel: Node, label: str) -> tuple[Block, Block, Callable]:
        """A selector that is no conjunction of selects: the key sequences
        and the query sequences it reads each become one joint one-hot block
        (an MLP over value tuples) and the table evaluates the whole formula."""
        atoms = [n for n in reachable(sel) if n.op == "select"]
        key_nodes = list({a.args[0].uid: a.args[0] for a in atoms}.values())
        query_nodes = list({a.args[1].uid: a.args[1] for a in atoms}.values())
        key_blocks = [self.cat(n) for n in key_nodes]
        query_blocks = [self.cat(n) for n in query_nodes]
        keys = self.tuples(key_blocks, f"{label} (joint keys)")
        queries = self.tuples(query_blocks, f"{label} (joint queries)")
        kpos = {n.uid: i for i, n in enumerate(key_nodes)}
        qpos = {n.uid: i for i, n in enumerate(query_nodes)}

        def test(kv: tuple, qv: tuple) -> bool:
            return evaluate_selector(sel, kv, qv, kpos, qpos)

        return keys, queries, test

    def tuples(self, blocks: list[Block], label: str) -> Block:
        if len(blocks) == 1:
            # one sequence: its values as 1-tuples on the same dimensions
            return Block(dims={(v,): d for v, d in blocks[0].dims.items()}, time=blocks[0].time)
        rows = [()]
        for b in blocks:
            rows = [(*r, v) for r in rows for v in b.values()]
            if len(rows) > MAX_BLOCK:
                raise CompileError(f"{label}: more than {MAX_BLOCK:,} joint values")
        return self.lookup(blocks, {r: r for r in rows}, label, ordered=False)

    # --- readout ------------------------------------------------------------
    def assembly(self) -> Assembly:
        out = self.cat(self.output)
        values = list(out.dims)
        readout = []
        for token_id, code in enumerate(self.codes.id_to_code):
            if float(code) in out.dims:
                readout += [(d, token_id, w) for d, w in out.dims[float(code)]]
        depth = max([h.layer + 1 for h in self.heads] + [m.layer + 1 for m in self.mlps] + [0])
        return Assembly(
            width=self.width,
            n_layers=depth,
            heads=self.heads,
            mlps=self.mlps,
            token_embedding=self.token_embedding,
            position_embedding=self.position_embedding,
            readout=readout,
            output_read=[(d, i, w) for i, v in enumerate(values) for d, w in out.dims[v]],
            output_values=np.array(values, dtype=np.float64),
            vocab_size=len(self.codes.vocab),
            max_positions=self.max_len,
            uses_positions=self.uses_positions,
            length_bound=self.length_bound or self.uses_positions,
            causal=self.causal,
            ops=self.ops,
        )


def at(block: Block, value) -> int:
    """The one dimension of a value in a block of its own."""
    ((dim, _),) = block.dims[value]
    return dim


def read(block: Block, value, coord: int, scale: float = 1.0) -> list[tuple[int, int, float]]:
    """Entries (residual dim, coordinate, weight) that read ``scale`` times
    the indicator of ``value`` into ``coord``."""
    return [(dim, coord, scale * weight) for dim, weight in block.dims[value]]


def evaluate(node: Node, env: dict[int, np.ndarray], size: int) -> np.ndarray:
    """An element-wise expression on arrays given for its sources (the
    interpreter's semantics for map, seq_map, where and full)."""
    if node.uid in env:
        return env[node.uid]
    if node.op == "full":
        return np.full(size, float(node.attr("value")))
    args = [evaluate(a, env, size) for a in node.args]
    if node.op == "where":
        return np.where(args[0] != 0, args[1], args[2])
    if node.op in ("map", "seq_map"):
        return node.attr("fn").vectorised(*args)
    raise CompileError(f"{where_(node)}{node.name}: {node.op} is not element-wise")


def at_most_one_key(sel: Node) -> bool:
    """A conjunction with select(indices, q, ==) in it picks one key at most
    (a gather: a mean over it is the value itself, categorical)."""
    literals = conjunction(sel)
    return literals is not None and any(
        not neg and a.attr("pred") == "==" and a.args[0].op == "indices" for a, neg in literals
    )


def conjunction(sel: Node) -> list[tuple[Node, bool]] | None:
    """The selects a selector ANDs together, each with whether it is negated;
    None when it is no such conjunction (an OR, a NOT over an AND)."""
    if sel.op == "select":
        return [(sel, False)]
    if sel.op == "sel_not" and sel.args[0].op == "select":
        return [(sel.args[0], True)]
    if sel.op == "sel_and":
        left, right = conjunction(sel.args[0]), conjunction(sel.args[1])
        return None if left is None or right is None else left + right
    return None


def predicate(pred: str, negated: bool) -> Callable:
    test = COMPARE[pred]
    return (lambda k, q: not test(k, q)) if negated else test


def evaluate_selector(sel: Node, kv: tuple, qv: tuple, kpos: dict, qpos: dict) -> bool:
    if sel.op == "select":
        k, q = kv[kpos[sel.args[0].uid]], qv[qpos[sel.args[1].uid]]
        return bool(COMPARE[sel.attr("pred")](k, q))
    parts = [evaluate_selector(a, kv, qv, kpos, qpos) for a in sel.args]
    if sel.op == "sel_and":
        return parts[0] and parts[1]
    if sel.op == "sel_or":
        return parts[0] or parts[1]
    return not parts[0]


def assemble(output: Node, codes: TokenCodes, max_len: int, causal: bool = True) -> Assembly:
    """Weights (as sparse entries) of a transformer that computes ``output``
    at every position of sequences of up to ``max_len`` tokens."""
    return Assembler(output, codes, max_len, causal).assembly()


def growth(output: Node, codes: TokenCodes, max_len: int) -> list[str]:
    """The operations whose weights grow with the sequence length: assembled
    at ``max_len`` and ``2 * max_len``, the ones whose size changed."""
    small = Assembler(output, codes, max_len).assembly().ops
    large = Assembler(output, codes, 2 * max_len).assembly().ops
    return [a[0] for a, b in zip(small, large) if a != b]


def model_arguments(asm: Assembly) -> dict:
    """Constructor arguments of the
    :class:`~lengthgen.models.compiled.CompiledTransformer` an assembly fills."""
    shapes, widths = [], []
    for layer in range(asm.n_layers):
        heads = asm.layer_heads(layer)
        shapes.append((len(heads), max([h.n_qk for h in heads] + [1]), max([h.n_v for h in heads] + [1])))
        widths.append(sum(m.n for m in asm.layer_mlps(layer)))
    return {
        "vocab_size": asm.vocab_size,
        "d_model": asm.width,
        "heads": shapes,
        "mlp_widths": widths,
        "max_positions": asm.max_positions,
        "pe": "learned" if asm.uses_positions else "none",
        "causal": asm.causal,
        "length_bound": asm.length_bound,
    }


def to_model(asm: Assembly):
    """The :class:`~lengthgen.models.compiled.CompiledTransformer` with the
    assembly's weights."""
    from lengthgen.models.compiled import CompiledTransformer

    model = CompiledTransformer(**model_arguments(asm))
    fill(model, asm)
    return model


def fill(model, asm: Assembly) -> None:
    """Write the assembly's weights into a model built from :func:`model_arguments`."""
    import torch

    def put(tensor: torch.Tensor, entries: list, prefix: tuple = ()) -> None:
        if not entries:
            return
        columns = list(zip(*entries))
        index = tuple(torch.full((len(entries),), p, dtype=torch.long) for p in prefix)
        index += tuple(torch.tensor(c, dtype=torch.long) for c in columns[:-1])
        tensor.index_put_(index, torch.tensor(columns[-1], dtype=tensor.dtype), accumulate=True)

    with torch.no_grad():
        put(model.embedding.weight, asm.token_embedding)
        if asm.uses_positions:
            put(model.pe.table.weight, asm.position_embedding)
        put(model.head.weight, [(t, d, v) for d, t, v in asm.readout])
        for layer in range(asm.n_layers):
            for i, head in enumerate(asm.layer_heads(layer)):
                put(model.wq[layer], head.q, (i,))
                put(model.wk[layer], head.k, (i,))
                put(model.wv[layer], head.v, (i,))
                put(model.wo[layer], head.o, (i,))
                put(model.sink_k[layer], list(head.sink_k.items()), (i,))
                put(model.sink_v[layer], list(head.sink_v.items()), (i,))
            offset = 0
            for mlp in asm.layer_mlps(layer):
                put(model.w1[layer], [(d, offset + u, v) for d, u, v in mlp.w1])
                put(model.w2[layer], [(offset + u, d, v) for u, d, v in mlp.w2])
                offset += mlp.n
    model.compact()


def decode_values(asm: Assembly, hidden) -> np.ndarray:
    """The output value at every position, read from the final residual
    stream (argmax over the output block): what the interpreter computes."""
    matrix = np.zeros((asm.width, len(asm.output_values)))
    for dim, index, weight in asm.output_read:
        matrix[dim, index] += weight
    scores = hidden.detach().cpu().numpy() @ matrix
    return asm.output_values[scores.argmax(-1)]
