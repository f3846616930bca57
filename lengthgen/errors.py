"""User-facing errors.

Anything a user can get wrong (a name, a flag, a config file) raises
:class:`LengthgenError`; the CLI prints its message on one line and exits with
code 2 instead of showing a traceback.
"""

from __future__ import annotations


class LengthgenError(Exception):
    """An error caused by user input, reported without a traceback."""


class Interrupted(KeyboardInterrupt):
    """A stop requested by a signal (SIGINT from Ctrl-C, SIGTERM from Slurm
    preemption, ``timeout`` or a container stop).  Work is checkpointed
    before it is raised; the exit code is 128 + the signal number."""

    def __init__(self, signum: int = 2):
        super().__init__(signum)
        self.signum = signum
