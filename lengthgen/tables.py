"""Rendering tables in the formats every report command offers."""

from __future__ import annotations

import csv
import io

from tabulate import tabulate


def render_table(headers: list[str], rows: list[list], fmt: str = "github") -> str:
    """``fmt``: any tabulate format, ``latex`` (booktabs) or ``csv``.

    >>> print(render_table(["a", "b"], [[1, "x"]], "csv"))
    a,b
    1,x
    """
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return buf.getvalue().rstrip("\n")
    if fmt == "github":
        # a '|' or a line break inside a name would break the markdown table
        rows = [[str(c).replace("|", "\\|").replace("\n", " ").replace("\r", " ") for c in row] for row in rows]
    return tabulate(rows, headers=headers, tablefmt="latex_booktabs" if fmt == "latex" else fmt, disable_numparse=True)
