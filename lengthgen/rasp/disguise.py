"""Drawn tasks that are not what their programs look like.

Two ways a random program's task is easier than its program (found in the
generated-task study, its Amendments 1 and 3):

- its answer is (nearly) a **table of the first or last few input
  tokens**, which a RASP-L program of a few lines computes whatever the
  drawn program's length (``decided_by_first``: exactly, at every length;
  ``table_accuracy``: how often the best such table is right);
- a control's **index arithmetic does nothing**: replacing each ``x * 2``,
  ``x % 3`` or ``x % 2`` by a RASP-L map of the same operand gives a RASP-L
  program with the same answers (``max(2k) > 0`` is ``max(k) > 0``), which
  a 20-second search and a pool of random programs can miss
  (``rewrites``, ``disguising_rewrite``).

Example: ``answer = (aggregate(select(indices, full(0), ==), tokens, 0,
max) > 1)`` (is the first token 2 or 3?) is decided by the first token:
``decided_by_first`` returns 1 for its answers.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import CompiledProgram, compile_source
from lengthgen.rasp.errors import RaspError

# the generator's unrestricted maps, as it writes them: "(operand op constant)"
INDEX_TERM = re.compile(r"\((\w+) (\* 2|% 3|% 2)\)")
# RASP-L maps of the same operand, and constants, that may stand in for one
REWRITES = ("{x}", "({x} + 1)", "({x} - 1)", "({x} == 0)", "({x} == 1)", "({x} > 0)", "full(0)", "full(1)", "full(2)")
FIRST_TOKENS = 3
DISGUISE_AGREEMENT = 0.99


def answers(program: CompiledProgram, inputs: np.ndarray) -> np.ndarray:
    """The program's value at ``<sep>`` after each row of input codes."""
    sep = np.full((len(inputs), 1), float(program.codes.code("<sep>")))
    return program.interpreter().run(np.concatenate([inputs, sep], axis=1))[:, -1]


def determined_by(columns: np.ndarray, values: np.ndarray) -> bool:
    """Whether ``values`` is a function of the rows of ``columns`` on this sample."""
    _, key = np.unique(columns, axis=0, return_inverse=True)
    key = key.ravel()
    pairs = np.unique(np.stack([key, values]), axis=1)
    return pairs.shape[1] == key.max() + 1


def decided_by_first(inputs: list[np.ndarray], values: list[np.ndarray], most: int = FIRST_TOKENS) -> int | None:
    """The smallest k <= ``most`` such that the answers are one function of
    the first k input tokens over every length given (inputs shorter than
    k are not read), or None.

    >>> x = [np.array([[1, 0], [2, 0], [2, 1]]), np.array([[1, 5, 5], [2, 4, 4]])]
    >>> decided_by_first(x, [np.array([0, 1, 1]), np.array([0, 1])])
    1
    """
    for k in range(1, most + 1):
        keep = [i for i, x in enumerate(inputs) if x.shape[1] >= k]
        if not keep:
            return None
        cols = np.concatenate([inputs[i][:, :k] for i in keep])
        vals = np.concatenate([values[i] for i in keep])
        if determined_by(cols, vals):
            return k
    return None


def table_accuracy(fit_columns: np.ndarray, fit_values: np.ndarray, columns: np.ndarray, values: np.ndarray) -> float:
    """How well the best lookup table of ``columns`` (the most frequent
    value for each row of them, fitted on the first pair; the overall most
    frequent value for a row never seen) predicts ``values``.

    >>> x = np.array([[0], [0], [1], [1], [1]])
    >>> table_accuracy(x, np.array([5, 5, 6, 6, 7]), np.array([[0], [1], [1]]), np.array([5, 6, 7]))
    0.6666666666666666
    """
    _, key = np.unique(np.concatenate([fit_columns, columns]), axis=0, return_inverse=True)
    key = key.ravel()
    fit_key, score_key = key[: len(fit_columns)], key[len(fit_columns) :]
    seen_values, code = np.unique(fit_values, return_inverse=True)
    counts = np.zeros((key.max() + 1, len(seen_values)), dtype=np.int64)
    np.add.at(counts, (fit_key, code.ravel()), 1)
    fallback = seen_values[np.bincount(code.ravel()).argmax()]
    best = np.where(counts.sum(axis=1) > 0, seen_values[counts.argmax(axis=1)], fallback)
    guess = best[score_key]
    return float((guess == values).mean())


def rewrites(body: str) -> Iterator[tuple[str, str]]:
    """Every body with each index-arithmetic term replaced by one of
    REWRITES, with a label saying what replaced what; nothing when the
    body has no such term.

    >>> [label for _, label in rewrites("a = (indices * 2);")][:2]
    ['(indices * 2) -> indices', '(indices * 2) -> (indices + 1)']
    """
    terms = list(INDEX_TERM.finditer(body))
    if not terms:
        return
    options = [[f.format(x=m.group(1)) for f in REWRITES] for m in terms]
    for combo in itertools.product(*options):
        text, last, labels = [], 0, []
        for m, rep in zip(terms, combo):
            text += [body[last : m.start()], rep]
            last = m.end()
            labels.append(f"{m.group(0)} -> {rep}")
        yield "".join(text) + body[last:], "; ".join(labels)


@dataclass
class Rewrite:
    label: str
    agreement: list[float]  # per input array, the fraction of equal answers


def rasp_l_rewrites(body: str, codes: TokenCodes, inputs: list[np.ndarray], want: list[np.ndarray]):
    """Each rewrite that compiles under the RASP-L rules, with its agreement
    with ``want`` (answers at ``<sep>``) on each input array."""
    for text, label in rewrites(body):
        try:
            program: CompiledProgram = compile_source(text, "<rewrite>", codes)
        except RaspError:
            continue  # still breaks a rule: not a RASP-L stand-in
        yield Rewrite(label, [float((answers(program, x) == w).mean()) for x, w in zip(inputs, want)])


def disguising_rewrite(
    body: str, codes: TokenCodes, inputs: list[np.ndarray], want: list[np.ndarray]
) -> Rewrite | None:
    """The first RASP-L rewrite of the body that agrees with ``want`` on at
    least DISGUISE_AGREEMENT of every input array, or None."""
    for found in rasp_l_rewrites(body, codes, inputs, want):
        if min(found.agreement) >= DISGUISE_AGREEMENT:
            return found
    return None
