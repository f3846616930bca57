"""User-facing errors.

Anything a user can get wrong (a name, a flag, a config file) raises
:class:`LengthgenError`; the CLI prints its message on one line and exits with
code 2 instead of showing a traceback.
"""

from __future__ import annotations


class LengthgenError(Exception):
    """An error caused by user input, reported without a traceback."""
