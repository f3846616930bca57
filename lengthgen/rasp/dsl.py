"""Writing RASP-L programs in Python.

The objects here drive the same compiler as ``.rasp`` files, so a program
written either way becomes the same graph (same checks, same length)::

    >>> from lengthgen.rasp import dsl
    >>> b = dsl.Builder()
    >>> prev = b.shift_by(1, b.tokens, 0)
    >>> program = b.program(b.where(b.tokens == "<sep>", prev, b.tokens + 1))
    >>> program.run(["5", "6", "<sep>"])
    ['6', '7', '6']

Map functions are given as expression strings over ``x`` (and ``y`` for
``seq_map``): ``b.map(b.tokens, "x % 10")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lengthgen.rasp import parser as P
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import Builtin, CompiledProgram, Compiler, Pred, Reduction
from lengthgen.rasp.graph import Node

_AT = P.Name(0, 0, "")


@dataclass(frozen=True)
class Ref:
    """A sequence or selector under construction; operators build new nodes."""

    node: Node
    builder: Builder

    def _bin(self, op: str, other: Any, reverse: bool = False) -> Ref:
        a, b = (self.builder._value(other), self.node) if reverse else (self.node, self.builder._value(other))
        return self.builder._wrap(self.builder.compiler.binary(P.Binary(0, 0, op, _AT, _AT), a, b))

    def __add__(self, o):
        return self._bin("+", o)

    def __radd__(self, o):
        return self._bin("+", o, True)

    def __sub__(self, o):
        return self._bin("-", o)

    def __rsub__(self, o):
        return self._bin("-", o, True)

    def __mul__(self, o):
        return self._bin("*", o)

    def __rmul__(self, o):
        return self._bin("*", o, True)

    def __truediv__(self, o):
        return self._bin("/", o)

    def __floordiv__(self, o):
        return self._bin("//", o)

    def __mod__(self, o):
        return self._bin("%", o)

    def __eq__(self, o):  # type: ignore[override]
        return self._bin("==", o)

    def __ne__(self, o):  # type: ignore[override]
        return self._bin("!=", o)

    def __lt__(self, o):
        return self._bin("<", o)

    def __le__(self, o):
        return self._bin("<=", o)

    def __gt__(self, o):
        return self._bin(">", o)

    def __ge__(self, o):
        return self._bin(">=", o)

    def __and__(self, o):
        return self._bin("&", o)

    def __or__(self, o):
        return self._bin("|", o)

    def __invert__(self):
        return self.builder._wrap(self.builder.compiler.unary(P.Unary(0, 0, "!", _AT), self.node))

    def __neg__(self):
        return self.builder._wrap(self.builder.compiler.unary(P.Unary(0, 0, "-", _AT), self.node))

    __hash__ = object.__hash__

    def named(self, name: str) -> Ref:
        """Give the node a name for traces."""
        if not self.node.label:
            self.node.label = name
        return self


class Builder:
    """Builds programs; ``codes`` gives token literals their values (a task's
    vocabulary, or by default integers and the special tokens)."""

    def __init__(self, codes: TokenCodes | None = None):
        self.codes = codes or TokenCodes()
        self.compiler = Compiler(self.codes)
        self.compiler.load_prelude()
        self.tokens = Ref(self.compiler.globals["tokens"], self)
        self.indices = Ref(self.compiler.globals["indices"], self)

    def _value(self, v: Any):
        if isinstance(v, Ref):
            return v.node
        if isinstance(v, str):
            if v in ("==", "!=", "<", "<=", ">", ">=", "true", "false"):
                return Pred(v)
            if v in ("mean", "max", "min"):
                return Reduction(v)
            return float(self.codes.code(v))
        if isinstance(v, bool):
            return 1.0 if v else 0.0
        if isinstance(v, (int, float)):
            return float(v)
        raise TypeError(f"cannot use {type(v).__name__} in a RASP program")

    def _wrap(self, value) -> Ref:
        if not isinstance(value, Node):
            value = self.compiler.graph.make("full", attrs=(("value", float(value)),))
        return Ref(value, self)

    def _call(self, name: str, *args: Any) -> Ref:
        values = [self._value(a) for a in args]
        call = P.Call(0, 0, name, [_AT] * len(values))
        target = self.compiler.globals[name]
        if isinstance(target, Builtin):
            return self._wrap(getattr(self.compiler, f"builtin_{name}")(call, values))
        return self._wrap(self.compiler.inline(target, call, values))

    def _lambda(self, params: tuple[str, ...], expression: str) -> P.LambdaExpr:
        return P.LambdaExpr(0, 0, params, expression, 0, 0)

    # primitives
    def select(self, keys, queries, predicate: str) -> Ref:
        return self._call("select", keys, queries, predicate)

    def aggregate(self, selector, values, default: Any = 0, reduction: str = "mean") -> Ref:
        return self._call("aggregate", selector, values, default, reduction)

    def selector_width(self, selector) -> Ref:
        return self._call("selector_width", selector)

    def map(self, seq, expression: str) -> Ref:
        call = P.Call(0, 0, "map", [_AT, _AT])
        return self._wrap(self.compiler.builtin_map(call, [self._value(seq), self._lambda(("x",), expression)]))

    def seq_map(self, a, b, expression: str) -> Ref:
        call = P.Call(0, 0, "seq_map", [_AT, _AT, _AT])
        return self._wrap(
            self.compiler.builtin_seq_map(call, [self._value(a), self._value(b), self._lambda(("x", "y"), expression)])
        )

    def full(self, value) -> Ref:
        return self._call("full", value)

    def where(self, cond, a, b) -> Ref:
        return self._call("where", cond, a, b)

    def __getattr__(self, name: str):
        """Library helpers of the prelude: ``b.shift_by(1, b.tokens, 0)``."""
        target = self.__dict__.get("compiler") and self.compiler.globals.get(name)
        if target is None or isinstance(target, (Builtin, Node, Reduction)):
            raise AttributeError(name)
        return lambda *args: self._call(name, *args)

    def program(self, output: Ref, name: str = "<python>") -> PythonProgram:
        return PythonProgram(CompiledProgram(self.compiler.graph, output.node, {}, "", name, self.codes))


@dataclass
class PythonProgram:
    compiled: CompiledProgram

    @property
    def stats(self):
        return self.compiled.stats

    def run(self, tokens: list[str]) -> list[str]:
        codes = self.compiled.codes
        values = self.compiled.interpreter().run(codes.encode(tokens)[None, :])[0]
        return [codes.token(v) for v in values]
