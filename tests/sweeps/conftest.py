import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TINY_SUITE = """\
name: tiny
benchmarks: [parity, count]
models: [transformer, lstm]
pe: [none, alibi]
seeds: 2
training: {steps: 4, batch_size: 4, warmup: 1, eval_every: 2, checkpoint_every: 2, eval_examples: 4}
model_config:
  transformer: {d_model: 16, n_heads: 2, n_layers: 1}
  lstm: {d_model: 16}
evaluation: {examples: 6}
"""


@pytest.fixture
def tiny_suite(tmp_path):
    tasks = tmp_path / "tasks"
    (tasks / "suites").mkdir(parents=True)
    for name in ("parity", "count"):
        shutil.copy(ROOT / "tasks" / f"{name}.yaml", tasks / f"{name}.yaml")
    path = tasks / "suites" / "tiny.yaml"
    path.write_text(TINY_SUITE)
    return path
