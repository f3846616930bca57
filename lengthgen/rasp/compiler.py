"""From syntax tree to graph: names, functions, types and RASP-L checks.

Functions (``def``) are inlined at each call, so the graph holds primitive
operations only.  Every error carries the line and column of the offending
expression.

Long (about 700 lines) because name resolution, inlining and the RASP-L
checks walk the same tree in one pass with the same positions for errors;
the value-set arithmetic they call lives in :mod:`lengthgen.rasp.valuesets`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lengthgen.errors import LengthgenError
from lengthgen.rasp import parser as P
from lengthgen.rasp import valuesets as V
from lengthgen.rasp.codes import NONE_CODE, Symbol, TokenCodes
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.graph import PREDICATES, Graph, Node, ProgramStats, program_stats
from lengthgen.rasp.interpreter import Interpreter
from lengthgen.rasp.lambdas import Lambda, LambdaError

if TYPE_CHECKING:
    from lengthgen.rasp.normal import NormalForm
from lengthgen.registry import close_matches_hint

MAX_CALL_DEPTH = 40
# Inlining work is bounded too: 31 functions each calling the previous one
# twice expand to 2^31 statements while staying 31 calls deep.
MAX_INLINED_STATEMENTS = 100_000
PRELUDE = Path(__file__).with_name("prelude.rasp")
OPERATORS = {
    "+": "x + y",
    "-": "x - y",
    "*": "x * y",
    "/": "x / y",
    "//": "x // y",
    "%": "x % y",
    "==": "x == y",
    "!=": "x != y",
    "<": "x < y",
    "<=": "x <= y",
    ">": "x > y",
    ">=": "x >= y",
    "&": "(x != 0) and (y != 0)",
    "|": "(x != 0) or (y != 0)",
}
BUILTINS = ("select", "aggregate", "selector_width", "map", "seq_map", "full", "where")


@dataclass(frozen=True)
class Pred:
    op: str


@dataclass(frozen=True)
class Reduction:
    name: str


@dataclass(frozen=True)
class Builtin:
    name: str


@dataclass
class Function:
    node: P.Def
    prelude: bool = False  # errors inside it are reported at the user's call


Value = Node | float | Pred | Reduction | Builtin | Function | P.LambdaExpr


def kind_name(value: Value) -> str:
    if isinstance(value, Node):
        return "a selector" if value.is_selector else "a sequence"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, Pred):
        return "a predicate"
    if isinstance(value, P.LambdaExpr):
        return "a lambda"
    if isinstance(value, (Function, Builtin)):
        return "a function"
    return "a reduction"


@dataclass
class CompiledProgram:
    """A program's graph, its output node and its named nodes."""

    graph: Graph
    output: Node
    names: dict[str, Node]
    source: str
    filename: str
    codes: TokenCodes
    header: dict[str, str] = field(default_factory=dict)
    # RASP-L rules the program breaks (compiled with strict=False); empty
    # for a RASP-L program
    violations: list[RaspError] = field(default_factory=list)
    causal: bool = True  # False for a "# mode: rasp" program
    # the largest bounded value a position, count or number is compared
    # with: a check must reach lengths beyond it (None: no such comparison)
    largest_compared: float | None = None

    def interpreter(self) -> Interpreter:
        return Interpreter(self.output, causal=self.causal)

    @property
    def stats(self) -> ProgramStats:
        """Operations as written (style-dependent; see ``normal``)."""
        return program_stats(self.output)

    @property
    def normal(self) -> NormalForm:
        """Length, depth and selects on the normal form (lengthgen.rasp.normal)."""
        from lengthgen.rasp.normal import normal_form

        return normal_form(self.output)


