"""Executors: run cells and report each one as it finishes.

All share one interface, ``run(cells, on_done)``, where ``on_done(cell,
outcome)`` is called in the parent process with an :class:`Outcome`.  Cells
write their own result files (atomically) into the sweep folder, which on a
cluster must be on a shared filesystem; the parent only gathers outcomes.
Optional backends are imported lazily.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lengthgen.errors import Interrupted, LengthgenError
from lengthgen.experiment import RunConfig
from lengthgen.plugins import plugin_paths
from lengthgen.sweeps import EXECUTORS  # noqa: F401  (defined with the package, torch-free, for the parser)
from lengthgen.sweeps.cells import Cell


@dataclass
class Outcome:
    ok: bool
    seconds: float
    summary: dict[str, Any]
    error: str = ""


_STOP = None  # a worker process's view of "the sweep was stopped" (multiprocessing.Event)


def _init_worker(stop, parent: int | None = None, plugin_folders: tuple[str, ...] = ()) -> None:
    global _STOP
    _STOP = stop
    from lengthgen.plugins import add_plugin_path

    for folder in plugin_folders:  # a spawned worker starts without the parent's --plugin-path
        add_plugin_path(folder)
    if parent is not None:
        _follow_parent(parent)


def _follow_parent(parent: int) -> None:
    """Stop this worker (SIGTERM: it checkpoints, then exits) when the sweep
    that started it dies, even by SIGKILL, which it cannot pass on: the
    kernel's parent-death signal where Linux offers it, and a watchdog that
    notices the worker has been re-parented everywhere."""
    with contextlib.suppress(Exception):  # not Linux, or no libc: the watchdog alone
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)  # a cell in training checkpoints and stops
        time.sleep(10.0)
        os._exit(128 + signal.SIGTERM)  # idle, or the stop did not end the process: leave anyway

    if os.getppid() != parent:  # it died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def run_cell(cfg: RunConfig, threads: int | None = None, exits: bool = False) -> Outcome:
    """Train and evaluate one cell; never raises (errors become outcomes),
    except a process exit when ``exits``: a cluster's requeue handler ends
    the job with ``sys.exit`` from inside training, and that is no failure
    of the cell."""
    if _STOP is not None and _STOP.is_set():
        # the pool hands queued cells to idle workers even after a stop: do not start them
        return Outcome(False, 0.0, {}, "not started: the sweep was stopped")
    import torch

    from lengthgen.evaluation.outcomes import beyond_rows
    from lengthgen.experiment import run_experiment

    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        # a spawned worker starts with the built-in registries only: register what
        # the parent resolved (module:Class; trust was checked there; rasp:FILE registers itself)
        from lengthgen.plugins import ensure_model, ensure_task

        ensure_task(cfg.task)
        ensure_model(cfg.model)
        # the finished cell's checkpoint is the sweep's to remove or keep (run_sweep)
        result = run_experiment(cfg, resume=True, progress=False, log=lambda m: None, reuse_complete=True)
        # the leaderboard's rows: beyond the range, or every test row (held-out symbols at fixed length)
        beyond = beyond_rows(result["results"])
        key = "exact" if cfg.metric == "exact" else "token"
        score = sum(r[key] for r in beyond) / len(beyond)
        fit = result.get("fit") or {}
        longest = (fit.get("longest") or {}).get(key)
        summary = {
            "score": score,
            "metric": key,
            "reused": bool(result.get("_reused")),
            "fitted": fit.get("fitted"),
            "in_range": longest,
        }
        return Outcome(True, time.perf_counter() - start, summary)
    except BaseException as exc:  # a failing cell must not take the sweep down
        if isinstance(exc, KeyboardInterrupt) or (exits and isinstance(exc, SystemExit)):
            raise
        detail = str(exc) if isinstance(exc, LengthgenError) else traceback.format_exc(limit=3)
        return Outcome(False, time.perf_counter() - start, {}, f"{type(exc).__name__}: {detail}".strip())


OnDone = Callable[[Cell, Outcome], None]


def _forward_sigterm(pool: ProcessPoolExecutor, stop) -> Callable[[], None]:
    """While the pool runs, a SIGTERM to this process (``timeout``, ``kill``)
    is passed on to the workers, which checkpoint and stop, then stops the
    sweep.  Returns the function restoring the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, _frame):
        stop.set()  # queued cells must not start on the workers that finish
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(ProcessLookupError, OSError):
                os.kill(process.pid, signal.SIGTERM)
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


