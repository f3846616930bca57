"""How a command hands over a table: to stdout or, atomically, to a file."""

from __future__ import annotations

from pathlib import Path

from lengthgen.training.tracking import TRACKERS


def add_log_option(parser, where: str) -> None:
    """``--log``, the same for every command that trains (``where``: what gets the curve)."""
    parser.add_argument(
        "--log",
        choices=TRACKERS,
        help=f"{where}'s training curve as it happens: csv (a .curve.csv beside the result; no extra), "
        "tensorboard or wandb (their packages installed)",
    )


def emit(text: str, output: str | None) -> None:
    """Print, or write atomically to ``output`` (a half-written table is never left behind)."""
    if output:
        from lengthgen.results import write_text_atomic

        write_text_atomic(Path(output), text + "\n")
    else:
        print(text)
