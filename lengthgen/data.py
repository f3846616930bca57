"""Where benchmark definitions, suites and RASP-L programs are read from.

One resolver, in this order:

1. folders the user names: ``--include-path DIR`` (repeatable), then the
   ``LENGTHGEN_PATH`` environment variable (folders separated by ``:``);
   each may hold ``tasks/`` and ``rasp/`` folders or the files themselves;
2. the source checkout, when the package runs from one (``tasks/`` and
   ``rasp/`` beside the package);
3. the copy installed with the package (``lengthgen/_data``).

An explicit file path (``--benchmark my/bench.yaml``) is always used as is.
Results and checkpoints never go here: they go to the current folder or
``--out``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lengthgen.errors import LengthgenError
from lengthgen.registry import close_matches_hint

ENV_VAR = "LENGTHGEN_PATH"
PACKAGE_DIR = Path(__file__).resolve().parent
_include: list[Path] = []


def add_include_path(path: str | Path) -> None:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise LengthgenError(f"--include-path {path}: no such folder")
    if not contributes(folder):
        raise LengthgenError(
            f"--include-path {path}: nothing there lengthgen reads (benchmark YAML in {path}/tasks/ or {path}/, "
            f"suites in {path}/tasks/suites/ or {path}/suites/, RASP programs in {path}/rasp/ or {path}/)"
        )
    if folder.resolve() not in [p.resolve() for p in _include]:
        _include.append(folder)


def _in_root(root: Path, candidates: tuple[Path, ...], pattern: str) -> Path | None:
    return next((c for c in candidates if c.is_dir() and any(c.glob(pattern))), None)


def _benchmarks_in(root: Path) -> Path | None:
    return _in_root(root, (root / "tasks", root), "*.yaml")


def _suites_in(root: Path) -> Path | None:
    # a folder of suites alone is enough: its benchmarks may come from elsewhere
    return _in_root(root, (root / "tasks" / "suites", root / "suites"), "*.yaml")


def _programs_in(root: Path) -> Path | None:
    return _in_root(root, (root / "rasp", root), "*.rasp")


def contributes(root: Path) -> bool:
    """Whether a data folder holds anything lengthgen reads."""
    return any(f(root) is not None for f in (_benchmarks_in, _suites_in, _programs_in))


def clear_include_paths() -> None:
    _include.clear()


def checkout_root() -> Path | None:
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "tasks").is_dir():
        return root
    return None


def bundled_root() -> Path | None:
    root = PACKAGE_DIR / "_data"
    return root if root.is_dir() else None


def roots() -> list[tuple[str, Path]]:
    """(origin, folder) in resolution order."""
    out = [("--include-path", p) for p in _include]
    for part in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if part.strip():
            out.append((ENV_VAR, Path(part.strip()).expanduser()))
    if (root := checkout_root()) is not None:
        out.append(("checkout", root))
    if (root := bundled_root()) is not None:
        out.append(("installed", root))
    return out


def _dirs(find) -> list[Path]:
    found = []
    for _, root in roots():
        folder = find(root)
        if folder is not None and folder not in found:
            found.append(folder)
    return found


def benchmark_dirs() -> list[Path]:
    return _dirs(_benchmarks_in)


def suite_dirs() -> list[Path]:
    return _dirs(_suites_in)


def rasp_dirs() -> list[Path]:
    return _dirs(_programs_in)


def _find(name: str, dirs: list[Path], what: str, flag: str) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise LengthgenError(f"{name}: file not found")
        return path
    for folder in dirs:
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            _notice_shadowing(name, candidate, dirs, what)
            return candidate
    known = sorted({p.stem for d in dirs for p in d.glob("*.yaml")})
    where = ", ".join(str(d) for d in dirs) or "nowhere (no data folder found)"
    raise LengthgenError(
        f"unknown {what} {name!r}{close_matches_hint(name, known)}; looked in {where} "
        f"(give a file path, or add folders with {flag} or {ENV_VAR})"
    )


_noticed: set[tuple[str, str]] = set()


def _notice_shadowing(name: str, chosen: Path, dirs: list[Path], what: str) -> None:
    """A user's folder may replace a shipped benchmark or suite of the same
    name (that is its purpose), but never silently: a suite named like a
    shipped one also writes into the same results folder."""
    shipped = {str(root) for origin, root in roots() if origin in ("checkout", "installed")}
    hidden = [d / f"{name}.yaml" for d in dirs if (d / f"{name}.yaml").is_file() and d / f"{name}.yaml" != chosen]
    hidden = [h for h in hidden if any(str(h).startswith(s) for s in shipped)]
    if hidden and not any(str(chosen).startswith(s) for s in shipped) and (what, name) not in _noticed:
        _noticed.add((what, name))
        print(f"lengthgen: notice: {what} {name!r} is {chosen}, which shadows the shipped {hidden[0]}", file=sys.stderr)


def find_benchmark(name: str) -> Path:
    """A benchmark file by name (``count``) or path (``my/bench.yaml``)."""
    return _find(name, benchmark_dirs(), "benchmark", "--include-path")


def find_suite(name: str) -> Path:
    """A suite file by name (``quick``) or path."""
    return _find(name, suite_dirs(), "suite", "--include-path")


def describe() -> list[tuple[str, str, str]]:
    """(what, origin, folder) rows for ``lengthgen info``."""
    rows = []
    origin = {str(p): o for o, p in roots()}
    for what, dirs in (("benchmarks", benchmark_dirs()), ("suites", suite_dirs()), ("rasp programs", rasp_dirs())):
        for d in dirs:
            key = next((k for k in origin if str(d).startswith(k)), "")
            rows.append((what, origin.get(key, "?"), str(d)))
    for name, root in roots():
        if not contributes(root):  # a LENGTHGEN_PATH entry that adds nothing is named, not skipped silently
            rows.append(("nothing", name, f"{root} (no benchmarks, suites or RASP programs there)"))
    return rows
