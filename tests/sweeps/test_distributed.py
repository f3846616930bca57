"""The cluster executors run a real two-cell sweep (``-m distributed``)."""

import shutil
from pathlib import Path

import pytest

from lengthgen.suites import load_suite
from lengthgen.sweeps.cells import expand, is_complete
from lengthgen.sweeps.runner import run_sweep

pytestmark = pytest.mark.distributed


def two_cells(tiny_suite, tmp_path):
    return expand(load_suite(tiny_suite), tmp_path / "sweep", tasks=["parity"], models=["lstm"])


@pytest.mark.skipif(shutil.which("sbatch") is not None, reason="a machine with Slurm would submit there")
def test_slurm_executor_without_slurm_says_it_runs_locally(tiny_suite, tmp_path, capsys):
    pytest.importorskip("submitit")
    from lengthgen.sweeps.executors import SlurmExecutor

    cells = two_cells(tiny_suite, tmp_path)
    executor = SlurmExecutor(tmp_path / "slurm", timeout_min=10, cpus_per_task=1)  # cluster chosen by submitit
    report = run_sweep(cells, executor, progress=False, log=lambda m: None)
    assert len(report.done) == 2 and not report.failed
    assert all(is_complete(c) for c in cells)
    assert "found no Slurm here" in capsys.readouterr().err


def test_ray_executor_local_runtime(tiny_suite, tmp_path):
    pytest.importorskip("ray")
    from lengthgen.sweeps.executors import RayExecutor

    cells = two_cells(tiny_suite, tmp_path)
    report = run_sweep(cells, RayExecutor(num_cpus=2), progress=False, log=lambda m: None)
    assert len(report.done) == 2 and not report.failed
    assert all(is_complete(c) for c in cells)


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the job's task process through /proc")
def test_a_preempted_slurm_cell_is_requeued_and_resumes(tiny_suite, tmp_path):
    """submitit's own preemption path, as Slurm drives it: the task process
    gets the requeue signal, submitit's handler asks the cell for its
    DelayedSubmission and exits with the requeue code, the job starts the
    task again, and the cell resumes from its checkpoint instead of step 0."""
    submitit = pytest.importorskip("submitit")
    import json
    import os
    import time

    from submitit.local.local import LocalJobEnvironment

    from lengthgen.sweeps.executors import _SubmititCell

    cell = two_cells(tiny_suite, tmp_path)[0]
    cfg = cell.config
    cfg.train.steps, cfg.train.checkpoint_every, cfg.train.eval_every = 600, 10, 600
    ckpt = Path(cfg.out) / f"{cfg.run_name()}.ckpt.pt"
    executor = submitit.AutoExecutor(folder=str(tmp_path / "slurm" / "%j"), cluster="local")
    executor.update_parameters(timeout_min=10)
    job = executor.submit(_SubmititCell(1), cfg)
    deadline = time.monotonic() + 120
    while not ckpt.exists():  # the first checkpoint: there is something to resume
        assert time.monotonic() < deadline and not job.done(), job.stdout()
        time.sleep(0.05)
    tasks = _children(job._process.pid)
    assert len(tasks) == 1
    os.kill(tasks[0], LocalJobEnvironment._usr_sig())  # preempted
    outcome = job.result()
    assert outcome.ok, outcome.error
    log = (job.stdout() or "") + (job.stderr() or "")
    # (the local cluster calls any signal a time-out; the path after it is Slurm's)
    assert "Calling checkpoint method" in log and "Requeued job" in log
    result = json.loads((Path(cfg.out) / f"{cfg.run_name()}.json").read_text())
    assert result["training"]["steps"] == 600
    assert result["training"]["resumed_from_step"] >= 10  # the second start went on from the checkpoint
