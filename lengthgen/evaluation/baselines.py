"""Chance and cheap baselines: what a lazy model could score on a task.

A length-generalization number means little if a constant or a one-line
heuristic scores the same.  Every task gets the uniform-guess *chance*
level and two constant predictors; a task adds the shortcuts that fit it
by name (``Task.baselines``) or as its own predictors
(``Task.extra_baselines``).  Every predictor is scored by the evaluator's
own scorer on the very examples a run is evaluated on.

Predictors other than ``majority-answer`` are told each example's target
length (they emit that many tokens, then ``<eos>``): a generous lazy model,
so the baseline is an upper bound on what that shortcut scores.

>>> from lengthgen.tasks import make_task
>>> table = baseline_table(make_task("parity"), [8], n=400)
>>> round(table[0]["chance"]["exact"], 2)
0.5
>>> table[0]["best"]["exact"]["value"] < 0.6
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.metrics import AccuracyCounts
from lengthgen.evaluation.thresholds import SHORTCUT_MARGIN
from lengthgen.tasks.base import EOS, OFFSET, PAD, Batch, Task, iter_batches

# The reference sample a constant predictor is fitted on: independent of any
# run's evaluation examples, the same for every run.
REFERENCE_EXAMPLES = 2000
REFERENCE_SEED = 20231115

Answers = np.ndarray  # [batch, max target length] token ids


class Reference:
    """What the constant predictors know about the answers at one length."""

    def __init__(self, task: Task, length: int):
        batch = task.sample(np.random.default_rng([REFERENCE_SEED, length]), REFERENCE_EXAMPLES, length)
        self.batch = batch
        answers = Counter(tuple(batch.example(i)[1].tolist()) for i in range(len(batch)))
        self.majority_answer = np.array(answers.most_common(1)[0][0], dtype=np.int64)
        width = batch.targets.shape[1]
        self.majority_token = np.zeros(width, dtype=np.int64)
        for col in range(width):
            valid = batch.target_lengths > col
            values, counts = np.unique(batch.targets[valid, col], return_counts=True)
            self.majority_token[col] = values[counts.argmax()] if len(values) else PAD
        scored = batch.targets[batch.score_mask]
        self.answer_alphabet = np.unique(scored[scored >= OFFSET])


def _repeat(tokens: np.ndarray, width: int) -> np.ndarray:
    return np.repeat(tokens[:, None], width, axis=1)


def _input_as_answer(batch: Batch, rows: np.ndarray) -> np.ndarray:
    """Each row's input tokens, cut or padded to the target width."""
    width = batch.targets.shape[1]
    out = np.full((len(batch), width), PAD, dtype=np.int64)
    w = min(width, rows.shape[1])
    out[:, :w] = rows[:, :w]
    return out


def _valid_inputs(batch: Batch) -> np.ndarray:
    return np.arange(batch.inputs.shape[1])[None, :] < batch.input_lengths[:, None]


def _reverse_inputs(batch: Batch) -> np.ndarray:
    idx = batch.input_lengths[:, None] - 1 - np.arange(batch.inputs.shape[1])[None, :]
    return np.where(idx >= 0, np.take_along_axis(batch.inputs, np.maximum(idx, 0), axis=1), PAD)


def _mode(batch: Batch, allowed: np.ndarray | None) -> np.ndarray:
    """Most frequent input token per row (smallest id on ties), among ``allowed`` ids."""
    vocab = int(batch.inputs.max()) + 1
    counts = np.zeros((len(batch), vocab), dtype=np.int64)
    rows = np.repeat(np.arange(len(batch)), batch.inputs.shape[1])
    np.add.at(counts, (rows, batch.inputs.ravel()), _valid_inputs(batch).ravel().astype(np.int64))
    counts[:, :OFFSET] = 0
    if allowed is not None:
        mask = np.zeros(vocab, dtype=bool)
        mask[allowed[allowed < vocab]] = True
        counts[:, ~mask] = 0
    return counts.argmax(axis=1)


Predictor = Callable[[Task, Batch, Reference], Answers]

