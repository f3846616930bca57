"""Lexer and recursive-descent parser for ``.rasp`` files.

The syntax stays close to Weiss et al.'s RASP::

    # comments start with '#'
    def shift_by(k, seq, default) {
        return aggregate(select(indices, indices - k, ==), seq, default);
    }
    prev = shift_by(1, tokens, "<pad>");
    output = where(tokens == "<sep>", prev, tokens + 1);

Statements are ``name = expr;`` and ``def``; ``output`` is the declared
next-token predictor.  Map functions are written ``lambda x: <expr>`` or
``lambda x, y: <expr>``; their bodies are handed to :mod:`lambdas`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lengthgen.rasp.errors import RaspError

MAX_SOURCE_BYTES = 200_000
MAX_NESTING = 60
KEYWORDS = ("def", "return", "lambda", "true", "false")
COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
SYMBOLS = (
    "//",
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&",
    "|",
    "!",
    "(",
    ")",
    "{",
    "}",
    ",",
    ";",
)
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
MAX_NUMBER = 10**9  # the map-expression constant limit: a program's numbers are token values and offsets
NUMBER_RE = re.compile(r"\d+(\.\d+)?")


@dataclass
class Tok:
    kind: str  # NAME NUMBER STRING OP LAMBDA KEYWORD EOF
    text: str
    line: int
    col: int
    params: tuple[str, ...] = ()
    body: str = ""
    body_line: int = 0
    body_col: int = 0


def tokenize(source: str) -> list[Tok]:
    toks: list[Tok] = []
    i, line, col = 0, 1, 1
    n = len(source)

    def advance(k: int) -> None:
        nonlocal i, line, col
        for ch in source[i : i + k]:
            if ch == "\n":
                line, col = line + 1, 1
            else:
                col += 1
        i += k

    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            advance(1)
        elif ch == "#":
            j = source.find("\n", i)
            advance((n if j < 0 else j) - i)
        elif ch == '"':
            j = source.find('"', i + 1)
            nl = source.find("\n", i + 1)
            if j < 0 or (0 <= nl < j):
                raise RaspError("unterminated string literal", line, col)
            toks.append(Tok("STRING", source[i + 1 : j], line, col))
            advance(j + 1 - i)
        elif m := NAME_RE.match(source, i):
            word = m.group()
            if word == "lambda":
                toks.append(_lambda(source, m.end(), line, col))
                advance(toks[-1].text_len)  # type: ignore[attr-defined]
            else:
                toks.append(Tok("KEYWORD" if word in KEYWORDS else "NAME", word, line, col))
                advance(len(word))
        elif m := NUMBER_RE.match(source, i):
            toks.append(Tok("NUMBER", m.group(), line, col))
            advance(len(m.group()))
        else:
            for sym in SYMBOLS:
                if source.startswith(sym, i):
                    toks.append(Tok("OP", sym, line, col))
                    advance(len(sym))
                    break
            else:
                shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
                raise RaspError(f"unexpected character {shown}", line, col)
    toks.append(Tok("EOF", "", line, col))
    return toks


def _lambda(source: str, start: int, line: int, col: int) -> Tok:
    """Capture ``lambda params: body`` raw; the body ends at a ',' or ')' at
    bracket depth 0 (so commas inside ``min(a, b)`` stay in the body),
    outside string literals (``x == "("`` is no bracket)."""
    colon = source.find(":", start)
    if colon < 0:
        raise RaspError("lambda needs ':' after its parameters", line, col)
    params = tuple(p.strip() for p in source[start:colon].split(","))
    if not params or not all(NAME_RE.fullmatch(p) for p in params):
        raise RaspError("lambda parameters must be names separated by commas", line, col)
    if len(set(params)) != len(params):
        raise RaspError("lambda parameters must be distinct", line, col)
    depth, j = 0, colon + 1
    while j < len(source):
        ch = source[j]
        if ch == '"':
            # a string literal may hold brackets or commas: "(" is a token, not nesting
            close = source.find('"', j + 1)
            j = len(source) if close < 0 else close + 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch in ",;" and depth == 0:
            break
        j += 1
    body = source[colon + 1 : j]
    prefix = source[start - len("lambda") : colon + 1]
    b_line = line + prefix.count("\n")
    b_col = col + len(prefix) if "\n" not in prefix else len(prefix.rsplit("\n", 1)[1]) + 1
    tok = Tok("LAMBDA", "lambda", line, col, params, body, b_line, b_col)
    tok.text_len = j - (start - len("lambda"))  # type: ignore[attr-defined]
    return tok


# --- syntax tree -----------------------------------------------------------


@dataclass
class Expr:
    line: int
    col: int


@dataclass
class Num(Expr):
    value: float


@dataclass
class Str(Expr):
    value: str


@dataclass
class Bool(Expr):
    value: bool


@dataclass
class Name(Expr):
    name: str


@dataclass
class Pred(Expr):
    op: str  # a comparison used as a select predicate


@dataclass
class LambdaExpr(Expr):
    params: tuple[str, ...]
    body: str
    body_line: int
    body_col: int


@dataclass
class Unary(Expr):
    op: str
    operand: Expr


@dataclass
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class Call(Expr):
    func: str
    args: list[Expr]


@dataclass
class Assign:
    name: str
    value: Expr
    line: int
    col: int


@dataclass
class Def:
    name: str
    params: list[str]
    body: list[Assign]
    result: Expr
    line: int
    col: int


@dataclass
class Program:
    statements: list[Assign | Def] = field(default_factory=list)


class Parser:
    def __init__(self, source: str):
        self.toks = tokenize(source)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> Tok:
        return self.toks[self.pos]

    def error(self, message: str, tok: Tok | None = None) -> RaspError:
        tok = tok or self.tok
        return RaspError(message, tok.line, tok.col)

    def expect(self, kind: str, text: str | None = None) -> Tok:
        tok = self.tok
        if tok.kind != kind or (text is not None and tok.text != text):
            want = repr(text) if text else kind.lower()
            got = "end of file" if tok.kind == "EOF" else repr(tok.text)
            raise self.error(f"expected {want}, got {got}")
        self.pos += 1
        return tok

    def accept(self, kind: str, text: str) -> bool:
        if self.tok.kind == kind and self.tok.text == text:
            self.pos += 1
            return True
        return False

    def program(self) -> Program:
        prog = Program()
        while self.tok.kind != "EOF":
            prog.statements.append(self.statement(top=True))
        return prog

    def statement(self, top: bool) -> Assign | Def:
        tok = self.tok
        if tok.kind == "KEYWORD" and tok.text == "def":
            if not top:
                raise self.error("functions can only be defined at the top level")
            return self.definition()
        if tok.kind != "NAME":
            raise self.error(f"expected a statement (name = expression;), got {tok.text or 'end of file'!r}")
        self.pos += 1
        self.expect("OP", "=")
        value = self.expression()
        self.expect("OP", ";")
        return Assign(tok.text, value, tok.line, tok.col)

    def definition(self) -> Def:
        start = self.expect("KEYWORD", "def")
        name = self.expect("NAME").text
        self.expect("OP", "(")
        params: list[str] = []
        if not self.accept("OP", ")"):
            while True:
                params.append(self.expect("NAME").text)
                if self.accept("OP", ")"):
                    break
                self.expect("OP", ",")
        if len(set(params)) != len(params):
            raise RaspError(f"function {name!r} repeats a parameter name", start.line, start.col)
        self.expect("OP", "{")
        body: list[Assign] = []
        while not (self.tok.kind == "KEYWORD" and self.tok.text == "return"):
            if self.tok.kind == "EOF" or (self.tok.kind == "OP" and self.tok.text == "}"):
                raise self.error(f"function {name!r} must end with 'return expression;'")
            body.append(self.statement(top=False))  # type: ignore[arg-type]
        self.expect("KEYWORD", "return")
        result = self.expression()
        self.expect("OP", ";")
        self.expect("OP", "}")
        return Def(name, params, body, result, start.line, start.col)

    # expressions, lowest precedence first
    def expression(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"expression nested deeper than {MAX_NESTING} levels")
        try:
            return self.binary_level(0)
        finally:
            self.depth -= 1

    LEVELS = (("|",), ("&",), COMPARISONS, ("+", "-"), ("*", "/", "//", "%"))

    def binary_level(self, level: int) -> Expr:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary_level(level + 1)
        ops = self.LEVELS[level]
        while self.tok.kind == "OP" and self.tok.text in ops:
            op_tok = self.tok
            self.pos += 1
            right = self.binary_level(level + 1)
            left = Binary(op_tok.line, op_tok.col, op_tok.text, left, right)
            if ops is COMPARISONS and self.tok.kind == "OP" and self.tok.text in COMPARISONS:
                raise self.error("comparisons do not chain; use parentheses and &")
        return left

    def unary(self) -> Expr:
        tok = self.tok
        if tok.kind == "OP" and tok.text in ("!", "-"):
            self.pos += 1
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.error(f"expression nested deeper than {MAX_NESTING} levels")
            try:
                return Unary(tok.line, tok.col, tok.text, self.unary())
            finally:
                self.depth -= 1
        return self.postfix()

    def postfix(self) -> Expr:
        tok = self.tok
        atom = self.atom()
        if isinstance(atom, Name) and self.accept("OP", "("):
            args: list[Expr] = []
            if not self.accept("OP", ")"):
                while True:
                    args.append(self.argument())
                    if self.accept("OP", ")"):
                        break
                    self.expect("OP", ",")
            return Call(tok.line, tok.col, atom.name, args)
        return atom

    def argument(self) -> Expr:
        tok = self.tok
        nxt = self.toks[self.pos + 1] if self.pos + 1 < len(self.toks) else tok
        if tok.kind == "OP" and tok.text in COMPARISONS and nxt.kind == "OP" and nxt.text in (",", ")"):
            self.pos += 1
            return Pred(tok.line, tok.col, tok.text)
        return self.expression()

    def atom(self) -> Expr:
        tok = self.tok
        if tok.kind == "NUMBER":
            self.pos += 1
            # the magnitude is bounded, not the spelling: 0.333333333333333 is a fine literal
            if len(tok.text) > 40 or float(tok.text) > MAX_NUMBER:
                raise RaspError(
                    f"number {tok.text[:20]}{'...' if len(tok.text) > 20 else ''} is too large (at most {MAX_NUMBER:.0e})",
                    tok.line,
                    tok.col,
                )
            return Num(tok.line, tok.col, float(tok.text))
        if tok.kind == "STRING":
            self.pos += 1
            return Str(tok.line, tok.col, tok.text)
        if tok.kind == "KEYWORD" and tok.text in ("true", "false"):
            self.pos += 1
            return Bool(tok.line, tok.col, tok.text == "true")
        if tok.kind == "NAME":
            self.pos += 1
            return Name(tok.line, tok.col, tok.text)
        if tok.kind == "LAMBDA":
            self.pos += 1
            return LambdaExpr(tok.line, tok.col, tok.params, tok.body, tok.body_line, tok.body_col)
        if self.accept("OP", "("):
            inner = self.expression()
            self.expect("OP", ")")
            return inner
        got = "end of file" if tok.kind == "EOF" else repr(tok.text)
        raise self.error(f"expected an expression, got {got}")


def parse(source: str) -> Program:
    if len(source) > MAX_SOURCE_BYTES:
        raise RaspError(f"program larger than {MAX_SOURCE_BYTES} characters")
    return Parser(source).program()
