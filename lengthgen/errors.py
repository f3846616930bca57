"""User-facing errors.

Anything a user can get wrong (a name, a flag, a config file) raises
:class:`LengthgenError`; the CLI prints its message on one line and exits with
code 2 instead of showing a traceback.
"""

from __future__ import annotations

import numbers


class LengthgenError(Exception):
    """An error caused by user input, reported without a traceback."""


class Interrupted(KeyboardInterrupt):
    """A stop requested by a signal (SIGINT from Ctrl-C, SIGTERM from Slurm
    preemption, ``timeout`` or a container stop).  Work is checkpointed
    before it is raised; the exit code is 128 + the signal number."""

    def __init__(self, signum: int = 2):
        super().__init__(signum)
        self.signum = signum


def check_seed(value: object, what: str) -> int:
    """``value`` if it is a seed numpy and torch both take, else a one-line error.

    >>> check_seed(7, "seed")
    7
    >>> check_seed(-1, "seed")
    Traceback (most recent call last):
    ...
    lengthgen.errors.LengthgenError: seed must be an integer in 0..2^63-1, got -1
    """
    # bool is an int to Python, but `seed: true` in a YAML file is a mistake
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < 2**63:
        raise LengthgenError(f"{what} must be an integer in 0..2^63-1, got {value!r}")
    return int(value)
