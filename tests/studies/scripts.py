"""Loading a study's one-off script (results/studies/...) as a module, for its tests."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def study_script(relative: str):
    """The script at ``relative`` (from the repository root) and a skip mark
    for checkouts without the results folder (a wheel's tests)."""
    path = ROOT / relative

    def load():
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load, pytest.mark.skipif(not path.exists(), reason="needs the repository's results folder")
