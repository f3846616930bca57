"""Every command's --help renders: argparse expands `%` in help strings, so
an unescaped one (`x % 3`) crashes `--help` with a ValueError only when a
user asks for that command's help."""

import argparse

import pytest

from lengthgen.cli.main import build_parser


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


COMMANDS = list(_parsers(build_parser()))


def test_the_walk_reaches_nested_commands():
    paths = {path for path, _ in COMMANDS}
    assert ("rasp", "generate") in paths and ("bench",) in paths


@pytest.mark.parametrize("path, parser", COMMANDS, ids=[" ".join(p) or "lengthgen" for p, _ in COMMANDS])
def test_help_renders(path, parser):
    text = parser.format_help()
    assert text.startswith("usage:")
