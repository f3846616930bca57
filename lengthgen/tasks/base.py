"""The task interface shared by every generator.

A task turns ``(rng, batch_size, length)`` into a :class:`Batch` of token ids
with exact targets.  Token id layout is the same for every task: ids 0-2 are
the special tokens ``<pad>``, ``<sep>`` and ``<eos>``; the task's own tokens
follow in the order of :attr:`Task.tokens`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.registry import Registry, close_matches_hint

PAD, SEP, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<sep>", "<eos>")
OFFSET = len(SPECIALS)

CHOMSKY_LEVELS = ("regular", "context-free", "context-sensitive")


@dataclass
class Batch:
    """A padded batch of examples.

    ``inputs`` and ``targets`` are int64 arrays padded with ``PAD``;
    ``score_mask`` marks the target positions that count for per-token
    accuracy (e.g. digits but not index hints).  Padding positions are never
    in it.
    """

    inputs: np.ndarray
    targets: np.ndarray
    input_lengths: np.ndarray
    target_lengths: np.ndarray
    score_mask: np.ndarray

    def __len__(self) -> int:
        return len(self.inputs)

    @classmethod
    def fixed(cls, inputs: np.ndarray, targets: np.ndarray, score_mask: np.ndarray | None = None) -> Batch:
        """A batch where every example has the same input and target length."""
        batch = len(inputs)
        if score_mask is None:
            score_mask = np.ones(targets.shape, dtype=bool)
        return cls(
            inputs=inputs.astype(np.int64, copy=False),
            targets=targets.astype(np.int64, copy=False),
            input_lengths=np.full(batch, inputs.shape[1], dtype=np.int64),
            target_lengths=np.full(batch, targets.shape[1], dtype=np.int64),
            score_mask=score_mask,
        )

    @classmethod
    def ragged(
        cls,
        inputs: np.ndarray,
        input_lengths: np.ndarray,
        targets: np.ndarray,
        target_lengths: np.ndarray,
        score_mask: np.ndarray | None = None,
    ) -> Batch:
        """A batch with per-example lengths; positions past a length are set to PAD."""
        if (input_lengths == inputs.shape[1]).all() and (target_lengths == targets.shape[1]).all():
            return cls.fixed(inputs, targets, score_mask)
        in_valid = np.arange(inputs.shape[1]) < input_lengths[:, None]
        tg_valid = np.arange(targets.shape[1]) < target_lengths[:, None]
        score_mask = tg_valid if score_mask is None else score_mask & tg_valid
        return cls(
            inputs=np.where(in_valid, inputs, PAD).astype(np.int64, copy=False),
            targets=np.where(tg_valid, targets, PAD).astype(np.int64, copy=False),
            input_lengths=input_lengths.astype(np.int64, copy=False),
            target_lengths=target_lengths.astype(np.int64, copy=False),
            score_mask=score_mask,
        )

    def select(self, rows: np.ndarray) -> Batch:
        """The examples at ``rows`` (trimmed to their longest input and target)."""
        li, lt = int(self.input_lengths[rows].max()), int(self.target_lengths[rows].max())
        return Batch(
            self.inputs[rows, :li],
            self.targets[rows, :lt],
            self.input_lengths[rows],
            self.target_lengths[rows],
            self.score_mask[rows, :lt],
        )

    def example(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Input and target ids of example ``i`` without padding."""
        return self.inputs[i, : self.input_lengths[i]], self.targets[i, : self.target_lengths[i]]


def concat_batches(batches: Sequence[Batch]) -> Batch:
    """Stack batches of possibly different shapes, padding with ``PAD``."""
    li = max(b.inputs.shape[1] for b in batches)
    lt = max(b.targets.shape[1] for b in batches)
    n = sum(len(b.input_lengths) for b in batches)
    # filled in place: np.pad per part was most of a training step's data time at small sizes
    inputs = np.full((n, li), PAD, dtype=np.result_type(*(b.inputs for b in batches)))
    targets = np.full((n, lt), PAD, dtype=np.result_type(*(b.targets for b in batches)))
    score_mask = np.zeros((n, lt), dtype=np.result_type(*(b.score_mask for b in batches)))
    at = 0
    for b in batches:
        rows = slice(at, at + len(b.input_lengths))
        inputs[rows, : b.inputs.shape[1]] = b.inputs
        targets[rows, : b.targets.shape[1]] = b.targets
        score_mask[rows, : b.score_mask.shape[1]] = b.score_mask
        at = rows.stop
    return Batch(
        inputs=inputs,
        targets=targets,
        input_lengths=np.concatenate([b.input_lengths for b in batches]),
        target_lengths=np.concatenate([b.target_lengths for b in batches]),
        score_mask=score_mask,
    )


