"""A small public API for people with their own training loop.

Get a task, sample batches at a length, score predictions, and evaluate any
``generate`` callable across lengths with the same metrics, confidence
intervals, fit block and baselines as ``lengthgen run``::

    import numpy as np
    from lengthgen.api import evaluate, get_task, sample

    task = get_task("reverse")
    batch = sample(task, length=6, n=4, seed=0)      # a Batch of token ids

    def generate(prompts, max_new_tokens):
        # prompts: int64 [batch, prompt length], ending with <sep>;
        # return int64 [batch, <= max_new_tokens] (greedy tokens, <eos> ends)
        return oracle(prompts, max_new_tokens)

    report = evaluate(generate, task, train_lengths=range(1, 9), test_lengths=[12, 16], n=100)
    report["fit"]["fitted"], report["rows"][-1]["exact"]

Every sampler takes a seed (or a ``numpy.random.Generator``): the same seed
gives the same examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.baselines import BaselineAccumulator, summarize
from lengthgen.evaluation.metrics import decode_and_score, score_predictions
from lengthgen.evaluation.outcomes import check_longest_training_length, fit_block, fit_lengths, outcome_block
from lengthgen.evaluation.thresholds import thresholds_dict
from lengthgen.tasks import EOS, SEP, Batch, Task, make_task

Generate = Callable[[np.ndarray, int], np.ndarray]


def get_task(name: str, **params: Any) -> Task:
    """A registered task with parameters (``get_task("count", max_value=64)``)."""
    return make_task(name, **params)


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def sample(task: Task, length: int, n: int, seed: int | np.random.Generator = 0) -> Batch:
    """``n`` exact examples at ``length``."""
    return task.sample(_rng(seed), n, length)


def prompts_of(batch: Batch, rows: np.ndarray | None = None) -> list[np.ndarray]:
    """Each example's ``input <sep>`` as token ids."""
    rows = np.arange(len(batch)) if rows is None else rows
    return [np.concatenate([batch.inputs[i, : batch.input_lengths[i]], [SEP]]) for i in rows]


def score(batch: Batch, predictions: np.ndarray | list) -> dict[str, Any]:
    """Exact match and per-token accuracy (Wilson 95% intervals) of predicted
    answers: one token sequence per example, ``<eos>`` closing it (tokens
    after the first ``<eos>`` do not count)."""
    width = batch.targets.shape[1] + 1
    pred = np.zeros((len(batch), width), dtype=np.int64)
    for i, p in enumerate(predictions):
        p = np.asarray(p, dtype=np.int64).ravel()[:width]
        pred[i, : len(p)] = p
    return score_predictions(pred, batch, np.arange(len(batch)), None).summary()


def evaluate_length(
    generate: Generate, task: Task, length: int, n: int = 200, seed: int = 0, batch_size: int = 256
) -> dict[str, Any]:
    """One row: the metrics of ``generate`` at ``length``, with chance and
    the best cheap baseline on the same examples."""
    rng = np.random.default_rng([seed, 2, length])
    baselines = BaselineAccumulator(task, length)

    def decode(batch, rows, li, steps):
        out = np.asarray(generate(np.stack(prompts_of(batch, rows)), steps), dtype=np.int64)
        if out.ndim != 2 or out.shape[0] != len(rows):
            raise LengthgenError(
                f"generate must return an int array [batch, <= max_new_tokens]; got shape {out.shape} "
                f"for {len(rows)} prompts"
            )
        pred = np.full((len(rows), steps + 1), EOS, dtype=np.int64)
        pred[:, : min(steps, out.shape[1])] = out[:, :steps]
        return pred, None

    counts = decode_and_score(task, length, n, rng, batch_size, decode, baselines.add)
    row = {"length": length}
    row.update(counts.summary())
    return row | {"baseline_all": baselines.result()}


def evaluate(
    generate: Generate,
    task: Task,
    train_lengths: Iterable[int],
    test_lengths: Iterable[int],
    n: int = 200,
    seed: int = 0,
    metric: str = "exact",
    batch_size: int = 256,
) -> dict[str, Any]:
    """Evaluate ``generate`` over the training range (fit) and the test
    lengths: per-length rows, the fit block and the outcome block, as in a
    ``lengthgen run`` result file."""
    train = sorted(set(int(x) for x in train_lengths))
    test = sorted(set(int(x) for x in test_lengths))
    if not train or not test:
        raise LengthgenError("evaluate needs training lengths and test lengths")
    check_longest_training_length(train)
    top = max(train)
    rows = []
    for length in sorted(set(fit_lengths(train)) | set(test)):
        task.check_length(length)
        row = evaluate_length(generate, task, length, n, seed, batch_size)
        row.update({"in_train_range": length <= top, "test": length in test, "multiple": round(length / top, 4)})
        row["baseline"] = summarize(row.pop("baseline_all"), metric)
        rows.append(row)
    return {
        "task": {"name": task.name, "version": task.version, "params": task.config},
        "metric": metric,
        "thresholds": thresholds_dict(),
        "fit": fit_block(rows, metric, top),
        "outcome": outcome_block(rows, metric, top),
        "rows": rows,
    }


__all__ = ["evaluate", "evaluate_length", "get_task", "prompts_of", "sample", "score"]