class LocalExecutor:
    """A process pool sized to the machine, torch threads split among workers."""

    name = "local"

    def __init__(self, workers: int | None = None, cores: int | None = None, threads: int | None = None):
        self.cores = cores or os.cpu_count() or 1
        self.workers = workers
        self.threads = threads

    def plan(self, n_cells: int) -> tuple[int, int]:
        workers = max(1, min(self.workers or self.cores, n_cells))
        return workers, self.threads or max(1, self.cores // workers)

    def run(self, cells: list[Cell], on_done: OnDone) -> None:
        workers, threads = self.plan(len(cells))
        if workers == 1:
            for cell in cells:  # in-process: simpler tracebacks, no start-up cost
                on_done(cell, run_cell(cell.config, threads))
            return
        # spawn, not fork: forking a process that already runs torch threads can deadlock
        ctx = multiprocessing.get_context("spawn")
        stop = ctx.Event()
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(stop, os.getpid(), tuple(plugin_paths())),
        )
        pending = {pool.submit(run_cell, cell.config, threads): cell for cell in cells}
        restore = _forward_sigterm(pool, stop)
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    cell = pending.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # worker died (killed, out of memory)
                        outcome = Outcome(False, 0.0, {}, f"worker failed: {type(exc).__name__}: {exc}")
                    on_done(cell, outcome)
        except KeyboardInterrupt:
            stop.set()
            for future in pending:
                future.cancel()
            raise
        finally:
            # workers finish their step and checkpoint before they exit
            pool.shutdown(wait=True, cancel_futures=True)
            restore()


class _SubmititCell:
    """A picklable callable for submitit; requeued on preemption or timeout.

    Requeueing simply calls it again: the cell resumes from its own
    checkpoint, so nothing but the steps since that checkpoint is lost.
    """

    def __init__(self, threads: int):
        self.threads = threads

    def __call__(self, cfg: RunConfig) -> Outcome:
        return run_cell(cfg, self.threads, exits=True)

    def checkpoint(self, cfg: RunConfig):
        import submitit

        return submitit.helpers.DelayedSubmission(self, cfg)


class SlurmExecutor:
    """One Slurm job array for the sweep, via submitit (``pip install 'lengthgen[slurm]'``).

    ``cluster="local"`` uses submitit's local executor (subprocesses on this
    machine), which is how the tests exercise this path without Slurm.
    """

    name = "slurm"

    def __init__(
        self,
        folder: str | Path,
        partition: str | None = None,
        timeout_min: int = 120,
        cpus_per_task: int = 2,
        parallelism: int = 64,
        cluster: str | None = None,
    ):
        try:
            import submitit  # noqa: F401
        except ImportError:
            raise LengthgenError("the slurm executor needs submitit: pip install 'lengthgen[slurm]'") from None
        self.folder = Path(folder)
        self.partition = partition
        self.timeout_min = timeout_min
        self.cpus_per_task = cpus_per_task
        self.parallelism = parallelism
        self.cluster = cluster

    def run(self, cells: list[Cell], on_done: OnDone) -> None:
        import submitit

        executor = submitit.AutoExecutor(folder=str(self.folder / "%j"), cluster=self.cluster)
        if self.cluster is None and executor.cluster != "slurm":
            print(
                f"lengthgen: --executor slurm found no Slurm here (no sbatch on PATH): submitit runs the cells on "
                f"this machine with its {executor.cluster} executor",
                file=sys.stderr,
            )
        params: dict[str, Any] = {"timeout_min": self.timeout_min, "cpus_per_task": self.cpus_per_task}
        if executor.cluster == "slurm":
            params["slurm_array_parallelism"] = self.parallelism
            if self.partition:
                params["slurm_partition"] = self.partition
        executor.update_parameters(**params)
        jobs = executor.map_array(_SubmititCell(self.cpus_per_task), [c.config for c in cells])
        for job, cell in zip(jobs, cells):
            try:
                outcome = job.result()
            except Exception as exc:  # job failed outside run_cell (node crash, cancelled)
                outcome = Outcome(False, 0.0, {}, f"job {job.job_id} failed: {exc}")
            on_done(cell, outcome)


class RayExecutor:
    """Ray remote tasks (``pip install 'lengthgen[ray]'``); ``address`` joins an
    existing cluster, otherwise a local Ray runtime with ``num_cpus`` is started."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, threads_per_cell: int = 1):
        try:
            import ray  # noqa: F401
        except ImportError:
            raise LengthgenError("the ray executor needs ray: pip install 'lengthgen[ray]'") from None
        self.address = address
        self.num_cpus = num_cpus
        self.threads = threads_per_cell

    def run(self, cells: list[Cell], on_done: OnDone) -> None:
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.num_cpus or os.cpu_count()
            ray.init(**kwargs)
        try:
            remote = ray.remote(num_cpus=self.threads)(run_cell)
            pending = {remote.remote(cell.config, self.threads): cell for cell in cells}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    cell = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except Exception as exc:  # the task's worker died
                        outcome = Outcome(False, 0.0, {}, f"ray task failed: {exc}")
                    on_done(cell, outcome)
        finally:
            if started_here:
                ray.shutdown()
