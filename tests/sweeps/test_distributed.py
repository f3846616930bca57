"""The cluster executors run a real two-cell sweep (``-m distributed``)."""

import pytest

from lengthgen.suites import load_suite
from lengthgen.sweeps.cells import expand, is_complete
from lengthgen.sweeps.runner import run_sweep

pytestmark = pytest.mark.distributed


def two_cells(tiny_suite, tmp_path):
    return expand(load_suite(tiny_suite), tmp_path / "sweep", tasks=["parity"], models=["lstm"])


def test_slurm_executor_with_submitit_local_cluster(tiny_suite, tmp_path):
    pytest.importorskip("submitit")
    from lengthgen.sweeps.executors import SlurmExecutor

    cells = two_cells(tiny_suite, tmp_path)
    executor = SlurmExecutor(tmp_path / "slurm", timeout_min=10, cpus_per_task=1, cluster="local")
    report = run_sweep(cells, executor, progress=False, log=lambda m: None)
    assert len(report.done) == 2 and not report.failed
    assert all(is_complete(c) for c in cells)


def test_ray_executor_local_runtime(tiny_suite, tmp_path):
    pytest.importorskip("ray")
    from lengthgen.sweeps.executors import RayExecutor

    cells = two_cells(tiny_suite, tmp_path)
    report = run_sweep(cells, RayExecutor(num_cpus=2), progress=False, log=lambda m: None)
    assert len(report.done) == 2 and not report.failed
    assert all(is_complete(c) for c in cells)
