"""``lengthgen info``: version, environment and where data is read from."""

from __future__ import annotations

import platform

from lengthgen import __version__
from lengthgen.data import ENV_VAR, describe
from lengthgen.tables import render_table


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="version, torch and device, and where benchmarks and programs are read from")
    p.set_defaults(func=cmd_info)


def cmd_info(args) -> int:
    import torch

    print(f"lengthgen {__version__} (Python {platform.python_version()}, torch {torch.__version__})")
    print(f"CUDA available: {torch.cuda.is_available()}")
    rows = describe()
    print(f"data folders, in resolution order (--include-path, then {ENV_VAR}, then checkout, then installed):")
    print(render_table(["what", "origin", "folder"], [list(r) for r in rows]) if rows else "  none found")
    return 0
