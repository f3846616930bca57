"""The search's candidates: sequences and selectors with their values on the
sample and the operations they cost (shared by bottom-up enumeration in
:mod:`lengthgen.rasp.search` and goal-directed synthesis in
:mod:`lengthgen.rasp.goal`)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Seq:
    """A candidate sequence: its RASP expression, kind, values on the
    sample, and the operations it costs."""

    expr: str
    kind: str  # token | index | number
    per: list[np.ndarray]  # one [batch, N] array per sample length
    ops: frozenset  # attention operations and counted blocks it depends on
    elementwise: bool = False  # a block (counted only when attention reads it)
    vset: frozenset | None = None
    flat: np.ndarray | None = field(default=None, repr=False)  # values at output positions
    ids: np.ndarray | None = field(default=None, repr=False)
    read: frozenset | None = field(default=None, repr=False)  # ops when attention reads it

    @property
    def cost(self) -> int:
        return len(self.ops)

    @property
    def bounded(self) -> bool:
        return self.kind == "token"


@dataclass
class Sel:
    expr: str
    per: list[np.ndarray]  # [batch, key, query] booleans
    ops: frozenset


def signature(arrays: list[np.ndarray]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


def op_id(kind: str, expr: str) -> str:
    return f"{kind}:{hashlib.blake2b(expr.encode(), digest_size=8).hexdigest()}"


def clock() -> float:
    """The search's clock: this process's CPU time, so a time limit buys the
    same search whatever else runs on the machine (a wall-clock limit under
    two concurrent sweeps bought half of it)."""
    return time.process_time()
