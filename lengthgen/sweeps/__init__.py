"""Sweeps: a suite expanded into cells (benchmark x model x encoding x seed),
run by an executor, one result file per cell."""

EXECUTORS = ("local", "slurm", "ray")  # the names the command line offers (no torch to import them)