PREDICTORS: dict[str, tuple[str, Predictor]] = {
    "majority-answer": (
        "the most frequent whole answer at this length, for every input (a constant)",
        lambda task, b, ref: np.broadcast_to(ref.majority_answer, (len(b), len(ref.majority_answer))),
    ),
    "majority-token": (
        "at each answer position, the most frequent token there",
        lambda task, b, ref: np.broadcast_to(
            np.pad(ref.majority_token, (0, max(0, b.targets.shape[1] - len(ref.majority_token))))[: b.targets.shape[1]],
            b.targets.shape,
        ),
    ),
    "copy-input": ("the input itself", lambda task, b, ref: _input_as_answer(b, b.inputs)),
    "reverse-input": ("the input reversed", lambda task, b, ref: _input_as_answer(b, _reverse_inputs(b))),
    "sort-input": (
        "the input tokens in ascending id order",
        lambda task, b, ref: _input_as_answer(b, np.sort(np.where(_valid_inputs(b), b.inputs, 1 << 40), axis=1)),
    ),
    "first-input-token": ("the first input token", lambda task, b, ref: _repeat(b.inputs[:, 0], b.targets.shape[1])),
    "last-input-token": (
        "the last input token",
        lambda task, b, ref: _repeat(b.inputs[np.arange(len(b)), b.input_lengths - 1], b.targets.shape[1]),
    ),
    "input-mode-answer-token": (
        "the most frequent input token among those that can be answers",
        lambda task, b, ref: _repeat(_mode(b, ref.answer_alphabet), b.targets.shape[1]),
    ),
}


def predictor_names(task: Task) -> list[str]:
    """Every baseline predictor of ``task``: the two constants, its named
    shortcuts, then its own."""
    names = ["majority-answer", "majority-token", *task.baselines]
    for name in task.baselines:
        if name not in PREDICTORS:
            raise LengthgenError(
                f"task {task.name!r} names an unknown baseline {name!r}; known: {', '.join(PREDICTORS)}"
            )
    return names + list(task.extra_baselines())


def describe(task: Task) -> dict[str, str]:
    own = {name: doc for name, (doc, _) in task.extra_baselines().items()}
    return {n: own[n] if n in own else PREDICTORS[n][0] for n in predictor_names(task)}


def _predict(task: Task, name: str, batch: Batch, ref: Reference) -> np.ndarray:
    own = task.extra_baselines()
    fn = own[name][1] if name in own else PREDICTORS[name][1]
    answers = np.asarray(fn(task, batch, ref), dtype=np.int64)
    # room for the longest target plus its closing <eos>, whatever the predictor emitted
    width = max(answers.shape[1], batch.targets.shape[1]) + 1
    pred = np.full((len(batch), width), PAD, dtype=np.int64)
    pred[:, : answers.shape[1]] = answers
    if name != "majority-answer":
        width = pred.shape[1]
        ends = np.minimum(batch.target_lengths, width - 1)
        pred[np.arange(len(batch)), ends] = EOS
    else:
        pred[:, answers.shape[1]] = EOS
    return pred


def chance_token(ref: Reference) -> float:
    return 1.0 / max(1, len(ref.answer_alphabet))


def chance(batch: Batch, ref: Reference) -> dict[str, float]:
    """A uniform guess over the answer alphabet at every scored position
    (unscored positions, e.g. index hints, given): exact and per-token."""
    p = chance_token(ref)
    scored = batch.score_mask.sum(axis=1)
    return {"exact": float(np.mean(np.power(p, scored))), "token": p}


def score_baselines(task: Task, batch: Batch, ref: Reference) -> dict[str, AccuracyCounts]:
    """Counts for every predictor of ``task`` on ``batch`` (examples of the length ``ref`` was built at)."""
    from lengthgen.evaluation.metrics import score_predictions

    rows = np.arange(len(batch))
    return {
        name: score_predictions(_predict(task, name, batch, ref), batch, rows, None) for name in predictor_names(task)
    }


class BaselineAccumulator:
    """Scores chance and every baseline of ``task`` on batches of one length
    as they come (the evaluator passes it the batches it decodes)."""

    def __init__(self, task: Task, length: int):
        self.task, self.length = task, length
        self.ref = _reference(task, length)
        self.totals: dict[str, AccuracyCounts] = {}
        self.chance_exact_sum = 0.0
        self.examples = 0

    def add(self, batch: Batch) -> None:
        for name, counts in score_baselines(self.task, batch, self.ref).items():
            self.totals.setdefault(name, AccuracyCounts()).add(counts)
        self.chance_exact_sum += chance(batch, self.ref)["exact"] * len(batch)
        self.examples += len(batch)

    def result(self) -> dict[str, Any]:
        if not self.examples:
            raise LengthgenError("no examples were scored for the baselines")
        scores = {name: {"exact": c.exact / c.examples, "token": _token(c)} for name, c in self.totals.items()}
        return {
            "length": self.length,
            "chance": {"exact": self.chance_exact_sum / self.examples, "token": chance_token(self.ref)},
            "baselines": scores,
        }


