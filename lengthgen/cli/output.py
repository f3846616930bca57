"""How a command hands over a table: to stdout or, atomically, to a file."""

from __future__ import annotations

from pathlib import Path


def emit(text: str, output: str | None) -> None:
    """Print, or write atomically to ``output`` (a half-written table is never left behind)."""
    if output:
        from lengthgen.results import write_text_atomic

        write_text_atomic(Path(output), text + "\n")
    else:
        print(text)