class Compiler:
    def __init__(self, codes: TokenCodes, graph: Graph | None = None, strict: bool = True):
        self.codes = codes
        self.graph = graph or Graph()
        self.strict = strict
        self.violations: list[RaspError] = []
        self.compared_constants: list[float] = []  # bounded values an unbounded sequence is compared with
        self.prelude_calls: list[tuple[str, P.Call]] = []  # prelude functions being inlined, outermost first
        self.defining_prelude = False
        self.globals: dict[str, Value] = {
            "tokens": self.graph.tokens(
                codes.token_values(), codes.symbol_codes & (codes.token_values() or codes.symbol_codes)
            ),
            "indices": self.graph.indices(),
            "mean": Reduction("mean"),
            "max": Reduction("max"),
            "min": Reduction("min"),
            # a default that is no token: "nothing selected" never reads as <pad>
            "none": float(NONE_CODE),
            **{name: Builtin(name) for name in BUILTINS},
        }
        self.call_depth = 0
        self.inlined = 0
        self.scope_for_lambdas: dict[str, Value] = {}  # named constants a lambda body may use
        self.output_loc = (0, 0)
        # what a function body sees: built-ins and functions, never the
        # caller's variables (lexical scope)
        self.function_scope: dict[str, Value] = {}

    def load_prelude(self) -> None:
        """Make the prelude's functions visible to the program and to each other."""
        prelude: dict[str, Value] = {}
        self.defining_prelude = True
        try:
            self.run(prelude_program(), prelude)
        finally:
            self.defining_prelude = False
        self.globals.update(prelude)
        self.function_scope = dict(self.globals)

    # --- statements -------------------------------------------------------
    def run(self, program: P.Program, scope: dict[str, Value]) -> None:
        for stmt in program.statements:
            if isinstance(stmt, P.Def):
                if stmt.name in ("tokens", "indices", *BUILTINS):
                    raise RaspError(f"cannot redefine built-in {stmt.name!r}", stmt.line, stmt.col)
                scope[stmt.name] = Function(stmt, prelude=self.defining_prelude)
            else:
                self.assign(stmt, scope, label_prefix="")

    def assign(self, stmt: P.Assign, scope: dict[str, Value], label_prefix: str) -> None:
        if stmt.name in ("tokens", "indices", *BUILTINS):
            raise RaspError(f"cannot assign to built-in {stmt.name!r}", stmt.line, stmt.col)
        value = self.expr(stmt.value, scope)
        if stmt.name == "output" and not label_prefix:
            self.output_loc = (stmt.line, stmt.col)
        if isinstance(value, Node) and not value.label:
            value.label = label_prefix + stmt.name
        scope[stmt.name] = value

    def not_rasp_l(self, message: str, line: int, col: int) -> None:
        """A RASP-L rule is broken: an error, or with ``strict=False`` a
        recorded violation (the program still compiles and runs)."""
        if self.prelude_calls:  # point at the user's call, not into the prelude
            chain = " <- ".join(f"{name}()" for name, _ in reversed(self.prelude_calls))
            message = f"{message} (in the prelude's {chain}, called here)"
            line, col = self.prelude_calls[0][1].line, self.prelude_calls[0][1].col
        error = RaspError(f"RASP-L: {message}", line, col)
        error.at_call_site = bool(self.prelude_calls)
        if self.strict:
            raise error
        self.violations.append(error)

    # --- expressions ------------------------------------------------------
    def symbols_through(
        self, inputs: tuple[Node, ...], values: frozenset | None, literals: frozenset = frozenset()
    ) -> frozenset:
        """Which of a computed sequence's ``values`` may be symbols: those equal
        to a symbol an input carries (a pass-through) or to a string literal
        the function spells (``literals``, their codes).  A number the
        function computes (``-1`` in ``1 if x == "(" else -1``) stays a number."""
        carried = frozenset().union(*(n.symbolic for n in inputs)) | literals
        return carried if values is None else values & carried

    @staticmethod
    def passed_through(fn: Lambda, seq: Node) -> frozenset:
        """The input symbols a one-argument map returns unchanged.  A map that
        returns x for one symbol only (``1 if x == "(" else -1`` gives -1 for
        <pad> = -1) computes that value rather than passing it on; one that
        returns x for two or more passes symbols through."""
        through = set()
        for v in seq.symbolic:
            try:
                if fn.scalar(v) == v:
                    through.add(v)
            except Exception:  # noqa: BLE001 - a body that fails on a value does not pass it on
                continue
        return frozenset(through) if len(through) >= 2 or len(seq.symbolic) == 1 else frozenset()

    def literal_codes(self, fn: Lambda) -> frozenset:
        """The codes of the string literals a lambda's body spells."""
        codes = set()
        for text in re.findall(r'"([^"]*)"', fn.source):
            try:
                codes.add(float(self.codes.code(text)))
            except LengthgenError:
                continue  # a literal that is no token was refused when the lambda was built
        return frozenset(codes)

    def note_constants(self, a: Node, b: Node) -> None:
        """Record the bounded values an unbounded sequence is compared with:
        each is a row of a table the readout could absorb, so the check must
        reach lengths beyond the largest (lengthgen.rasp.check)."""
        for x, y in ((a, b), (b, a)):
            if x.vkind in V.UNBOUNDED and y.vkind == "token" and y.values:
                self.compared_constants.append(max(V.reach(x.vkind, v) for v in y.values))

    def lookup(self, name: P.Name, scope: dict[str, Value]) -> Value:
        if name.name in scope:
            return scope[name.name]
        if name.name in self.globals:
            return self.globals[name.name]
        known = sorted(set(scope) | set(self.globals))
        raise RaspError(f"unknown name {name.name!r}{close_matches_hint(name.name, known)}", name.line, name.col)

    def expr(self, e: P.Expr, scope: dict[str, Value]) -> Value:
        if isinstance(e, P.Num):
            return e.value
        if isinstance(e, P.Bool):
            return 1.0 if e.value else 0.0
        if isinstance(e, P.Str):
            try:
                return Symbol(self.codes.code(e.value))
            except Exception as exc:
                raise RaspError(str(exc), e.line, e.col) from None
        if isinstance(e, P.Name):
            return self.lookup(e, scope)
        if isinstance(e, P.Pred):
            return Pred(e.op)
        if isinstance(e, P.LambdaExpr):
            return e
        if isinstance(e, P.Unary):
            return self.unary(e, self.expr(e.operand, scope))
        if isinstance(e, P.Binary):
            return self.binary(e, self.expr(e.left, scope), self.expr(e.right, scope))
        if isinstance(e, P.Call):
            return self.call(e, scope)
        raise RaspError("unsupported expression", e.line, e.col)

    def make_lambda(
        self, params: tuple[str, ...], body: str, loc: P.Expr, body_loc: tuple[int, int] | None = None
    ) -> Lambda:
        constants = {k: v for k, v in self.scope_for_lambdas.items() if isinstance(v, float)}
        try:
            return Lambda.parse(params, body, self.resolve_literal, constants)
        except LambdaError as exc:
            line, col = body_loc or (loc.line, loc.col)
            lead = body[: len(body) - len(body.lstrip())]  # the expression is parsed stripped
            if "\n" in lead:
                line, col = line + lead.count("\n"), len(lead.rsplit("\n", 1)[1]) + 1
            else:
                col += len(lead)
            col = col + exc.col if exc.line == 1 else exc.col + 1
            raise RaspError(str(exc), line + exc.line - 1, col) from None

    def resolve_literal(self, token: str) -> int:
        return self.codes.code(token)

    def seq(self, value: Value, e: P.Expr, what: str) -> Node:
        if isinstance(value, float):
            return self.graph.make("full", attrs=(("value", value),), loc=(e.line, e.col), values=frozenset([value]))
        if not isinstance(value, Node) or value.is_selector:
            raise RaspError(f"{what} must be a sequence, got {kind_name(value)}", e.line, e.col)
        return value

    def selector(self, value: Value, e: P.Expr, what: str) -> Node:
        if not isinstance(value, Node) or not value.is_selector:
            raise RaspError(f"{what} must be a selector, got {kind_name(value)}", e.line, e.col)
        return value

    def unary(self, e: P.Unary, v: Value) -> Value:
        if isinstance(v, float):
            return -v if e.op == "-" else float(v == 0)
        if isinstance(v, Node) and v.is_selector:
            if e.op == "!":
                return self.graph.make("sel_not", (v,), loc=(e.line, e.col))
            raise RaspError("'-' cannot apply to a selector", e.line, e.col)
        node = self.seq(v, e, f"the operand of '{e.op}'")
        if node.vkind in V.UNBOUNDED and e.op == "-":
            self.not_rasp_l(
                f"negating {V.describe(node)} is not allowed (only +/- a constant and comparisons)", e.line, e.col
            )
        fn = Lambda.parse(("x",), "-x" if e.op == "-" else "not x")
        values = V.mapped(fn, node.values) if node.vkind == "token" else V.BOOLEAN if e.op == "!" else None
        symbolic = self.symbols_through((node,), values)
        return self.graph.make(
            "map", (node,), (("fn", fn),), "token", loc=(e.line, e.col), values=values, symbolic=symbolic
        )

    def binary(self, e: P.Binary, a: Value, b: Value) -> Value:
        op = e.op
        if isinstance(a, float) and isinstance(b, float):
            fn = Lambda.parse(("x", "y"), OPERATORS[op])
            return fn.scalar(a, b)
        a_sel = isinstance(a, Node) and a.is_selector
        b_sel = isinstance(b, Node) and b.is_selector
        if a_sel or b_sel:
            if a_sel and b_sel and op in ("&", "|"):
                return self.graph.make("sel_and" if op == "&" else "sel_or", (a, b), loc=(e.line, e.col))
            raise RaspError(
                f"'{op}' cannot combine {kind_name(a)} and {kind_name(b)} (selectors combine with & and |)",
                e.line,
                e.col,
            )
        comparison = op in ("==", "!=", "<", "<=", ">", ">=")
        if isinstance(b, float) or isinstance(a, float):
            seq_first = not isinstance(a, float)
            node = self.seq(a if seq_first else b, e, f"an operand of '{op}'")
            const = b if seq_first else a
            unbounded = node.vkind in V.UNBOUNDED
            shift = op == "+" or (op == "-" and seq_first)
            if unbounded and not comparison and not shift:
                what = "'constant - x'" if op == "-" else f"'{op}'"
                self.not_rasp_l(
                    f"{what} on {V.describe(node)} is not allowed (only x +/- a constant and comparisons)",
                    e.line,
                    e.col,
                )
            body = (
                OPERATORS[op].replace("y", repr(const))
                if seq_first
                else OPERATORS[op].replace("x", repr(const)).replace("y", "x")
            )
            try:
                fn = Lambda.parse(("x",), body)
            except LambdaError as exc:
                raise RaspError(str(exc), e.line, e.col) from None
            if unbounded and comparison:
                self.compared_constants.append(V.reach(node.vkind, const))
            keeps_kind = unbounded and shift
            vkind = node.vkind if keeps_kind else "token"
            values = V.BOOLEAN if comparison else V.mapped(fn, node.values) if not unbounded else None
            symbolic = self.symbols_through(
                (node,), values, frozenset([float(const)]) if isinstance(const, Symbol) else frozenset()
            )
            return self.graph.make(
                "map", (node,), (("fn", fn),), vkind, loc=(e.line, e.col), values=values, symbolic=symbolic
            )
        left, right = self.seq(a, e, f"the left operand of '{op}'"), self.seq(b, e, f"the right operand of '{op}'")
        unbounded = [n for n in (left, right) if n.vkind in V.UNBOUNDED]
        if op in ("+", "-") and {left.vkind, right.vkind} == {"number"}:
            # a difference (or sum) of two means is again a number: C-RASP's
            # counting (is there more of a than of b?) compares it with 0
            fn = Lambda.parse(("x", "y"), OPERATORS[op])
            return self.graph.make("seq_map", (left, right), (("fn", fn),), "number", loc=(e.line, e.col))
        if unbounded and not comparison:
            self.not_rasp_l(
                f"'{op}' between sequences is not allowed when one is {V.describe(unbounded[0])} (only comparisons)",
                e.line,
                e.col,
            )
        if unbounded and comparison:
            reason = V.comparable(left, right)
            if reason is not None:
                self.not_rasp_l(f"'{op}' compares {reason}: unbounded kinds compare only like with like", e.line, e.col)
            self.note_constants(left, right)
        fn = Lambda.parse(("x", "y"), OPERATORS[op])
        values = V.BOOLEAN if comparison else V.mapped(fn, left.values, right.values) if not unbounded else None
        symbolic = self.symbols_through((left, right), values)
        return self.graph.make(
            "seq_map", (left, right), (("fn", fn),), "token", loc=(e.line, e.col), values=values, symbolic=symbolic
        )

    # --- calls ------------------------------------------------------------
    def call(self, e: P.Call, scope: dict[str, Value]) -> Value:
        target = self.lookup(P.Name(e.line, e.col, e.func), scope)
        args = [self.expr(a, scope) for a in e.args]
        self.scope_for_lambdas = {**self.globals, **scope}
        if isinstance(target, Function):
            return self.inline(target, e, args)
        if not isinstance(target, Builtin):
            raise RaspError(f"{e.func!r} is {kind_name(target)}, not a function", e.line, e.col)
        return getattr(self, f"builtin_{target.name}")(e, args)

    def inline(self, target: Function, e: P.Call, args: list[Value]) -> Value:
        fn = target.node
        if not target.prelude:
            return self._inline(fn, e, args)
        self.prelude_calls.append((fn.name, e))
        try:
            return self._inline(fn, e, args)
        except RaspError as exc:
            if len(self.prelude_calls) == 1 and not getattr(exc, "at_call_site", False):
                # a prelude function fails only when misused: say where the user called it
                exc.message = f"{exc.message} (in the prelude's {fn.name}(), called here)"
                exc.line, exc.col = e.line, e.col
                exc.args = (exc.one_line(),)
            raise
        finally:
            self.prelude_calls.pop()

    def _inline(self, fn: P.Def, e: P.Call, args: list[Value]) -> Value:
        if len(args) != len(fn.params):
            raise RaspError(f"{fn.name}() takes {len(fn.params)} argument(s), got {len(args)}", e.line, e.col)
        self.call_depth += 1
        if self.call_depth > MAX_CALL_DEPTH:
            raise RaspError(
                f"function calls nested deeper than {MAX_CALL_DEPTH} (recursion is not supported)", e.line, e.col
            )
        self.inlined += len(fn.body) + 1
        if self.inlined > MAX_INLINED_STATEMENTS:
            self.call_depth -= 1
            raise RaspError(
                f"inlining function calls expands to more than {MAX_INLINED_STATEMENTS:,} statements "
                "(a function called many times by functions called many times?)",
                e.line,
                e.col,
            )
        try:
            local: dict[str, Value] = dict(self.function_scope)
            local.update(zip(fn.params, args))
            for stmt in fn.body:
                self.assign(stmt, local, label_prefix=f"{fn.name}.")
            return self.expr(fn.result, local)
        finally:
            self.call_depth -= 1

    def arity(self, e: P.Call, args: list[Value], lo: int, hi: int) -> None:
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise RaspError(f"{e.func}() takes {want} arguments, got {len(args)}", e.line, e.col)

    def builtin_select(self, e: P.Call, args: list[Value]) -> Node:
        self.arity(e, args, 3, 3)
        keys = self.seq(args[0], e.args[0], "select keys")
        queries = self.seq(args[1], e.args[1], "select queries")
        pred = args[2]
        if isinstance(pred, float) and pred in (0.0, 1.0):
            pred = Pred("true" if pred else "false")
        if not isinstance(pred, Pred) or pred.op not in PREDICATES:
            raise RaspError(
                f"select predicate must be one of {' '.join(PREDICATES)}, got {kind_name(pred)}",
                e.args[2].line,
                e.args[2].col,
            )
        if pred.op not in ("true", "false"):
            reason = V.comparable(keys, queries)
            if reason is not None:
                self.not_rasp_l(f"select compares {reason}: unbounded kinds compare only like with like", e.line, e.col)
            self.note_constants(keys, queries)
        node = self.graph.make("select", (keys, queries), (("pred", pred.op),), loc=(e.line, e.col))
        if V.never_selects(node):
            self.not_rasp_l(
                "this select is empty at every position: under the causal mask a query sees only keys at or before "
                "it, and this predicate asks for a later one (a look-ahead)",
                e.line,
                e.col,
            )
        return node

    def builtin_aggregate(self, e: P.Call, args: list[Value]) -> Node:
        self.arity(e, args, 2, 4)
        sel = self.selector(args[0], e.args[0], "aggregate's first argument")
        values = self.seq(args[1], e.args[1], "aggregate's values")
        default = args[2] if len(args) > 2 else 0.0
        if not isinstance(default, float):
            raise RaspError(
                f"aggregate's default must be a number or token, got {kind_name(default)}",
                e.args[2].line,
                e.args[2].col,
            )
        reduction = args[3] if len(args) > 3 else Reduction("mean")
        if not isinstance(reduction, Reduction):
            raise RaspError("aggregate's reduction must be mean, max or min", e.args[3].line, e.args[3].col)
        attrs = (("default", default), ("reduction", reduction.name))
        vkind, out = self.aggregate_kind(e, sel, values, default, reduction.name)
        symbolic = values.symbolic | (frozenset([float(default)]) if isinstance(default, Symbol) else frozenset())
        if isinstance(default, Symbol):
            attrs += (("default_symbol", True),)  # not the same read as a numeric default of equal value
        return self.graph.make(
            "aggregate", (sel, values), attrs, vkind, loc=(e.line, e.col), values=out, symbolic=symbolic
        )

    def aggregate_kind(
        self, e: P.Call, sel: Node, values: Node, default: float, reduction: str
    ) -> tuple[str, frozenset | None]:
        """A max, or a mean through a selector that picks at most one key,
        reads one value: its kind is the values' kind.  Other means are
        numbers (see :mod:`lengthgen.rasp.valuesets`)."""
        with_default = V.union([values.values, frozenset([default])])
        if reduction in ("max", "min") or V.selects_at_most_one(sel):
            return values.vkind, with_default if values.vkind == "token" else None
        if values.vkind == "token" and values.values is not None:
            if len(values.values) == 1:  # the mean of a constant is that constant
                return "token", with_default
            symbols = sorted(values.symbolic, reverse=True)
            if symbols:
                names = ", ".join(self.codes.token(c) for c in symbols[:4]) + (", ..." if len(symbols) > 4 else "")
                self.not_rasp_l(
                    f"mean over values that include symbols ({names}): averaging two symbols' codes can alias a "
                    "third; read one value with max (aggregate(sel, x, default, max)) or through a selector that "
                    "picks at most one key (select(indices, q, ==))",
                    e.line,
                    e.col,
                )
                return "token", with_default
        return "number", None

    def builtin_selector_width(self, e: P.Call, args: list[Value]) -> Node:
        self.arity(e, args, 1, 1)
        sel = self.selector(args[0], e.args[0], "selector_width's argument")
        return self.graph.make("selector_width", (sel,), vkind="count", loc=(e.line, e.col))

    def _lambda_arg(self, e: P.Call, value: Value, index: int, params: int) -> Lambda:
        if not isinstance(value, P.LambdaExpr):
            raise RaspError(
                f"{e.func}() needs a lambda as argument {index + 1}, got {kind_name(value)}",
                e.args[index].line,
                e.args[index].col,
            )
        if len(value.params) != params:
            raise RaspError(
                f"{e.func}() needs a lambda of {params} parameter(s), got {len(value.params)}", value.line, value.col
            )
        return self.make_lambda(value.params, value.body, value, (value.body_line, value.body_col))

    def builtin_map(self, e: P.Call, args: list[Value]) -> Node:
        self.arity(e, args, 2, 2)
        seq = self.seq(args[0], e.args[0], "map's sequence")
        fn = self._lambda_arg(e, args[1], 1, 1)
        if seq.vkind in V.UNBOUNDED:
            self.not_rasp_l(
                f"map over {V.describe(seq)}; maps act on bounded value sets (compare it with a constant instead)",
                e.line,
                e.col,
            )
        values = V.mapped(fn, seq.values)
        # only what the map passes on or spells is a symbol (see passed_through)
        symbolic = self.symbols_through((), values, self.literal_codes(fn) | self.passed_through(fn, seq))
        return self.graph.make(
            "map", (seq,), (("fn", fn),), "token", loc=(e.line, e.col), values=values, symbolic=symbolic
        )

    def builtin_seq_map(self, e: P.Call, args: list[Value]) -> Node:
        self.arity(e, args, 3, 3)
        a = self.seq(args[0], e.args[0], "seq_map's first sequence")
        b = self.seq(args[1], e.args[1], "seq_map's second sequence")
        fn = self._lambda_arg(e, args[2], 2, 2)
        unbounded = [n for n in (a, b) if n.vkind in V.UNBOUNDED]
        if unbounded:
            self.not_rasp_l(f"seq_map over {V.describe(unbounded[0])}; maps act on bounded value sets", e.line, e.col)
        values = V.mapped(fn, a.values, b.values)
        symbolic = self.symbols_through((a, b), values, self.literal_codes(fn))
        return self.graph.make(
            "seq_map", (a, b), (("fn", fn),), "token", loc=(e.line, e.col), values=values, symbolic=symbolic
        )

    def builtin_full(self, e: P.Call, args: list[Value]) -> Node:
        self.arity(e, args, 1, 1)
        if not isinstance(args[0], float):
            raise RaspError(f"full() takes a number or token, got {kind_name(args[0])}", e.line, e.col)
        value = args[0]
        if isinstance(value, Symbol):
            # full("<pad>") and full(-1) hold the same number; only one is a symbol
            return self.graph.make(
                "full",
                attrs=(("value", float(value)), ("symbol", True)),
                loc=(e.line, e.col),
                values=frozenset([float(value)]),
                symbolic=frozenset([float(value)]),
            )
        return self.graph.make("full", attrs=(("value", value),), loc=(e.line, e.col), values=frozenset(args[:1]))

    def builtin_where(self, e: P.Call, args: list[Value]) -> Node:
        self.arity(e, args, 3, 3)
        cond = self.seq(args[0], e.args[0], "where's condition")
        a = self.seq(args[1], e.args[1], "where's second argument")
        b = self.seq(args[2], e.args[2], "where's third argument")
        vkind = V.combined_kind((a, b))
        if vkind is None:
            self.not_rasp_l(f"where mixes {V.describe(a)} and {V.describe(b)}", e.line, e.col)
            vkind = "number"  # the most restricted kind, so that a non-strict compile goes on
        values = V.union([a.values, b.values]) if vkind == "token" else None
        return self.graph.make(
            "where", (cond, a, b), vkind=vkind, loc=(e.line, e.col), values=values, symbolic=a.symbolic | b.symbolic
        )


