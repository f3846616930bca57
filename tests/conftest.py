import numpy as np
import pytest

from lengthgen.tasks import TASKS, make_task


def small_lengths(task, count=4):
    """A few valid lengths for ``task``, small enough for slow references."""
    top = task.max_length()
    hi = min(12, top) if top is not None else 12
    lo = task.min_length
    return sorted({lo, hi, (lo + hi) // 2, min(lo + 1, hi)})[:count]


@pytest.fixture(params=TASKS.names())
def task(request):
    return make_task(request.param)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
