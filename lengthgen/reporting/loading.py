"""Loading result files defensively: a bad file is skipped with a warning."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lengthgen.errors import LengthgenError

ROW_FIELDS = {"length": int, "in_train_range": bool, "exact": (int, float), "token": (int, float)}


def _valid_row(row: Any) -> bool:
    if not isinstance(row, dict):
        return False
    for key, kind in ROW_FIELDS.items():
        value = row.get(key)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            return False
    return all(math.isfinite(row[k]) and 0.0 <= row[k] <= 1.0 for k in ("exact", "token"))


def check_result(data: Any) -> str | None:
    """Why ``data`` is not a usable result, or None when it is."""
    if not isinstance(data, dict):
        return "not a JSON object"
    for key in ("config", "results", "seed", "model", "task"):
        if key not in data:
            return f"missing key {key!r}"
    cfg = data["config"]
    if not isinstance(cfg, dict) or not isinstance(cfg.get("task"), str) or not isinstance(cfg.get("model"), str):
        return "config lacks task/model"
    if not isinstance(data["results"], list) or not data["results"]:
        return "no results"
    if not all(_valid_row(r) for r in data["results"]):
        return "a results row is malformed"
    if not isinstance(data["seed"], int) or isinstance(data["seed"], bool):
        return "seed is not an integer"
    return None


def load_results(folder: str | Path, warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every usable ``*.json`` result under ``folder`` (recursively), sorted by path."""
    warn = warn or (lambda m: print(f"lengthgen: warning: {m}", file=sys.stderr))
    folder = Path(folder)
    if not folder.exists():
        raise LengthgenError(f"{folder}: no such folder")
    files = [folder] if folder.is_file() else sorted(folder.rglob("*.json"))
    results = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            warn(f"skipping {path}: unreadable JSON ({type(exc).__name__})")
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
    return f"{label}[{variant}]" if variant else label
