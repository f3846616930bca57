"""A shareable report: one self-contained static HTML page.

``lengthgen report FOLDER --html OUT.html`` writes the leaderboard, the
accuracy-against-length figures (inline, as data URIs), the verdicts of
``rank`` and ``conjecture`` where they apply, and the provenance of every
cell (configuration, versions of the definitions, where each setting came
from, environment).  No server, no network, no file beside it: the page can
be mailed or attached to a paper's supplement as it is.
"""

from __future__ import annotations

import base64
import html
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lengthgen import __version__
from lengthgen.errors import LengthgenError
from lengthgen.reporting.leaderboard import HEADERS, aggregate, best_seed_table, legend, table_rows
from lengthgen.reporting.loading import benchmark_of
from lengthgen.tables import render_table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
th { background: #f3f3f3; } td:nth-child(-n+3) { text-align: left; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
figure { display: inline-block; margin: 0.5em; } figure img { max-width: 560px; }
.legend { font-size: 0.8em; color: #555; max-width: 100%; }
details { margin: 0.2em 0; } summary { cursor: pointer; }
"""


def _section(title: str, body: str, anchor: str) -> str:
    return f'<h2 id="{anchor}">{html.escape(title)}</h2>\n{body}\n'


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def _figures(results: list[dict[str, Any]]) -> str:
    try:
        from lengthgen.reporting.plots import plot_results

        with tempfile.TemporaryDirectory() as tmp:
            paths = plot_results(results, tmp, None, ("png",))
            # the all-benchmarks figure first, then one per benchmark
            paths.sort(key=lambda p: (p.stem != "all", p.stem))
            figures = []
            for path in paths:
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                name = html.escape(path.stem)
                figures.append(
                    f'<figure><img alt="accuracy against length: {name}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{name}</figcaption></figure>"
                )
    except LengthgenError as exc:  # matplotlib missing: the page says so instead of failing
        return f"<p>{html.escape(str(exc))}</p>"
    return "\n".join(figures) or "<p>no figures</p>"


def _verdicts(results: list[dict[str, Any]]) -> str:
    from lengthgen.reporting.conjecture import conjecture_report, render_conjecture, select_runs
    from lengthgen.reporting.leaderboard import program_lengths
    from lengthgen.reporting.ranking import rank_configurations, render_ranking
    from lengthgen.reporting.runs import summarize_runs

    parts = []
    configurations = {(r["config"].get("model"), (r["config"].get("model_options") or {}).get("pe")) for r in results}
    benchmarks = {benchmark_of(r) for r in results}
    if len(configurations) >= 2 and len(benchmarks) >= 2:
        try:
            ranking = render_ranking(rank_configurations(summarize_runs(results, "exact"), 1000), "github")
            parts.append("<h3>rank (exact match)</h3>" + _pre(ranking))
        except LengthgenError as exc:
            parts.append(f"<p>rank: {html.escape(str(exc))}</p>")
    else:
        parts.append("<p>rank: needs at least two configurations on at least two benchmarks.</p>")
    programs = program_lengths()
    sides = {programs.get(b, (None, None))[0] is not None for b in benchmarks if b in programs}
    if sides == {True, False}:
        for model in sorted({r["config"]["model"] for r in results}):
            try:
                report = conjecture_report(select_runs(results, model, None, None), programs, 10_000, 1000)
                text = render_conjecture(report, model, "declared")
                parts.append(f"<h3>conjecture, {html.escape(model)} (RASP-L program vs length generalization)</h3>")
                parts.append(_pre(text))
            except LengthgenError as exc:
                parts.append(f"<p>conjecture, {html.escape(model)}: {html.escape(str(exc))}</p>")
    else:
        parts.append("<p>conjecture: needs benchmarks with and without a RASP-L program.</p>")
    return "\n".join(parts)


def _provenance(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in sorted(results, key=lambda r: (benchmark_of(r), r["config"].get("model", ""), r.get("seed", 0))):
        cfg, env = r["config"], r.get("environment") or {}
        training = r.get("training") or {}
        fitted = (r.get("fit") or {}).get("fitted")
        title = (
            f"{benchmark_of(r)} / {cfg.get('model')} / {(cfg.get('model_options') or {}).get('pe', '-')} / "
            f"seed {r.get('seed')}: {training.get('steps')} of {training.get('max_steps')} steps, "
            f"{'fitted' if fitted else 'not fitted'}"
        )
        detail = {
            "name": r.get("name"),
            "file": r.get("_path"),
            "fingerprint": r.get("fingerprint"),
            "created": r.get("created"),
            "config": cfg,
            "definitions": r.get("definitions"),
            "settings from": r.get("provenance"),
            "environment": env,
        }
        body = "\n".join(f"{k}: {v}" for k, v in detail.items() if v not in (None, {}, []))
        rows.append(f"<details><summary>{html.escape(title)}</summary>{_pre(body)}</details>")
    return "\n".join(rows)


def html_report(folder: str | Path, results: list[dict[str, Any]]) -> str:
    """The page for ``results`` (loaded from ``folder``)."""
    if not results:
        raise LengthgenError(f"{folder}: no result files to report")
    entries = aggregate(results)
    leaderboard = render_table(HEADERS, table_rows(entries), "html")
    best = best_seed_table(entries, "html")
    benchmarks = sorted({benchmark_of(r) for r in results})
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    title = f"lengthgen report: {Path(folder).name or folder}"
    head = (
        f"<h1>{html.escape(title)}</h1>\n<p>{len(results)} result files, {len(benchmarks)} benchmarks, "
        f"{len(entries)} benchmark x configuration entries; written {when} by lengthgen {html.escape(__version__)} "
        f"from <code>{html.escape(str(folder))}</code>.</p>"
    )
    body = "\n".join(
        [
            head,
            _section(
                "Leaderboard",
                f'<p class="legend">{html.escape(legend())}</p>\n{leaderboard}\n<h3>best fitted seed</h3>\n{best}',
                "leaderboard",
            ),
            _section("Accuracy against length", _figures(results), "figures"),
            _section("Verdicts", _verdicts(results), "verdicts"),
            _section("Provenance of every cell", _provenance(results), "provenance"),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
