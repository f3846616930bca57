"""Training curves as they happen, for tools outside lengthgen.

``csv`` (no extra) appends one row per evaluation point to
``<run>.curve.csv`` beside the result: step, loss, batch exact match and
every probe (teacher-forced exact match in range, at L, beyond).  A resumed
run appends to the same file.  ``tensorboard`` and ``wandb`` log the same
points when their packages are installed (a clear error names the package
otherwise).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lengthgen.errors import LengthgenError

TRACKERS = ("csv", "tensorboard", "wandb")


def make_tracker(kind: str, path_stem: Path, run_name: str) -> Callable[[dict[str, Any]], None]:
    """A function taking each evaluation point (a flat dict of numbers)."""
    if kind == "csv":
        return CsvTracker(path_stem.with_name(path_stem.name + ".curve.csv"))
    if kind == "tensorboard":
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise LengthgenError("--log tensorboard needs the tensorboard package: pip install tensorboard") from None
        writer = SummaryWriter(log_dir=str(path_stem.parent / "tensorboard" / run_name))

        def log_tb(point: dict[str, Any]) -> None:
            for key, value in point.items():
                if key != "step" and isinstance(value, (int, float)):
                    writer.add_scalar(key, value, point["step"])
            writer.flush()

        return log_tb
    if kind == "wandb":
        try:
            import wandb
        except ImportError:
            raise LengthgenError("--log wandb needs the wandb package: pip install wandb") from None
        run = wandb.init(project="lengthgen", name=run_name, reinit=True)
        return lambda point: run.log({k: v for k, v in point.items() if k != "step"}, step=point["step"])
    raise LengthgenError(f"--log must be one of {', '.join(TRACKERS)}, got {kind!r}")


class CsvTracker:
    """Appends points to a CSV file; the columns are the first point's keys
    (later points with more keys add nothing the file cannot hold: they are
    written under the columns it has)."""

    def __init__(self, path: Path):
        self.path = path
        self.columns: list[str] | None = None
        if path.is_file() and path.stat().st_size:
            with open(path, newline="", encoding="utf-8") as fh:
                self.columns = next(csv.reader(fh), None)

    def __call__(self, point: dict[str, Any]) -> None:
        new = self.columns is None
        if new:
            self.columns = list(point)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow(self.columns)
            writer.writerow([point.get(c, "") for c in self.columns])
