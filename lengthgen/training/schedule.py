"""Learning-rate schedules: linear warmup, then a decay to a floor (cosine,
lengthgen's default, or linear, as Hugging Face's Trainer decays by default)."""

from __future__ import annotations

import math


def _progress(step: int, warmup: int, total: int) -> float:
    span = max(1, total - warmup)
    return min(1.0, (step - warmup) / span)


def warmup_cosine(step: int, warmup: int, total: int, min_ratio: float = 0.1) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based).

    >>> [round(warmup_cosine(s, 2, 10), 2) for s in (0, 1, 2, 6, 10)]
    [0.5, 1.0, 1.0, 0.55, 0.1]
    """
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * _progress(step, warmup, total)))


def warmup_linear(step: int, warmup: int, total: int, min_ratio: float = 0.1) -> float:
    """Multiplier of the base learning rate at ``step``: the same warmup,
    then a straight line to ``min_ratio`` at ``total`` (with ``min_ratio``
    0 and no warmup, ``(total - step) / total``, Hugging Face's
    ``get_linear_schedule_with_warmup``).  It keeps more of the rate late in
    training than the cosine: at three quarters 0.25 against 0.15.

    >>> [round(warmup_linear(s, 0, 100, 0.0), 2) for s in (0, 50, 75, 100)]
    [1.0, 0.5, 0.25, 0.0]
    >>> [round(warmup_cosine(s, 0, 100, 0.0), 2) for s in (0, 50, 75, 100)]
    [1.0, 0.5, 0.15, 0.0]
    """
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    return min_ratio + (1.0 - min_ratio) * (1.0 - _progress(step, warmup, total))


_DECAYS = {"cosine": warmup_cosine, "linear": warmup_linear}
SCHEDULES = tuple(_DECAYS)


def lr_multiplier(schedule: str, step: int, warmup: int, total: int, min_ratio: float = 0.1) -> float:
    """The multiplier of ``schedule`` (one of :data:`SCHEDULES`) at ``step``."""
    return _DECAYS[schedule](step, warmup, total, min_ratio)
