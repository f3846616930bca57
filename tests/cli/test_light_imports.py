"""Commands that build no model never import torch (about 1.7 s of start-up):
the parser, --help and the listing commands stay fast."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from lengthgen.cli.main import build_parser, main
build_parser()
for argv in {argvs!r}:
    main(argv)
print("torch" in sys.modules)
"""


@pytest.mark.parametrize(
    "argvs",
    [[], [["tasks", "list"]], [["suites", "list"]], [["benchmarks", "list"]], [["tasks", "show", "count"]]],
    ids=["parser", "tasks list", "suites list", "benchmarks list", "tasks show"],
)
def test_no_torch_without_a_model(argvs):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argvs=argvs)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "False", out[-500:]


def test_the_probe_can_see_torch():
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argvs=[["models", "list"]])], capture_output=True, text=True, timeout=120
    ).stdout
    assert out.strip().splitlines()[-1] == "True"
