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


def test_the_public_api_evaluates_without_torch():
    """A user with their own training loop (any framework) gets tasks,
    samples and the whole evaluation report without importing torch."""
    probe = (
        "import sys\n"
        "import numpy as np\n"
        "from lengthgen.api import evaluate, get_task, sample\n"
        "task = get_task('reverse')\n"
        "def generate(prompts, max_new_tokens):\n"
        "    return np.zeros((len(prompts), max_new_tokens), dtype=np.int64)\n"
        "report = evaluate(generate, task, train_lengths=range(1, 5), test_lengths=[6], n=8)\n"
        "print(len(report['rows']) > 0, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "True False", out.stdout[-500:] + out.stderr[-500:]
