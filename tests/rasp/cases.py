"""The shared table of RASP test cases: (name, program, input, expected output).

One row per primitive and library helper, in the style of tracr's case
tables; the interpreter tests, the reference-evaluator tests and the docs
examples all read it.  Inputs are integer tokens (plus <sep>); outputs are
the program's value at every position.
"""

CASES = [
    # primitives
    ("tokens", "output = tokens;", "5 6 7", [5, 6, 7]),
    ("indices", "output = indices;", "5 6 7", [0, 1, 2]),
    ("full", "output = full(4);", "5 6 7", [4, 4, 4]),
    ("map", "output = map(tokens, lambda x: x * 2 + 1);", "1 2 3", [3, 5, 7]),
    ("map-ifexp", "output = map(tokens, lambda x: 0 if x < 2 else x);", "1 2 3", [0, 2, 3]),
    ("map-minmax", "output = map(tokens, lambda x: min(max(x, 2), 3));", "1 2 4", [2, 2, 3]),
    ("map-safe-division", "output = map(tokens, lambda x: 6 // x + 6 % x);", "0 4 3", [0, 3, 2]),
    ("seq_map", "output = seq_map(tokens, tokens - 1, lambda x, y: x * y);", "1 2 3", [0, 2, 6]),
    ("where", "output = where(tokens > 4, tokens, full(0));", "5 3 7", [5, 0, 7]),
    ("operators", "output = (tokens + 1) * 2 - tokens % 3;", "1 2 3", [3, 4, 8]),
    ("comparison", "output = (tokens == 2) | (tokens > 5);", "2 3 6", [1, 0, 1]),
    ("not", "output = !(tokens == 2);", "2 3", [0, 1]),
    ("select-aggregate-shift", "output = aggregate(select(indices, indices - 1, ==), tokens, 9);", "5 6 7", [9, 5, 6]),
    ("aggregate-mean", "output = aggregate(select(tokens, tokens, true), tokens);", "2 4 6", [2, 3, 4]),
    ("aggregate-max", "output = aggregate(select(tokens, tokens, <=), tokens, 0, max);", "3 1 5 2", [3, 1, 5, 2]),
    ("aggregate-default", "output = aggregate(select(tokens, tokens, false), tokens, 7);", "1 2", [7, 7]),
    ("causal", "output = aggregate(select(indices, full(2), ==), tokens, 0);", "5 6 7 8", [0, 0, 7, 7]),
    ("selector_width", "output = selector_width(select(tokens, tokens, ==));", "3 1 3 3", [1, 1, 2, 3]),
    (
        "selector-and",
        "output = selector_width(select(tokens, tokens, ==) & select(indices, indices, <));",
        "3 3 3",
        [0, 1, 2],
    ),
    (
        "selector-or",
        "output = selector_width(select(tokens, full(1), ==) | select(tokens, full(2), ==));",
        "1 2 3 1",
        [1, 2, 2, 3],
    ),
    ("selector-not", "output = selector_width(!select(tokens, tokens, ==));", "1 2 1", [0, 1, 1]),
    ("def", "def inc(x, k) { y = x + k; return y; }\noutput = inc(tokens, 2);", "1 5", [3, 7]),
    ("token-literal", 'output = tokens == "<sep>";', "1 <sep> 2", [0, 1, 0]),
    # library helpers (prelude)
    ("kqv", "output = kqv(indices, indices - 1, tokens, ==, 0);", "5 6 7", [0, 5, 6]),
    ("shift_by", "output = shift_by(2, tokens, 0);", "5 6 7 8", [0, 0, 5, 6]),
    ("shift_right", "output = shift_right(tokens, 1, 9);", "5 6", [9, 5]),
    ("cumsum", "output = cumsum(tokens == 1);", "1 0 1 1", [1, 1, 2, 3]),
    ("mask", "output = mask(tokens, tokens > 2, 0);", "1 3 5", [0, 3, 5]),
    ("maximum", "output = maximum(tokens);", "3 1 4 1", [3, 3, 4, 4]),
    ("minimum", "output = minimum(tokens);", "3 1 4 0", [3, 1, 1, 0]),
    ("argmax", "output = argmax(tokens);", "3 1 4 4", [0, 0, 2, 3]),
    ("argmin", "output = argmin(tokens);", "3 1 4 1", [0, 1, 1, 3]),
    ("num_prev", "output = num_prev(tokens);", "2 3 2 2", [1, 1, 2, 3]),
    ("has_seen", "output = has_seen(tokens, 7);", "1 7 2", [0, 1, 1]),
    ("firsts", "output = firsts(tokens);", "2 3 2 4", [1, 1, 0, 1]),
    ("index_select", "output = index_select(tokens, full(1), 0);", "5 6 7", [0, 6, 6]),
    ("first_true", "output = first_true(tokens == 7);", "1 7 2 7", [-1, 1, 1, 1]),
    ("induct", "output = induct(tokens, 0);", "5 8 5", [0, 0, 8]),
    ("induct_kqv", "output = induct_kqv(tokens, tokens, tokens, 1, 0);", "4 6 4", [0, 0, 6]),
    ("induct_prev", "output = induct_prev(tokens, 1, 0);", "4 7 9 7", [0, 0, 0, 4]),
    ("mode", "output = mode(tokens);", "2 3 3 2 2", [2, 3, 3, 3, 2]),
    ("binary_mode", "output = binary_mode(tokens);", "1 0 0 1", [1, 1, 0, 1]),
]

# library programs in rasp/ that are not tied to a task
GENERAL_CASES = [
    ("length", "5 5 7", [1, 2, 3]),
    ("histogram", "3 1 3 3", [1, 1, 2, 3]),
    ("frac_prevs", "0 1 0 0", [1, 0.5, 2 / 3, 0.75]),
    ("double_histogram", "1 2 1 3", [1, 2, 1, 3]),
]

# index lookups (the interpreter's gather path): out-of-range, future and
# fractional positions fall back to the default
CASES += [
    ("lookup-future", "output = aggregate(select(indices, indices + 1, ==), tokens, 9);", "5 6 7", [9, 9, 9]),
    ("lookup-negative", "output = aggregate(select(indices, tokens - 10, ==), tokens, 9);", "5 6 11", [9, 9, 6]),
    ("lookup-fraction", "output = aggregate(select(indices, tokens / 2, ==), tokens, 9);", "0 3 2", [0, 9, 3]),
    ("lookup-max", "output = aggregate(select(indices, indices - 2, ==), tokens, 0, max);", "4 5 6 7", [0, 0, 4, 5]),
]