def baselines_at(task: Task, length: int, n: int, rng: np.random.Generator, batch_size: int = 256) -> dict[str, Any]:
    """Chance and every baseline at ``length`` on the ``n`` examples that
    ``rng`` yields when drawn in chunks of ``batch_size`` (as the evaluator
    draws them)."""
    acc = BaselineAccumulator(task, length)
    for batch in iter_batches(task, length, n, rng, batch_size):
        acc.add(batch)
    return acc.result()


def _token(c: AccuracyCounts) -> float:
    return c.tokens_correct / c.tokens if c.tokens else c.exact / c.examples


_REFS: dict[tuple, Reference] = {}


def _reference(task: Task, length: int) -> Reference:
    key = (task.name, tuple(sorted(task.config.items())), length)
    if key not in _REFS:
        if len(_REFS) > 256:
            _REFS.clear()
        _REFS[key] = Reference(task, length)
    return _REFS[key]


def best_baseline(entry: dict[str, Any], metric: str) -> tuple[str, float]:
    name = max(entry["baselines"], key=lambda k: (entry["baselines"][k][metric], k))
    return name, entry["baselines"][name][metric]


def summarize(entry: dict[str, Any], metric: str) -> dict[str, Any]:
    """The per-length block a result row carries: chance, the best baseline
    under the benchmark's metric, and every predictor's scores."""
    name, value = best_baseline(entry, metric)
    return {
        "chance": entry["chance"],
        "best": {"name": name, metric: value},
        "all": entry["baselines"],
        "shortcut": value - entry["chance"][metric] > SHORTCUT_MARGIN,
    }


def baseline_table(task: Task, lengths: list[int], n: int = 500, seed: int = 0) -> list[dict[str, Any]]:
    """Chance and baselines at each length (fresh examples from ``seed``),
    with the best predictor under both metrics."""
    out = []
    for length in lengths:
        task.check_length(length)
        entry = baselines_at(task, length, n, np.random.default_rng([seed, 2, length]))
        entry["best"] = {m: dict(zip(("name", "value"), best_baseline(entry, m))) for m in ("exact", "token")}
        out.append(entry)
    return out


@lru_cache(maxsize=4096)
def _cached_row(task_name: str, params: tuple, length: int, n: int, seed: int, batch_size: int) -> dict[str, Any]:
    from lengthgen.tasks import make_task

    task = make_task(task_name, **dict(params))
    return baselines_at(task, length, n, np.random.default_rng([seed, 2, length]), batch_size)


def baselines_for_result_row(
    task_name: str, params: dict[str, Any], length: int, n: int, seed: int, batch_size: int
) -> dict[str, Any]:
    """Recompute a stored run's baselines on its own evaluation examples
    (the evaluator draws them from ``default_rng([seed, 2, length])``)."""
    return _cached_row(task_name, tuple(sorted(params.items())), length, n, seed, batch_size)


def default_lengths(task: Task) -> list[int]:
    """Lengths for a quick look when none are given (length 1 is left out:
    there many tasks are their own shortcut)."""
    top = task.max_length()
    out = []
    for n in (4, 8, 16, 32):
        if top is not None and n > top:
            continue
        try:
            task.check_length(n)
            out.append(n)
        except LengthgenError:
            continue
    return out or [task.min_length]


def shortcut_flags(table: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """Per metric, the largest margin of the best baseline over chance in
    ``table`` (from :func:`baseline_table`) when it exceeds SHORTCUT_MARGIN."""
    flags: dict[str, dict[str, Any] | None] = {}
    for metric in ("exact", "token"):
        worst = max(table, key=lambda e: e["best"][metric]["value"] - e["chance"][metric])
        margin = worst["best"][metric]["value"] - worst["chance"][metric]
        flags[metric] = (
            {"length": worst["length"], "name": worst["best"][metric]["name"], "margin": margin}
            if margin > SHORTCUT_MARGIN
            else None
        )
    return flags
