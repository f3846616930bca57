"""A straightforward per-example evaluator: plain Python loops, no numpy.

It exists to check the vectorised interpreter (tests compare the two on
random programs and inputs) and as the baseline of the interpreter
benchmark.  It follows the definitions directly: a selector is the list of
keys ``j <= i`` whose pair satisfies the predicate.
"""

from __future__ import annotations

import math

from lengthgen.rasp.graph import Node, reachable
from lengthgen.rasp.interpreter import overflow_error

COMPARE = {
    "==": lambda k, q: k == q,
    "!=": lambda k, q: k != q,
    "<": lambda k, q: k < q,
    "<=": lambda k, q: k <= q,
    ">": lambda k, q: k > q,
    ">=": lambda k, q: k >= q,
    "true": lambda k, q: True,
    "false": lambda k, q: False,
}


def _finite(node: Node, values: list[float]) -> list[float]:
    if not all(math.isfinite(x) for x in values):
        raise overflow_error(node)
    return values


def evaluate_one(output: Node, codes: list[float], causal: bool = True) -> list[float]:
    """Run the program under ``output`` on one sequence of token codes
    (``causal=False``: every query sees every key)."""
    n = len(codes)

    def visible(i: int) -> range:
        return range(i + 1) if causal else range(n)

    values: dict[int, list] = {}
    for node in reachable(output):
        a = [values[x.uid] for x in node.args]
        op = node.op
        if op == "tokens":
            v = [float(c) for c in codes]
        elif op == "indices":
            v = [float(i) for i in range(n)]
        elif op == "full":
            v = [float(node.attr("value"))] * n
        elif op == "map":
            fn = node.attr("fn")
            v = _finite(node, [fn.scalar(x) for x in a[0]])
        elif op == "seq_map":
            fn = node.attr("fn")
            v = _finite(node, [fn.scalar(x, y) for x, y in zip(a[0], a[1])])
        elif op == "where":
            v = [x if c != 0 else y for c, x, y in zip(*a)]
        elif op == "select":
            pred = COMPARE[node.attr("pred")]
            keys, queries = a
            v = [[j for j in visible(i) if pred(keys[j], queries[i])] for i in range(n)]
        elif op == "sel_and":
            v = [[j for j in s if j in set(t)] for s, t in zip(a[0], a[1])]
        elif op == "sel_or":
            v = [sorted(set(s) | set(t)) for s, t in zip(a[0], a[1])]
        elif op == "sel_not":
            v = [[j for j in visible(i) if j not in set(s)] for i, s in enumerate(a[0])]
        elif op == "selector_width":
            v = [float(len(s)) for s in a[0]]
        elif op == "aggregate":
            sel, vals = a
            default = node.attr("default")
            v = []
            for keys in sel:
                if not keys:
                    v.append(float(default))
                elif node.attr("reduction") == "max":
                    v.append(max(vals[j] for j in keys))
                elif node.attr("reduction") == "min":
                    v.append(min(vals[j] for j in keys))
                else:
                    v.append(sum(vals[j] for j in keys) / len(keys))
        else:
            raise ValueError(f"unknown op {op}")
        values[node.uid] = v
    return values[output.uid]
