"""Length buckets: a mixed-length batch run as a few groups of similar
length, each padded only to its own longest row.

The examples, their order within the step and the loss are the padded
batch's; what changes is how much compute goes to padding.  Split points
minimise the padded area (rows x longest row, summed over groups) by
dynamic programming over the rows sorted by length.
"""

from __future__ import annotations

import numpy as np


def length_groups(row_tokens: np.ndarray, buckets: int) -> list[tuple[np.ndarray, int]]:
    """At most ``buckets`` groups of row indices, each with the width it needs.

    >>> [(rows.tolist(), width) for rows, width in length_groups(np.array([3, 9, 4, 10, 2]), 2)]
    [([4, 0, 2], 4), ([1, 3], 10)]
    """
    lengths = np.asarray(row_tokens, dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    ordered = lengths[order]
    n = len(ordered)
    k = max(1, min(buckets, n))
    # best[j][i]: least area covering the first i sorted rows with j groups
    inf = np.iinfo(np.int64).max // 4
    best = np.full((k + 1, n + 1), inf, dtype=np.int64)
    cut = np.zeros((k + 1, n + 1), dtype=np.int64)
    best[0, 0] = 0
    for j in range(1, k + 1):
        for i in range(1, n + 1):
            # the last group holds sorted rows s..i-1 and is as wide as row i-1
            starts = np.arange(0, i)
            costs = best[j - 1, starts] + (i - starts) * ordered[i - 1]
            s = int(np.argmin(costs))
            best[j, i], cut[j, i] = costs[s], s
    j = int(np.argmin(best[1:, n])) + 1  # fewer groups when more do not save area
    groups = []
    i = n
    while j > 0 and i > 0:
        s = int(cut[j, i])
        groups.append((order[s:i], int(ordered[i - 1])))
        i, j = s, j - 1
    return groups[::-1]
