"""Checkpoints: written atomically, read back with ``weights_only=True``."""

from __future__ import annotations

import os
import uuid
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


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint without unpickling arbitrary objects."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise LengthgenError(f"{path}: checkpoint not found") from None
    except Exception as exc:  # corrupted, truncated or not a checkpoint at all
        raise LengthgenError(
            f"{path}: cannot load checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None
