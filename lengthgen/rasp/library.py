"""The program library in ``rasp/``: which programs exist, for which
benchmarks, and which benchmarks are believed to have none."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from lengthgen.config import load_yaml
from lengthgen.data import rasp_dirs
from lengthgen.errors import LengthgenError
from lengthgen.rasp.compiler import header_of


def library_dir() -> Path:
    """The first program folder of the data resolver (user folders, then the
    checkout, then the installed copy)."""
    dirs = rasp_dirs()
    if not dirs:
        raise LengthgenError("no RASP-L program library found (add one with --include-path or LENGTHGEN_PATH)")
    return dirs[0]


def _folders(folder: Path | None) -> list[Path]:
    return [Path(folder)] if folder is not None else rasp_dirs()


@dataclass(frozen=True)
class ProgramEntry:
    name: str  # the benchmark it solves (file stem), or the general program's name
    path: Path
    task: str | None  # None for general programs
    params: str  # the raw "# params:" header


def programs(folder: Path | None = None) -> list[ProgramEntry]:
    """Every program of the library; a program in an earlier folder hides
    one of the same name in a later folder (a user's version wins)."""
    entries: dict[str, ProgramEntry] = {}
    for directory in _folders(folder):
        for path in sorted(directory.glob("*.rasp")):
            if path.stem in entries:
                continue
            header = header_of(path.read_text(encoding="utf-8", errors="replace"))
            task = header.get("task")
            entries[path.stem] = ProgramEntry(path.stem, path, task or None, header.get("params", ""))
    return [entries[k] for k in sorted(entries)]


def task_programs(folder: Path | None = None) -> list[ProgramEntry]:
    return [e for e in programs(folder) if e.task]


def no_program(folder: Path | None = None) -> dict[str, str]:
    """Benchmarks listed as having no program, merged over the library's
    folders (an earlier folder's entry wins)."""
    merged: dict[str, str] = {}
    for directory in reversed(_folders(folder)):
        merged.update(_manifest(directory / "MANIFEST.yaml"))
    return merged


def _manifest(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    entries = load_yaml(path).get("no_program") or {}
    if not isinstance(entries, dict):
        raise LengthgenError(f"{path}: 'no_program' must map benchmark names to reasons")
    return {str(k): " ".join(str(v).split()) for k, v in entries.items()}


def programs_by_task(folder: Path | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in task_programs(folder):
        out.setdefault(entry.task, []).append(entry.name)
    return out


def manifest_conflicts(folder: Path | None = None) -> list[str]:
    """Benchmarks that have a program file (or a program found by `rasp
    search`) and are also listed under ``no_program``: one of the two is
    wrong, and a conjecture test would count the benchmark on the wrong side."""
    listed = no_program(folder)
    have = {e.name for e in task_programs(folder)}
    have |= {name for name, record in searched(folder).items() if record.get("found")}
    return sorted(name for name in have if name in listed)


def conflict_warnings(folder: Path | None = None) -> list[str]:
    return [
        f"WARNING: a program for {name!r} exists (rasp/{name}.rasp or rasp/SEARCH.yaml) but MANIFEST.yaml lists it "
        "under no_program; it is counted as having a program: check the program with `lengthgen rasp check`, "
        "then remove one of the two"
        for name in manifest_conflicts(folder)
    ]


SEARCH_FILE = "SEARCH.yaml"


def _search_results(path: Path) -> dict[str, dict]:
    data = load_yaml(path)
    # recognised by content: a copy of MANIFEST.yaml or a run config also maps names to mappings
    if not all(isinstance(v, dict) and "found" in v for v in data.values()):
        raise LengthgenError(
            f"{path}: not a search-results file (each benchmark must map to a search result with 'found'); "
            "lengthgen writes only into its own files"
        )
    return {str(k): v for k, v in data.items()}


def searched(folder: Path | None = None) -> dict[str, dict]:
    """Results of `lengthgen rasp search` committed next to the programs
    (``SEARCH.yaml``: benchmark -> found, length, program, lower_bound, ...);
    an earlier folder's entry wins."""
    merged: dict[str, dict] = {}
    for directory in reversed(_folders(folder)):
        if (directory / SEARCH_FILE).exists():
            merged.update(_search_results(directory / SEARCH_FILE))
    return merged


def check_search_file(path: str | Path) -> None:
    """Before a long search: the file given to --save is a results file (or
    absent) in a folder that can be written."""
    path = Path(path)
    if path.exists():
        _search_results(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise LengthgenError(f"--save {path}: cannot write into {folder}")


def save_search(path: str | Path, benchmark: str, record: dict) -> None:
    """Add or replace one benchmark's search result in a YAML file (written
    atomically; a file that is not a search-results file is left alone)."""
    from lengthgen.results import write_text_atomic

    path = Path(path)
    data = _search_results(path) if path.exists() else {}
    data[benchmark] = record
    header = "# Results of `lengthgen rasp search BENCHMARK --save rasp/SEARCH.yaml` (see rasp/README.md).\n"
    try:
        write_text_atomic(path, header + yaml.safe_dump(dict(sorted(data.items())), sort_keys=False, width=100))
    except OSError as exc:
        raise LengthgenError(f"--save {path}: cannot write ({exc.strerror or exc})") from None
