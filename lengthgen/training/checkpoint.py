"""Checkpoints: written atomically, read back with ``weights_only=True``."""

from __future__ import annotations

import os
import stat
import uuid
import zipfile
from pathlib import Path
from typing import Any

import torch

from lengthgen.errors import LengthgenError


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to a temporary file, then rename: a crash mid-write
    never leaves a truncated checkpoint under the real name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a per-process name: two processes writing the same checkpoint never
    # rename each other's half-written file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # torch reports a failed write as a RuntimeError
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:120]
        raise LengthgenError(
            f"{path}: cannot write the checkpoint ({reason}); disk full or a file-size limit?"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _check_file(path: Path) -> None:
    """Refuse, before torch reads anything, what is no checkpoint file: a
    FIFO or device (reading one hangs) and an archive whose members claim
    far more than the file holds (torch writes them stored, not compressed)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise LengthgenError(f"{path}: checkpoint not found") from None
    if not stat.S_ISREG(info.st_mode):
        raise LengthgenError(f"{path}: a checkpoint must be a regular file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            claimed = sum(member.file_size for member in archive.infolist())
        if claimed > 2 * info.st_size + 2**20:
            raise LengthgenError(
                f"{path}: the checkpoint's members claim {claimed:,} bytes from a {info.st_size:,}-byte file; not loaded"
            )


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint without unpickling arbitrary objects."""
    path = Path(path)
    _check_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise LengthgenError(f"{path}: checkpoint not found") from None
    except Exception as exc:  # corrupted, truncated or not a checkpoint at all
        raise LengthgenError(
            f"{path}: cannot load checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None
