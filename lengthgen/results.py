"""Result files: atomic JSON writing and the environment record."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import platform
import re
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

import numpy as np

from lengthgen import __version__
from lengthgen.errors import LengthgenError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_name(name: str, what: str = "run name") -> str:
    """Names become file names: refuse separators, '..' and hidden files."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise LengthgenError(
            f"{what} {name!r} must use letters, digits, '.', '_' and '-' only, start with a letter or digit, and not contain '..'"
        )
    return name


def _finite(value: Any) -> Any:
    """NaN and infinities become null (strict JSON has no NaN)."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _write_atomic(path: str | Path, write: Callable[[Any], None]) -> None:
    """Write through a fresh temporary file in the destination folder, then
    rename: readers never see half a file, an interruption or a full disk
    leaves no temporary behind, and a link planted at the temporary name is
    never followed (the name is unique and created exclusively)."""
    path = Path(path)
    if path.is_dir():
        raise LengthgenError(f"{path} is a folder; give a file name to write to")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        with os.fdopen(os.open(tmp, flags, 0o644), "w", encoding="utf-8") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


RESULT_MARKERS = ("fingerprint", "results")  # keys every result file has held since the first


def is_result_file(path: str | Path) -> bool:
    """Whether ``path`` holds a lengthgen result, recognised by content: a
    JSON object with the keys every result has, or the start of one (a
    result cut short by a crash, which a rerun may replace)."""
    path = Path(path)
    try:
        if not path.is_file():
            return False
        with open(path, "rb") as fh:
            head = fh.read(2**16)
            whole = len(head) < 2**16 or fh.read(1) == b""
        text = head.decode("utf-8", errors="replace")
    except OSError:
        return False
    if whole:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if data is not None:
            return isinstance(data, dict) and all(key in data for key in RESULT_MARKERS)
    return text.lstrip().startswith("{") and '"fingerprint"' in text


def claim_result_path(path: str | Path) -> None:
    """Refuse before any work to write a result over a file that is not a
    lengthgen result (a shared run config's ``out`` and ``name`` can point
    anywhere, e.g. at ``./package.json``)."""
    path = Path(path)
    if path.is_symlink() or (path.exists() and not is_result_file(path)):
        raise LengthgenError(
            f"{path} exists and is not a lengthgen result file; lengthgen writes only over its own results: "
            "choose another run name or out folder"
        )


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON atomically (:func:`_write_atomic`)."""

    def write(fh) -> None:
        # allow_nan=False: a NaN would make the file unreadable to strict JSON parsers
        json.dump(_finite(data), fh, indent=2, sort_keys=False, allow_nan=False)
        fh.write("\n")

    _write_atomic(path, write)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write text atomically (:func:`_write_atomic`)."""
    _write_atomic(path, lambda fh: fh.write(text))


def git_revision() -> str | None:
    """The checkout's commit hash (with '+dirty' for local changes), or None outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        # result files are outputs, not code: changes under results/ do not make the code "dirty"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_name() -> str:
    """The processor's model name (``/proc/cpuinfo`` where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: torch.device, autocast: bool = False) -> dict[str, Any]:
    import torch

    env = {
        "lengthgen": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        # the training precision (evaluation is float32 either way)
        "precision": "bf16-autocast" if autocast else "float32",
        # the host's CPU and the kernels torch picked for it: float rounding
        # differs between them, so a run reproduces bit for bit only on the same
        # kind of host (README, Reproducibility)
        "cpu": cpu_name(),
        "cpu_kernels": torch.backends.cpu.get_cpu_capability(),
        "git": git_revision(),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


_TEMPORARY = re.compile(r"^(json|ckpt\.pt)\.\d+\.[0-9a-f]{8}\.tmp$")


def _remove_stale_temporaries(folder: Path, name: str) -> None:
    """Every write of a run's files happens under its lock, so a temporary
    file found by the lock's new holder was left by a killed process."""
    prefix = f".{name}."
    for path in folder.glob(f"{glob.escape(prefix)}*.tmp"):
        if _TEMPORARY.match(path.name[len(prefix) :]):
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def cell_lock(folder: str | Path, name: str):
    """An exclusive lock on one run's files (``.<name>.lock`` in ``folder``):
    a second process wanting the same run waits until the first is done.
    ``filelock`` (a dependency of torch) picks the platform's lock, so it is
    never silently a no-op where POSIX locks are missing."""
    from filelock import FileLock

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.lock"
    with FileLock(str(path)):
        _remove_stale_temporaries(folder, name)
        yield
        # a finished run leaves no empty lock file: removed while still held,
        # after the result is written, so a process that was waiting on it (or
        # takes a new one) finds the finished result and reuses it
        path.unlink(missing_ok=True)
