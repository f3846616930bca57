"""Loading result files defensively: a bad file is skipped with a warning."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lengthgen.errors import LengthgenError
from lengthgen.tasks import make_task

ROW_FIELDS = {"length": int, "in_train_range": bool, "exact": (int, float), "token": (int, float)}
MAX_RESULT_BYTES = 64 << 20  # a result with a long rank curve is a few MB
MAX_ROWS = 10_000
OPTIONAL_STRINGS = ("benchmark", "variant", "metric", "name")


def shortest_length(cfg: dict) -> int:
    """The task's shortest valid length (0 for c-pvr's zero hops; 1 when the
    task is unknown or its parameters do not build it)."""
    key = json.dumps([cfg.get("task"), cfg.get("params") or {}], sort_keys=True, default=str)
    if key not in _SHORTEST:
        try:
            _SHORTEST[key] = int(make_task(cfg["task"], **(cfg.get("params") or {})).min_length)
        except Exception:  # noqa: BLE001  (an unreadable config is judged by the other checks)
            _SHORTEST[key] = 1
    return _SHORTEST[key]


_SHORTEST: dict[str, int] = {}


def _valid_row(row: Any, shortest: int = 1) -> bool:
    if not isinstance(row, dict):
        return False
    for key, kind in ROW_FIELDS.items():
        value = row.get(key)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            return False
    if not min(1, shortest) <= row["length"] <= 10**9:
        return False
    for key in ("test", "heldout"):
        if key in row and not isinstance(row[key], bool):
            return False
    if "n" in row and (not isinstance(row["n"], int) or isinstance(row["n"], bool) or row["n"] < 0):
        return False
    return all(math.isfinite(row[k]) and 0.0 <= row[k] <= 1.0 for k in ("exact", "token"))


def check_result(data: Any) -> str | None:
    """Why ``data`` is not a usable result, or None when it is.  Checks
    everything the readers use, so one bad file cannot break a report."""
    if not isinstance(data, dict):
        return "not a JSON object"
    for key in ("config", "results", "seed", "model", "task"):
        if key not in data:
            return f"missing key {key!r}"
    cfg = data["config"]
    if not isinstance(cfg, dict) or not isinstance(cfg.get("task"), str) or not isinstance(cfg.get("model"), str):
        return "config lacks task/model"
    for key in OPTIONAL_STRINGS:
        if cfg.get(key) is not None and not isinstance(cfg[key], str):
            return f"config.{key} is not a string"
        if key in ("metric", "name") and data.get(key) is not None and not isinstance(data[key], str):
            return f"{key} is not a string"
    if cfg.get("model_options") is not None and not isinstance(cfg["model_options"], dict):
        return "config.model_options is not a mapping"
    if not isinstance(cfg.get("train_lengths", ""), (str, int, list)):
        return "config.train_lengths is malformed"
    for key in ("model", "task", "training", "wall_time_s", "compute", "diagnostics"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            return f"{key} is not a mapping"
    if not isinstance(data["results"], list) or not data["results"]:
        return "no results"
    if len(data["results"]) > MAX_ROWS:
        return f"more than {MAX_ROWS} result rows"
    if cfg.get("params") is not None and not isinstance(cfg["params"], dict):
        return "config.params is not a mapping"
    problem = _check_blocks(data)
    if problem:
        return problem
    shortest = shortest_length(cfg)
    if not all(_valid_row(r, shortest) for r in data["results"]):
        return "a results row is malformed"
    if not isinstance(data["seed"], int) or isinstance(data["seed"], bool):
        return "seed is not an integer"
    schema = data.get("schema", 1)
    if not isinstance(schema, int) or isinstance(schema, bool) or schema > KNOWN_SCHEMA:
        return f"unknown result schema {schema!r} (this lengthgen reads up to {KNOWN_SCHEMA}; upgrade it)"
    return None


KNOWN_SCHEMA = 2


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_blocks(data: dict) -> str | None:
    """Field by field, the blocks the readers take numbers and names from."""
    for key, value in (data.get("wall_time_s") or {}).items():
        if value is not None and not _is_number(value):
            return f"wall_time_s.{key} is not a number"
    for key, value in (data.get("compute") or {}).items():
        if value is not None and not _is_number(value):
            return f"compute.{key} is not a number"
    task = data.get("task") or {}
    if task.get("name") is not None and not isinstance(task["name"], str):
        return "task.name is not a string"
    for key in ("params", "test_params"):
        if task.get(key) is not None and not isinstance(task[key], dict):
            return f"task.{key} is not a mapping"
    if task.get("version") is not None and not (
        isinstance(task["version"], int) and not isinstance(task["version"], bool)
    ):
        return "task.version is not an integer"
    model = data.get("model") or {}
    for key in ("parameters", "flops_per_token"):
        if model.get(key) is not None and not _is_number(model[key]):
            return f"model.{key} is not a number"
    for key in ("name", "fingerprint"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"{key} is not a string"
    return None


def read_result(path: Path) -> Any:
    """Parse one result file, refusing what cannot be a result before reading
    it whole (a FIFO, a device such as /dev/zero, a 2 GB file)."""
    if not path.is_file():
        raise ValueError("not a regular file")
    if path.stat().st_size > MAX_RESULT_BYTES:
        raise ValueError(f"larger than {MAX_RESULT_BYTES >> 20} MiB")
    with open(path, "rb") as fh:
        raw = fh.read(MAX_RESULT_BYTES + 1)
    if len(raw) > MAX_RESULT_BYTES:
        raise ValueError(f"larger than {MAX_RESULT_BYTES >> 20} MiB")
    return json.loads(raw.decode("utf-8"))


def warn_on_stderr(message: str) -> None:
    print(f"lengthgen: warning: {message}", file=sys.stderr)


def load_results(folder: str | Path, warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every usable ``*.json`` result under ``folder`` (recursively), sorted by
    path; a bad file is skipped with a warning that names it."""
    warn = warn or warn_on_stderr
    folder = Path(folder)
    if not folder.exists():
        raise LengthgenError(f"{folder}: no such folder")
    files = [folder] if folder.is_file() else sorted(folder.rglob("*.json"))
    results = []
    for path in files:
        try:
            data = read_result(path)
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) and "JSON" not in type(exc).__name__ else ""
            warn(f"skipping {path}: unreadable ({reason or type(exc).__name__})")
            continue
        problem = check_result(data)
        if problem:
            warn(f"skipping {path}: {problem}")
            continue
        data["_path"] = str(path)
        results.append(data)
    if not results:
        raise LengthgenError(f"{folder}: no usable result files")
    return results


