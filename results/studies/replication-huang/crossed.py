"""H-R17's rule (README.md, Amendment 23): does the training stream or the
initialisation pick the solution a 1-head seed finds?

    python results/studies/replication-huang/crossed.py CROSSED_FOLDER_OR_FILE ... --reference H-R4_FOLDER

Each crossed cell trains the initialisation of one reference seed (its
``seed``) on the training stream of another (its ``data_seed``).  A run's
outcome is *early* when its bin A (mean exact match over the test lengths
in (L, 2L]) is at least 50%, *late* when it is below 10%, none between.
The reference folder (H-R4's cells) gives each seed's own outcome.  A
crossed cell *follows the stream* when its outcome is its stream seed's,
*follows the initialisation* when it is its init seed's, neither when it
has no outcome (the design crosses only seeds of different outcomes).
The registered decision over the 8 cells: the stream picks if at least 7
follow the stream, the initialisation picks if at least 7 follow the
initialisation, neither alone otherwise; with fewer than 8 cells in, it
says which readings are already out of reach.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

CELLS, NEEDED = 8, 7
EARLY_BIN_A, LATE_BIN_A = 50.0, 10.0


def _plateau_exit():
    # the sibling script's bin A and exit step, so both rules read a run alike
    path = Path(__file__).with_name("plateau_exit.py")
    spec = importlib.util.spec_from_file_location("plateau_exit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLATEAU = _plateau_exit()


def outcome(bin_a_pct: float) -> str | None:
    """``early`` (copies beyond L), ``late`` (copies nothing beyond L) or None.

    >>> outcome(79.3), outcome(0.0), outcome(30.0)
    ('early', 'late', None)
    """
    if bin_a_pct >= EARLY_BIN_A:
        return "early"
    if bin_a_pct < LATE_BIN_A:
        return "late"
    return None


def reference_outcomes(paths: list[str]) -> dict[int, str | None]:
    """Each reference seed's own outcome (its stream is its seed's)."""
    out = {}
    for f in PLATEAU.result_files(paths):
        result = PLATEAU.load_result(f)
        if result["config"]["train"].get("data_seed", result["config"]["seed"]) != result["config"]["seed"]:
            raise SystemExit(f"{f}: a crossed cell, not a reference seed")
        out[result["config"]["seed"]] = outcome(PLATEAU.bin_a(result))
    return out


def read(paths: list[str], reference: dict[int, str | None]) -> list[dict]:
    rows = []
    for f in PLATEAU.result_files(paths):
        result = PLATEAU.load_result(f)
        init = result["config"]["seed"]
        stream = result["config"]["train"].get("data_seed", init)
        for seed in (init, stream):
            if seed not in reference:
                raise SystemExit(f"{f}: seed {seed} has no reference run")
        if reference[init] is None or reference[stream] is None or reference[init] == reference[stream]:
            raise SystemExit(
                f"{f}: init seed {init} ({reference[init]}) and stream seed {stream} ({reference[stream]}) "
                "are not a crossing of the two outcomes"
            )
        a = PLATEAU.bin_a(result)
        got = outcome(a)
        follows = "stream" if got == reference[stream] else "init" if got == reference[init] else None
        rows.append(
            {
                "init": init,
                "stream": stream,
                "step": PLATEAU.exit_step(result),
                "fitted": bool(result["fit"]["fitted"]),
                "bin_a": a,
                "outcome": got,
                "follows": follows,
            }
        )
    return sorted(rows, key=lambda r: (r["init"], r["stream"]))


def decision(rows: list[dict]) -> str:
    """The registered reading (Amendment 23).

    >>> decision([{"follows": "stream"}] * 7 + [{"follows": None}])
    'the stream picks'
    >>> decision([{"follows": "stream"}] * 6 + [{"follows": "init"}] * 2)
    'neither alone'
    >>> decision([{"follows": "stream"}] * 4 + [{"follows": None}])
    '5 of 8 cells in: the stream can still pick; the initialisation cannot'
    """
    counts = {side: sum(r["follows"] == side for r in rows) for side in ("stream", "init")}
    if len(rows) > CELLS:
        raise SystemExit(f"{len(rows)} cells given; the design has {CELLS}")
    if len(rows) == CELLS:
        if counts["stream"] >= NEEDED:
            return "the stream picks"
        if counts["init"] >= NEEDED:
            return "the initialisation picks"
        return "neither alone"
    left = CELLS - len(rows)
    names = {"stream": "the stream", "init": "the initialisation"}
    said = [f"{names[s]} {'can still pick' if counts[s] + left >= NEEDED else 'cannot'}" for s in names]
    return f"{len(rows)} of {CELLS} cells in: {'; '.join(said)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="folders or result files of the crossed cells")
    parser.add_argument("--reference", nargs="+", required=True, help="folders or files of the reference seeds (H-R4)")
    args = parser.parse_args(argv)
    reference = reference_outcomes(args.reference)
    rows = read(args.paths, reference)
    print(
        "| init seed (own outcome) | stream seed (own outcome) | loss < 1 at step | fitted | bin A | outcome | follows |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        step = "never" if r["step"] is None else f"{r['step']:,}"
        print(
            f"| {r['init']} ({reference[r['init']]}) | {r['stream']} ({reference[r['stream']]}) | {step} | "
            f"{r['fitted']} | {r['bin_a']:.1f} | {r['outcome'] or '-'} | {r['follows'] or 'neither'} |"
        )
    print(f"\nH-R17 over these {len(rows)} cells: {decision(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
