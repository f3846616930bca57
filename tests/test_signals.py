"""SIGTERM (Slurm preemption, `timeout`, container stop) stops as cleanly as
Ctrl-C: the current step finishes, a checkpoint is written, the exit code is
143, and rerunning resumes.  The tests wait on events (a checkpoint
appearing), never on fixed sleeps."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real processes and signals: about a minute; run in .ci/run after the fast suite

ROOT = Path(__file__).resolve().parents[1]
LONG = ["--steps", "100000", "--eval-every", "50", "--batch-size", "4", "--eval-examples", "4"]
TINY_MODEL = ["--model-opt", "d_model=16", "--model-opt", "n_heads=2", "--model-opt", "n_layers=1"]


@pytest.fixture(autouse=True)
def reap(monkeypatch):
    """Kill every process a test started (and its workers) when the test ends,
    so a failing test cannot leave a sweep running."""
    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        kwargs.setdefault("start_new_session", True)
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen)
    yield
    for proc in started:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def wait_for(predicate, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_run_stops_cleanly_on_sigterm_and_resumes(tmp_path):
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "lengthgen", "run", "--benchmark", "count", "--out", str(out), "--name", "r", *LONG]
    proc = subprocess.Popen(cmd + TINY_MODEL, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the trainer checkpoints every 250 steps: once one exists it is mid-training
    assert wait_for(lambda: (out / "r.ckpt.pt").exists(), proc), proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "SIGTERM" in err and "Traceback" not in err
    assert (out / "r.ckpt.pt").exists() and not list(out.glob(".*tmp"))
    # the rerun picks the checkpoint up; stop it once it has written a newer one
    stamp = (out / "r.ckpt.pt").stat().st_mtime_ns
    proc = subprocess.Popen(cmd + TINY_MODEL, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: (out / "r.ckpt.pt").stat().st_mtime_ns != stamp, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert "resumed r from step" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_bench_forwards_sigterm_to_its_workers(tmp_path, workers):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"name: sig\nbenchmarks: [{ROOT / 'tasks' / 'count.yaml'}, {ROOT / 'tasks' / 'sort.yaml'}]\n"
        "models: [transformer]\npe: [none]\nseeds: 3\n"  # more cells than workers: queued cells must not start
        "training: {steps: 100000, batch_size: 4, eval_every: 50, checkpoint_every: 50, eval_examples: 4}\n"
        "model_config: {transformer: {d_model: 16, n_heads: 2, n_layers: 1}}\nevaluation: {examples: 4}\n"
    )
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "lengthgen", "bench", "--suite", str(suite), "--out", str(out), "--workers", workers]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    want = int(workers)
    assert wait_for(lambda: len(list((out / "sig").glob("*.ckpt.pt"))) >= want, proc), proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    # exactly the cells in flight checkpointed; none of the 6 - workers queued ones started
    assert len(list((out / "sig").glob("*.ckpt.pt"))) == want and not list((out / "sig").glob("[!.]*.json"))


def test_file_size_limit_while_writing_is_a_clean_error(tmp_path):
    """A full disk or a file-size limit during a checkpoint write: one-line
    error, exit 2, no temporary file left behind."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "lengthgen", "run", "--benchmark", "count", "--steps", "2", "--eval-every", "1"]
    proc = subprocess.run(
        cmd + ["--eval-examples", "2", "--out", str(out)], cwd=ROOT, preexec_fn=limit, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-500:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("lengthgen: error")]
    assert len(errors) == 1 and "cannot write the checkpoint" in errors[0] and "Traceback" not in proc.stderr
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