def benchmark_of(result: dict[str, Any]) -> str:
    return result["config"].get("benchmark") or result["config"]["task"]


def column_of(result: dict[str, Any]) -> str:
    """Model label: name plus positional encoding where it has one."""
    model = result["config"]["model"]
    options = result["config"].get("model_options") or {}
    pe = options.get("pe") if isinstance(options, dict) else None
    variant = result["config"].get("variant")
    label = f"{model}+{pe}" if pe else model
    if isinstance(options, dict) and options.get("act") is False:
        # a fixed-step UT is a different model from the same UT with ACT
        label += "[act=false]"
    if isinstance(options, dict) and options.get("halting_start"):
        label += f"[halting_start={options['halting_start']}]"
    # where training put positions makes another model of the same weights' shape
    train = result["config"].get("train") or {}
    if isinstance(train, dict) and train.get("position_offset", "none") != "none":
        label += f"[offset={train['position_offset']}]"
    if isinstance(train, dict) and train.get("pack_context"):
        label += f"[packed={train['pack_context']}]"
    label = f"{label}[{variant}]" if variant else label
    # the folder of an arm that the configuration cannot tell apart from another (keep_arms_apart)
    return f"{label} ({result['_arm']})" if result.get("_arm") else label


def keep_arms_apart(folders: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """The results of several folders, one per arm of a study, as one list.

    Folders that hold different seeds of one configuration are one arm run
    in parts, and stay one row; so does one cell found in two folders (the
    same fingerprint: a copy or a bit-identical rerun counts once).  Where
    two folders hold different cells for the same seed of the same
    benchmark and model column, they are two arms (say, a stop rule against
    the whole budget) that the model column cannot tell apart, and taking
    the later file as a rerun would drop an arm without a word: each such
    result is marked with its folder's name (the ``_arm`` field, shown
    after its column), so each arm keeps its row.  A result file with no
    fingerprint (an old schema) is taken to be its folder's own cell.
    """
    seen: dict[tuple[str, str, int], dict[str, str]] = {}
    for name, results in folders:
        for r in results:
            cell = r.get("fingerprint") or f"folder {name}"
            seen.setdefault((benchmark_of(r), column_of(r), r["seed"]), {})[name] = cell
    clash = {(bench, column) for (bench, column, _), cells in seen.items() if len(set(cells.values())) > 1}
    merged = []
    for name, results in folders:
        for r in results:
            merged.append({**r, "_arm": name} if (benchmark_of(r), column_of(r)) in clash else r)
    return merged


def load_arms(folders: list[str | Path], warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """The results of several folders, each an arm of a study, as one list
    (:func:`keep_arms_apart`: two arms with the same configuration and
    seeds keep a row each, named by their folder).  Among several folders,
    one with no result yet (an arm still queued) is named in a warning and
    left out; a single folder must hold results."""
    warn = warn or warn_on_stderr
    names = [Path(f).name for f in folders]
    arms = []
    for folder, name in zip(folders, names):
        try:
            arms.append((name if names.count(name) == 1 else str(folder), load_results(folder, warn)))
        except LengthgenError as exc:
            if len(folders) == 1:
                raise
            warn(f"{exc}; left out")
    results = keep_arms_apart(arms)
    if not results:
        raise LengthgenError("none of these folders holds a usable result file")
    return results
