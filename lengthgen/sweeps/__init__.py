"""Sweeps: a suite expanded into cells (benchmark x model x encoding x seed),
run by an executor, one result file per cell."""