MAX_INT_PARAM = 1_000_000


@dataclass(frozen=True)
class Param:
    """A task parameter: default value, help text and optional allowed values.
    ``late``: added after results of the task were committed; a run at the
    default leaves it out of its identity, so those results keep their
    fingerprints (and a resumed sweep does not redo them)."""

    default: Any
    help: str
    choices: tuple | None = None
    minimum: int | None = None
    late: bool = False


def _coerce(name: str, value: Any, param: Param) -> Any:
    kind = type(param.default)
    if kind is bool:
        if isinstance(value, str):
            low = value.lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise LengthgenError(f"parameter {name!r} expects true or false, got {value!r}")
            value = low in ("true", "1", "yes")
        elif not isinstance(value, bool):
            raise LengthgenError(f"parameter {name!r} expects true or false, got {value!r}")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise LengthgenError(f"parameter {name!r} expects an integer, got {value!r}")
        try:
            value = int(value)
        except ValueError:
            raise LengthgenError(f"parameter {name!r} expects an integer, got {value!r}") from None
    elif kind is float:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise LengthgenError(f"parameter {name!r} expects a number, got {value!r}") from None
    else:
        value = str(value)
    if param.choices is not None and value not in param.choices:
        raise LengthgenError(f"parameter {name!r} must be one of {', '.join(map(str, param.choices))}; got {value!r}")
    if param.minimum is not None and value < param.minimum:
        raise LengthgenError(f"parameter {name!r} must be >= {param.minimum}, got {value!r}")
    if kind in (int, float) and not math.isfinite(value) or kind is int and abs(value) > MAX_INT_PARAM:
        # vocabularies and template banks grow with these: refuse before allocating
        raise LengthgenError(f"parameter {name!r} must be a finite number up to {MAX_INT_PARAM:,}, got {value!r}")
    return value


class Task:
    """Base class: subclasses set the class attributes and implement ``_sample``
    (vectorised) and ``reference`` (slow, plain Python, used only by tests)."""

    name: ClassVar[str]
    family: ClassVar[str]
    length_unit: ClassVar[str]
    chomsky: ClassVar[str | None] = None
    version: ClassVar[int] = 1
    min_length: ClassVar[int] = 1
    params: ClassVar[dict[str, Param]] = {}
    # Named cheap predictors (lengthgen.evaluation.baselines) that could
    # shortcut this task, on top of the constant ones every task gets.
    baselines: ClassVar[tuple[str, ...]] = ()
    # parameters that reproduce an earlier version's examples, by version
    # (readers of old result files recompute baselines with them)
    legacy_params: ClassVar[dict[int, dict[str, Any]]] = {}
    # answers are input symbols that may never be training targets: an untied
    # readout can never emit them, so models default to a tied readout
    symbolic_answers: ClassVar[bool] = False

    def __init__(self, **kwargs: Any):
        unknown = [k for k in kwargs if k not in self.params]
        if unknown:
            hint = close_matches_hint(unknown[0], list(self.params))
            known = ", ".join(self.params) or "none"
            raise LengthgenError(f"task {self.name!r} has no parameter {unknown[0]!r}{hint}; parameters: {known}")
        self.config = {k: _coerce(k, kwargs.get(k, p.default), p) for k, p in self.params.items()}
        for key, value in self.config.items():
            setattr(self, key, value)
        self.validate()
        self.tokens: tuple[str, ...] = tuple(self.build_tokens())
        self.vocab: tuple[str, ...] = SPECIALS + self.tokens
        self._index = {tok: i for i, tok in enumerate(self.vocab)}

    # --- to override -----------------------------------------------------
    def validate(self) -> None:
        """Check parameter combinations; raise LengthgenError when invalid."""

    def build_tokens(self) -> Sequence[str]:
        raise NotImplementedError

    def max_length(self) -> int | None:
        """The largest supported length, or None when unbounded."""
        return None

    def _sample(self, rng: np.random.Generator, batch_size: int, length: int) -> Batch:
        raise NotImplementedError

    def reference(self, inputs: list[str]) -> list[str]:
        """Slow plain-Python ground truth for one input, for tests."""
        raise NotImplementedError

    def extra_baselines(self) -> dict[str, tuple[str, Any]]:
        """Task-specific lazy predictors: name -> (description,
        ``fn(task, batch, reference) -> answer ids [batch, target width]``)."""
        return {}

    # --- public API ------------------------------------------------------
    def sample(self, rng: np.random.Generator, batch_size: int, length: int) -> Batch:
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        if batch_size < 1:
            raise LengthgenError(f"batch size must be >= 1, got {batch_size}")
        self.check_length(length)
        return self._sample(rng, int(batch_size), int(length))

    def check_length(self, length: int) -> None:
        top = self.max_length()
        if length < self.min_length or (top is not None and length > top):
            span = f"{self.min_length}..{top}" if top is not None else f">= {self.min_length}"
            raise LengthgenError(f"task {self.name!r}: length must be {span} ({self.length_unit}), got {length}")

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def id(self, token: str) -> int:
        return self._index[token]

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        return np.array([self._index[t] for t in tokens], dtype=np.int64)

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.vocab[int(i)] for i in ids]

    def parse(self, text: str | Sequence[str]) -> list[str]:
        """Split user text into tokens, checking each is in the vocabulary."""
        tokens = text.split() if isinstance(text, str) else list(text)
        for tok in tokens:
            if tok not in self._index or tok in SPECIALS:
                hint = close_matches_hint(tok, list(self.tokens))
                raise LengthgenError(f"token {tok!r} is not in the vocabulary of task {self.name!r}{hint}")
        return tokens

    def describe(self) -> str:
        return inspect.cleandoc(type(self).__doc__ or "")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{type(self).__name__}({args})"


