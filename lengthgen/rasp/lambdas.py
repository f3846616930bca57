"""Map functions: small Python-syntax expressions, checked against a whitelist
and evaluated by our own code (never ``eval``), element-wise over numpy arrays.

Allowed: integer/float/bool constants, the lambda's parameters, string
literals naming tokens (resolved to codes when compiled), ``+ - * / // %``,
unary ``- + not``, comparisons (chained too), ``and``/``or``, ``a if c else b``
and calls of ``min``, ``max``, ``abs``.  Booleans are the numbers 1 and 0;
``x // 0`` and ``x % 0`` are 0 and ``x / 0`` is 0, so no map can raise.

    >>> fn = Lambda.parse(("a", "b"), "(a + b) % 10")
    >>> fn.vectorised(np.array([7.0, 3.0]), np.array([5.0, 4.0]))
    array([2., 7.])
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import numpy as np

MAX_SOURCE = 400
MAX_NODES = 120
MAX_DEPTH = 30
MAX_CONSTANT = 10**9

BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}
CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
FUNCS = ("min", "max", "abs")


class LambdaError(ValueError):
    """Raised with a message and the (line, col) offset inside the expression."""

    def __init__(self, message: str, line: int = 1, col: int = 0):
        super().__init__(message)
        self.line, self.col = line, col


def _depth_ok(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth > MAX_DEPTH:
            return False
    return True


class Lambda:
    """A checked map function with parameter names ``params``."""

    def __init__(self, params: tuple[str, ...], source: str, tree: ast.expr, codes: dict[str, int] | None = None):
        self.params = params
        self.source = source
        self.tree = tree
        self.codes = codes or {}
        self.key = (params, ast.dump(tree), tuple(sorted(self.codes.items())))

    @classmethod
    def parse(
        cls,
        params: tuple[str, ...],
        source: str,
        resolve: Callable[[str], int] | None = None,
        constants: dict[str, float] | None = None,
    ) -> Lambda:
        """``constants``: names of the program (``k = 3;``) a body may use;
        each is replaced by its value, so ``x + k`` and ``x + 3`` are one map."""
        if len(source) > MAX_SOURCE:
            raise LambdaError(f"map expression longer than {MAX_SOURCE} characters")
        if not source.strip():
            raise LambdaError("empty map expression")
        if not _depth_ok(source):
            raise LambdaError(f"map expression nested deeper than {MAX_DEPTH} brackets")
        try:
            tree = ast.parse(source.strip(), mode="eval").body
        except SyntaxError as exc:
            raise LambdaError(f"invalid map expression: {exc.msg}", exc.lineno or 1, (exc.offset or 1) - 1) from None
        except (ValueError, RecursionError, MemoryError):
            raise LambdaError("invalid map expression") from None
        if constants:
            tree = _Substitute({k: v for k, v in constants.items() if k not in params}).visit(tree)
        codes: dict[str, int] = {}
        count = _check(tree, set(params), codes, resolve, 0)
        if count > MAX_NODES:
            raise LambdaError(f"map expression has more than {MAX_NODES} parts")
        return cls(params, source.strip(), tree, codes)

    def vectorised(self, *arrays: np.ndarray) -> np.ndarray:
        env = dict(zip(self.params, arrays))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = _vec(self.tree, env, self.codes)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), np.broadcast(*arrays).shape).copy()

    def scalar(self, *values: float) -> float:
        return float(_scalar(self.tree, dict(zip(self.params, values)), self.codes))

    def __repr__(self) -> str:
        return f"lambda {', '.join(self.params)}: {self.source}"


class _Substitute(ast.NodeTransformer):
    def __init__(self, constants: dict[str, float]):
        self.constants = constants

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.constants:
            value = self.constants[node.id]
            return ast.copy_location(ast.Constant(int(value) if float(value).is_integer() else value), node)
        return node


def _check(node: ast.AST, params: set[str], codes: dict[str, int], resolve, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise LambdaError(f"map expression nested deeper than {MAX_DEPTH} levels")
    where = (getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or (isinstance(value, (int, float)) and abs(value) <= MAX_CONSTANT):
            return 1
        if isinstance(value, str):
            if resolve is None:
                raise LambdaError(f"token literal {value!r} needs a task vocabulary", *where)
            codes[value] = resolve(value)
            return 1
        raise LambdaError(f"constant {value!r} not allowed (numbers up to {MAX_CONSTANT:.0e}, token names)", *where)
    if isinstance(node, ast.Name):
        if node.id in params:
            return 1
        if node.id in ("True", "False"):
            return 1
        raise LambdaError(
            f"unknown name {node.id!r} in map expression (parameters: {', '.join(sorted(params))})", *where
        )
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        return (
            1
            + _check(node.left, params, codes, resolve, depth + 1)
            + _check(node.right, params, codes, resolve, depth + 1)
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        return 1 + _check(node.operand, params, codes, resolve, depth + 1)
    if isinstance(node, ast.Compare) and all(type(op) in CMPOPS for op in node.ops):
        parts = [node.left, *node.comparators]
        return 1 + sum(_check(p, params, codes, resolve, depth + 1) for p in parts)
    if isinstance(node, ast.BoolOp):
        return 1 + sum(_check(v, params, codes, resolve, depth + 1) for v in node.values)
    if isinstance(node, ast.IfExp):
        return 1 + sum(_check(p, params, codes, resolve, depth + 1) for p in (node.test, node.body, node.orelse))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCS:
            raise LambdaError(f"only {', '.join(FUNCS)} may be called in a map expression", *where)
        if node.keywords or not node.args or (node.func.id == "abs" and len(node.args) != 1):
            raise LambdaError(f"bad arguments to {node.func.id}()", *where)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise LambdaError("starred arguments are not allowed", *where)
        return 1 + sum(_check(a, params, codes, resolve, depth + 1) for a in node.args)
    kind = type(node).__name__
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        kind = "power (**)"
    raise LambdaError(f"{kind} is not allowed in a map expression", *where)


def _const(node: ast.Constant, codes):
    value = node.value
    if isinstance(value, str):
        return codes[value]
    return float(value)


def _vec(node, env, codes):
    if isinstance(node, ast.Constant):
        return _const(node, codes)
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else float(node.id == "True")
    if isinstance(node, ast.BinOp):
        a, b = _vec(node.left, env, codes), _vec(node.right, env, codes)
        op = type(node.op)
        if op is ast.Add:
            return np.add(a, b)
        if op is ast.Sub:
            return np.subtract(a, b)
        if op is ast.Mult:
            return np.multiply(a, b)
        zero = np.equal(b, 0)
        safe = np.where(zero, 1.0, b)
        if op is ast.Div:
            return np.where(zero, 0.0, np.divide(a, safe))
        if op is ast.FloorDiv:
            return np.where(zero, 0.0, np.floor_divide(a, safe))
        return np.where(zero, 0.0, np.mod(a, safe))
    if isinstance(node, ast.UnaryOp):
        v = _vec(node.operand, env, codes)
        if isinstance(node.op, ast.USub):
            return np.negative(v)
        if isinstance(node.op, ast.UAdd):
            return v
        return np.equal(v, 0).astype(np.float64)
    if isinstance(node, ast.Compare):
        left = _vec(node.left, env, codes)
        result = None
        for op, comp in zip(node.ops, node.comparators):
            right = _vec(comp, env, codes)
            r = {
                ast.Eq: np.equal,
                ast.NotEq: np.not_equal,
                ast.Lt: np.less,
                ast.LtE: np.less_equal,
                ast.Gt: np.greater,
                ast.GtE: np.greater_equal,
            }[type(op)](left, right)
            result = r if result is None else np.logical_and(result, r)
            left = right
        return np.asarray(result, dtype=np.float64)
    if isinstance(node, ast.BoolOp):
        values = [np.not_equal(_vec(v, env, codes), 0) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return np.asarray(out, dtype=np.float64)
    if isinstance(node, ast.IfExp):
        return np.where(
            np.not_equal(_vec(node.test, env, codes), 0), _vec(node.body, env, codes), _vec(node.orelse, env, codes)
        )
    # ast.Call: min, max, abs
    args = [_vec(a, env, codes) for a in node.args]
    if node.func.id == "abs":
        return np.abs(args[0])
    fold = np.minimum if node.func.id == "min" else np.maximum
    out = args[0]
    for a in args[1:]:
        out = fold(out, a)
    return out


def _scalar(node, env, codes):
    """Plain-Python twin of ``_vec`` for the per-example reference evaluator."""
    if isinstance(node, ast.Constant):
        return _const(node, codes)
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else float(node.id == "True")
    if isinstance(node, ast.BinOp):
        a, b = _scalar(node.left, env, codes), _scalar(node.right, env, codes)
        op = type(node.op)
        if op is ast.Add:
            return a + b
        if op is ast.Sub:
            return a - b
        if op is ast.Mult:
            return a * b
        if b == 0:
            return 0.0
        if op is ast.Div:
            return a / b
        if op is ast.FloorDiv:
            return float(a // b)
        return float(a % b)
    if isinstance(node, ast.UnaryOp):
        v = _scalar(node.operand, env, codes)
        return -v if isinstance(node.op, ast.USub) else v if isinstance(node.op, ast.UAdd) else float(v == 0)
    if isinstance(node, ast.Compare):
        left = _scalar(node.left, env, codes)
        for op, comp in zip(node.ops, node.comparators):
            right = _scalar(comp, env, codes)
            ok = {
                ast.Eq: left == right,
                ast.NotEq: left != right,
                ast.Lt: left < right,
                ast.LtE: left <= right,
                ast.Gt: left > right,
                ast.GtE: left >= right,
            }[type(op)]
            if not ok:
                return 0.0
            left = right
        return 1.0
    if isinstance(node, ast.BoolOp):
        truths = [_scalar(v, env, codes) != 0 for v in node.values]
        return float(all(truths) if isinstance(node.op, ast.And) else any(truths))
    if isinstance(node, ast.IfExp):
        return (
            _scalar(node.body, env, codes) if _scalar(node.test, env, codes) != 0 else _scalar(node.orelse, env, codes)
        )
    args = [_scalar(a, env, codes) for a in node.args]
    if node.func.id == "abs":
        return abs(args[0])
    return min(args) if node.func.id == "min" else max(args)
