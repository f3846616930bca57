"""The authoring view: every intermediate sequence and selector as a table."""

from __future__ import annotations

import numpy as np
from tabulate import tabulate

from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import CompiledProgram
from lengthgen.rasp.graph import Node, reachable
from lengthgen.rasp.interpreter import Interpreter


def fmt(value: float) -> str:
    if np.isinf(value):
        return "-inf" if value < 0 else "inf"
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def fmt_token(value: float, codes: TokenCodes) -> str:
    token = codes.token(value)
    return token if not token.startswith("?") else fmt(value)


def run_values(program: CompiledProgram, codes_row: np.ndarray, output: Node | None = None) -> dict[int, np.ndarray]:
    interpreter = Interpreter(output or program.output, causal=program.causal)
    return interpreter._evaluate(codes_row[None, :], everything=True)


def trace_table(program: CompiledProgram, tokens: list[str], output: Node | None = None, selectors: bool = True) -> str:
    """Sequences as rows over the input positions; each selector as a
    query x key grid (``1`` = selected) under its name."""
    codes = program.codes
    row = codes.encode(tokens)
    target = output or program.output
    values = run_values(program, row, target)
    header = ["", *tokens]
    seq_rows, sel_blocks = [], []
    for node in reachable(target):
        value = values[node.uid][0]
        if node.op == "tokens":
            continue
        if node.is_selector:
            if selectors:
                grid = [
                    [f"q{i} {tokens[i]}"] + ["1" if value[j, i] else "." for j in range(len(tokens))]
                    for i in range(len(tokens))
                ]
                sel_blocks.append(
                    f"{node.name} = {node.describe()}\n" + tabulate(grid, headers=header, tablefmt="plain")
                )
            continue
        shown = [fmt_token(v, codes) if node is target else fmt(v) for v in value]
        seq_rows.append([node.name, *shown])
    text = tabulate(seq_rows, headers=header, tablefmt="github", disable_numparse=True)
    if sel_blocks:
        text += "\n\nselectors (rows: queries, columns: keys)\n\n" + "\n\n".join(sel_blocks)
    return text
