"""``suites list`` and ``benchmarks list``: everything that runs by name, the
user's folders first."""

from pathlib import Path

from lengthgen import data
from lengthgen.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def rows(text: str) -> dict[str, list[str]]:
    out = {}
    for line in text.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        out[cells[0]] = cells
    return out


def test_suites_and_benchmarks_list_everything_by_name(capsys, tmp_path):
    assert main(["suites", "list"]) == 0
    listed = rows(capsys.readouterr().out)
    assert set(listed) >= {p.stem for p in (ROOT / "tasks" / "suites").glob("*.yaml")}
    assert listed["quick"][1] == "4"
    assert main(["benchmarks", "list"]) == 0
    listed = rows(capsys.readouterr().out)
    assert set(listed) >= {p.stem for p in (ROOT / "tasks").glob("*.yaml")}
    assert listed["count"][1] == "count" and listed["count"][4] == "exact"
    # a user's suite folder comes first, and shadows a shipped name
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "quick.yaml").write_text("name: quick\ndescription: mine\nbenchmarks: [count]\n")
    try:
        assert main(["--include-path", str(tmp_path), "suites", "list"]) == 0
        listed = rows(capsys.readouterr().out)
        assert listed["quick"][1] == "1" and listed["quick"][2] == "mine"
    finally:
        data.clear_include_paths()


def test_every_option_of_every_command_says_what_it_does():
    import argparse

    from lengthgen.cli.main import build_parser

    missing = []

    def walk(parser, prefix):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*prefix, name])
            elif action.option_strings and action.dest != "help" and not action.help:
                missing.append(f"{' '.join(prefix)} {action.option_strings[0]}")

    walk(build_parser(), ["lengthgen"])
    assert not missing, missing
