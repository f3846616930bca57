"""The program library in ``rasp/``: which programs exist, for which
benchmarks, and which benchmarks are believed to have none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from lengthgen.errors import LengthgenError
from lengthgen.rasp.compiler import header_of

# A source checkout keeps the library beside the package.
LIBRARY_DIR = Path(__file__).resolve().parents[2] / "rasp"


@dataclass(frozen=True)
class ProgramEntry:
    name: str  # the benchmark it solves (file stem), or the general program's name
    path: Path
    task: str | None  # None for general programs
    params: str  # the raw "# params:" header


def programs(folder: Path = LIBRARY_DIR) -> list[ProgramEntry]:
    entries = []
    for path in sorted(folder.glob("*.rasp")):
        header = header_of(path.read_text(encoding="utf-8", errors="replace"))
        task = header.get("task")
        entries.append(ProgramEntry(path.stem, path, task or None, header.get("params", "")))
    return entries


def task_programs(folder: Path = LIBRARY_DIR) -> list[ProgramEntry]:
    return [e for e in programs(folder) if e.task]


def no_program(folder: Path = LIBRARY_DIR) -> dict[str, str]:
    path = folder / "MANIFEST.yaml"
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise LengthgenError(f"{path}: invalid YAML ({exc})") from None
    entries = data.get("no_program") or {}
    if not isinstance(entries, dict):
        raise LengthgenError(f"{path}: 'no_program' must map benchmark names to reasons")
    return {str(k): " ".join(str(v).split()) for k, v in entries.items()}


def programs_by_task(folder: Path = LIBRARY_DIR) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in task_programs(folder):
        out.setdefault(entry.task, []).append(entry.name)
    return out
