"""Integer codes for tokens, as RASP programs see them.

A token that is a decimal integer (``"7"``) is its own value, so programs
can do arithmetic on it (``tokens + 1``).  Every other token gets a
negative code, ``-(vocabulary index + 1)``; since the special tokens come
first in every task's vocabulary, ``"<pad>"``, ``"<sep>"`` and ``"<eos>"``
are always -1, -2 and -3.  In a program, a string literal such as
``"<sep>"`` or ``"push_a"`` stands for its code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.registry import close_matches_hint
from lengthgen.tasks.base import SPECIALS

INT_RE = re.compile(r"-?\d+")
# `none` in a program: a value that is no token of any vocabulary (an
# aggregate's default for "nothing selected"); shown as <none>
NONE_CODE = -999_999


class Symbol(float):
    """A token's code written as a string literal (``"<sep>"``): the same
    number, marked as a symbol, so that ``full(-1)`` (a number) and
    ``full("<pad>")`` (a symbol) are told apart."""


class TokenCodes:
    """Token <-> code mapping for one vocabulary (or, with none, for plain
    integer inputs plus the special tokens)."""

    def __init__(self, vocab: Sequence[str] | None = None):
        self.vocab = tuple(vocab) if vocab is not None else SPECIALS
        self.open = vocab is None  # any integer is a valid token
        self._code = {tok: (int(tok) if INT_RE.fullmatch(tok) else -(i + 1)) for i, tok in enumerate(self.vocab)}
        self._token = {code: tok for tok, code in self._code.items()}
        self.id_to_code = np.array([self._code[t] for t in self.vocab], dtype=np.float64)
        # codes standing for symbols rather than numbers (the specials at least)
        self.symbol_codes = frozenset(float(c) for t, c in self._code.items() if not INT_RE.fullmatch(t))

    def token_values(self) -> frozenset | None:
        """Every code ``tokens`` can hold, or None for open integer inputs."""
        return None if self.open else frozenset(float(c) for c in self._code.values())

    def code(self, token: str) -> int:
        if token in self._code:
            return self._code[token]
        if self.open and INT_RE.fullmatch(token):
            return int(token)
        hint = close_matches_hint(token, list(self._code))
        where = "this task's vocabulary" if not self.open else "the special tokens (give a task for its vocabulary)"
        raise LengthgenError(f"unknown token {token!r}: not in {where}{hint}")

    def token(self, code: float) -> str:
        if code == NONE_CODE:
            return "<none>"
        if float(code).is_integer():
            c = int(code)
            if c in self._token:
                return self._token[c]
            if self.open and c >= 0:
                return str(c)
        return f"?{code:g}"

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        return np.array([self.code(t) for t in tokens], dtype=np.float64)