TASKS: Registry[type[Task]] = Registry("task")


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator adding a task to the registry under ``cls.name``."""
    if cls.chomsky is not None and cls.chomsky not in CHOMSKY_LEVELS:
        raise ValueError(f"{cls.__name__}: bad chomsky level {cls.chomsky!r}")
    return TASKS.register(cls.name)(cls)


# Task names with a prefix that a higher unit resolves, registering the task
# on demand: "rasp:FILE" is the task a RASP-L program defines.  Named by module
# path, like an entry point, because that unit builds on this one.
TASK_RESOLVERS: dict[str, str] = {"rasp:": "lengthgen.rasp.task:program_task_name"}


# How a prefixed task enters a run's fingerprint, where its name alone would
# not do: "rasp:FILE" by its program's content, not where the file lies.
TASK_IDENTITIES: dict[str, str] = {"rasp:": "lengthgen.rasp.task:program_identity"}


def _resolved(target: str):
    import importlib

    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def resolve_task_name(name: str) -> str:
    """``name`` itself, or for a prefixed name the task its resolver registers."""
    if isinstance(name, str) and name not in TASKS:
        for prefix, target in TASK_RESOLVERS.items():
            if name.startswith(prefix):
                return _resolved(target)(name)
    return name


def task_identity(name: str, params: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    """The task name and parameters that enter a run's fingerprint (the
    given ones, except for a prefixed task that says otherwise)."""
    if isinstance(name, str):
        for prefix, target in TASK_IDENTITIES.items():
            if name.startswith(prefix):
                return _resolved(target)(name, params)
    return name, params


def make_task(name: str, **params: Any) -> Task:
    """Instantiate a registered task by name (``rasp:FILE`` registers itself).

    >>> make_task("parity").name
    'parity'
    """
    return TASKS.get(resolve_task_name(name))(**params)


def iter_batches(task: Task, length: int, n: int, rng: np.random.Generator, batch_size: int):
    """``n`` examples at ``length`` as batches of at most ``batch_size``, drawn
    in order from ``rng`` (the evaluator, the baselines and the Python API
    draw the same examples this way)."""
    remaining = n
    while remaining > 0:
        batch = task.sample(rng, min(batch_size, remaining), length)
        remaining -= len(batch)
        yield batch


def distinct_rows(rng: np.random.Generator, batch_size: int, length: int, alphabet: int) -> np.ndarray:
    """``batch_size`` rows of ``length`` distinct values in ``[0, alphabet)``."""
    keys = rng.random((batch_size, alphabet))
    # argpartition is O(alphabet); only the first `length` columns need ordering
    # to be a uniform random ordered subset.
    part = np.argpartition(keys, length - 1, axis=1)[:, :length] if length < alphabet else np.argsort(keys, axis=1)
    sub = np.take_along_axis(keys, part, axis=1)
    return np.take_along_axis(part, np.argsort(sub, axis=1), axis=1)
