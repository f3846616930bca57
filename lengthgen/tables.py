"""Rendering tables in the formats every report command offers."""

from __future__ import annotations

import csv
import io
import re

from tabulate import tabulate

# control characters (ANSI escapes among them) from names stored in result files never reach a terminal
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# the start of an HTML tag in a name is shown, not interpreted, by markdown viewers ("< 1.00" stays as it is)
_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def _clean(cell):
    return _CONTROL.sub("?", cell) if isinstance(cell, str) else cell


def render_table(headers: list[str], rows: list[list], fmt: str = "github") -> str:
    """``fmt``: any tabulate format, ``latex`` (booktabs) or ``csv``.

    >>> print(render_table(["a", "b"], [[1, "x"]], "csv"))
    a,b
    1,x
    >>> print(render_table(["name"], [["<b>bold</b>\x1b[31m"]]).splitlines()[-1])
    | &lt;b>bold&lt;/b>?[31m |
    """
    rows = [[_clean(c) for c in row] for row in rows]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return buf.getvalue().rstrip("\n")
    if fmt == "github":
        # a '|' or a line break inside a name would break the markdown table
        rows = [
            [_TAG.sub("&lt;", str(c).replace("|", "\\|").replace("\n", " ").replace("\r", " ")) for c in row]
            for row in rows
        ]
    return tabulate(rows, headers=headers, tablefmt="latex_booktabs" if fmt == "latex" else fmt, disable_numparse=True)