def header_of(source: str) -> dict[str, str]:
    """``# key: value`` lines at the top of a file (e.g. ``# task: count``)."""
    header = {}
    for line in source.splitlines():
        text = line.strip()
        if not text:
            continue
        if not text.startswith("#"):
            break
        key, sep, value = text[1:].partition(":")
        if sep and key.strip().isidentifier():
            header[key.strip()] = value.strip()
    return header


_PRELUDE_CACHE: dict[str, P.Program] = {}


def prelude_program() -> P.Program:
    if "p" not in _PRELUDE_CACHE:
        _PRELUDE_CACHE["p"] = P.parse(PRELUDE.read_text(encoding="utf-8"))
    return _PRELUDE_CACHE["p"]


def compile_source(
    source: str,
    filename: str = "<input>",
    codes: TokenCodes | None = None,
    require_output: bool = True,
    strict: bool = True,
) -> CompiledProgram:
    """Parse and compile a program; the prelude's helpers are in scope.
    With ``strict=False`` a program that breaks RASP-L rules still compiles
    (to run or trace it); the broken rules are in ``violations``."""
    codes = codes or TokenCodes()
    header = header_of(source)
    mode = header.get("mode", "rasp-l")
    if mode not in ("rasp-l", "rasp"):
        raise RaspError(f"'# mode: {mode}' is not a mode (rasp-l, the default, or rasp)").located(source, filename)
    causal = mode == "rasp-l"
    # a RASP (non-causal) program is run and traced, never counted as RASP-L
    compiler = Compiler(codes, strict=strict and causal)
    try:
        compiler.load_prelude()
        program = P.parse(source)
        scope: dict[str, Value] = {}
        # functions may call any function of the file, in any order
        compiler.function_scope.update({s.name: Function(s) for s in program.statements if isinstance(s, P.Def)})
        compiler.run(program, scope)
    except RaspError as exc:
        raise exc.located(source, filename) from None
    except RecursionError:
        raise RaspError("program nested too deeply").located(source, filename) from None
    output = scope.get("output")
    if output is None:
        if require_output:
            raise RaspError("program declares no output (add 'output = ...;')").located(source, filename)
        output = compiler.globals["tokens"]
    if not isinstance(output, Node) or output.is_selector:
        if isinstance(output, float):
            output = compiler.graph.make("full", attrs=(("value", output),))
        else:
            raise RaspError(f"output must be a sequence, got {kind_name(output)}", *compiler.output_loc).located(
                source, filename
            )
    names = {k: v for k, v in scope.items() if isinstance(v, Node)}
    violations = [v.located(source, filename) for v in compiler.violations]
    if not causal:
        violations.insert(
            0,
            RaspError("'# mode: rasp': selectors see every position (not causal), so this is not RASP-L").located(
                source, filename
            ),
        )
    largest = max(compiler.compared_constants, default=None)
    return CompiledProgram(
        compiler.graph, output, names, source, filename, codes, header, violations, causal, largest_compared=largest
    )


def compile_file(path: str | Path, codes: TokenCodes | None = None, strict: bool = True) -> CompiledProgram:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RaspError(f"cannot read program ({exc.strerror or exc})", filename=str(path)) from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RaspError(f"program is not valid UTF-8 (byte {exc.start})", filename=str(path)) from None
    return compile_source(source, str(path), codes, strict=strict)
