"""The package's layering, as docs/architecture.md states it: each folder
imports only what its row allows, so the doc and the code cannot drift."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "lengthgen"
ALWAYS = {"errors", "registry", "tables"}


def allowed_imports() -> dict[str, set[str] | None]:
    """Rows of the doc's table; None means 'everything' for that unit."""
    text = DOC.read_text()
    section = text[text.index("## What each folder may import") :]
    table: dict[str, set[str] | None] = {}
    order: list[str] = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        units = re.findall(r"`(\w+)`", cells[0])
        if cells[1] == "everything":
            allowed = None
        else:
            allowed = set(re.findall(r"`(\w+)`", cells[1]))
            if "everything above" in cells[1]:
                allowed |= set(order)
        for unit in units:
            table[unit] = allowed
        order += units
    return table


def imports_of(unit_path: Path) -> set[str]:
    files = [unit_path] if unit_path.is_file() else list(unit_path.rglob("*.py"))
    found = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lengthgen."):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("lengthgen.")}
    return found


def units() -> list[str]:
    return sorted(
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and not p.name.startswith("__")) or (p.is_dir() and (p / "__init__.py").exists())
    )


def test_every_unit_has_a_row():
    table = allowed_imports()
    missing = [u for u in units() if u not in table and u not in ALWAYS]
    assert not missing, f"docs/architecture.md has no import row for {missing}"


@pytest.mark.parametrize("unit", units())
def test_unit_imports_only_what_the_doc_allows(unit):
    allowed = allowed_imports().get(unit)
    if allowed is None:
        return
    path = PACKAGE / unit if (PACKAGE / unit).is_dir() else PACKAGE / f"{unit}.py"
    extra = imports_of(path) - allowed - ALWAYS - {unit}
    assert not extra, f"lengthgen.{unit} imports {sorted(extra)}, which docs/architecture.md does not allow"


def test_the_check_can_fail(tmp_path):
    bad = tmp_path / "tasks.py"
    bad.write_text("from lengthgen.sweeps.runner import run_sweep\n")
    assert imports_of(bad) - allowed_imports()["tasks"] - ALWAYS == {"sweeps"}
