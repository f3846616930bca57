"""A sweep's workers do not outlive it, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SUITE = """
name: orphans
benchmarks: [count]
models: [transformer]
pe: [rope]
seeds: 2
recipes: false
model_config:
  transformer: {d_model: 16, n_layers: 1, n_heads: 2}
training: {steps: 100000, batch_size: 8, eval_every: 1000, checkpoint_every: 1000}
"""


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    suite = tmp_path / "tasks" / "suites" / "orphans.yaml"
    suite.parent.mkdir(parents=True)
    suite.write_text(SUITE)
    bench = subprocess.Popen(
        [sys.executable, "-m", "lengthgen.cli.main", "bench", "--suite", str(suite), "--out", str(tmp_path / "runs"),
         "--workers", "2", "--threads", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        # the workers are up once they hold a cell lock each
        while time.monotonic() < deadline and len(list((tmp_path / "runs").rglob(".*.lock"))) < 2:
            time.sleep(0.5)
        workers = [p for p in children_of(bench.pid) if alive(p)]
        assert len(workers) >= 2, "the sweep did not start two workers"
        os.kill(bench.pid, signal.SIGKILL)
        bench.wait(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.5)
        assert not any(alive(p) for p in workers), "workers outlived the killed sweep"
    finally:
        if bench.poll() is None:
            bench.kill()
