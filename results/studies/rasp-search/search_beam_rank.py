"""Where a needed intermediate ranks in the search's beam (issue: RASP search).

    python results/studies/rasp-search/search_beam_rank.py mode --length 4 \\
        --expr "aggregate(select(tokens, tokens, true), selector_width(select(tokens, tokens, ==)), 0, max)"

Grows every attention output up to ``--length`` with no beam (exhaustive,
so slow: about 340 s for mode at length 4 on 2 shared cores), then ranks the
outputs of that length as the beam does (conditional entropy of the target
given tokens and the output, lower first) and prints the rank of ``--expr``
among all of them and among those of its kind.  mode's library program
needs its running maximum of counts (the expression above) to survive the
beam at length 4; a rank far beyond the beam width (default 2,000) is why
`lengthgen rasp search mode` does not find it.
"""

from __future__ import annotations

import argparse
import collections
import time

from lengthgen.data import find_benchmark
from lengthgen.rasp.candidates import clock
from lengthgen.rasp.search import Searcher
from lengthgen.suites import load_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark")
    parser.add_argument("--length", type=int, default=4, help="normal-form length of the outputs ranked")
    parser.add_argument("--expr", required=True, help="the attention output to look for, as the search writes it")
    parser.add_argument("--time-limit", type=float, default=1800)
    args = parser.parse_args()

    task = load_benchmark(find_benchmark(args.benchmark)).make_task()
    top = min(10, task.max_length() or 10)
    searcher = Searcher(task, args.length, list(range(task.min_length, top + 1)), per_length=24, seed=0)
    searcher.beam = 10**9  # keep everything: the ranking below is the beam's, applied after the fact
    start = time.monotonic()
    searcher.run(clock() + args.time_limit)
    outputs = [o for o in searcher.outputs if o.cost == args.length]
    print(
        f"{args.benchmark}: {len(outputs):,} attention outputs of length {args.length} ({time.monotonic() - start:.0f} s)"
    )
    print("by kind:", dict(collections.Counter(o.kind for o in outputs)))
    ranked = sorted(outputs, key=lambda o: (searcher.information(o), o.cost))
    found = [i for i, o in enumerate(ranked) if o.expr == args.expr]
    if not found:
        print(f"not among them: {args.expr}")
        return
    target = ranked[found[0]]
    same_kind = [o for o in ranked if o.kind == target.kind]
    kind_rank = next(i for i, o in enumerate(same_kind) if o.expr == args.expr)
    print(
        f"rank {found[0] + 1:,} of {len(ranked):,} overall, {kind_rank + 1:,} of {len(same_kind):,} "
        f"among {target.kind} outputs (conditional entropy {searcher.information(target):.3f} nats)"
    )


if __name__ == "__main__":
    main()
