"""Every worked example in a docstring of the package runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lengthgen

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(lengthgen.__path__, "lengthgen.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} docstring examples of {name} failed (run python -m doctest -v)"
    )
