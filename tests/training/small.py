"""A small trainer for every registered model, shared by the padding-removal tests."""

import torch

from lengthgen.experiment import RunConfig, build
from lengthgen.experiment import make_trainer as trainer_for
from lengthgen.training.loop import TrainConfig

CPU = torch.device("cpu")

SMALL = {
    "lstm": {"d_model": 16},
    "ut": {"d_model": 16, "n_heads": 2, "max_steps": 3},
    "hyper-ut": {"d_model": 16, "n_heads": 2, "max_steps": 3},
    "looped": {"d_model": 16, "n_heads": 2, "max_loops": 4},
}


def small_trainer(model_name: str, pe: str | None = None, **train):
    """copy-unique at lengths 1-12, batch 16 (a mixed-length batch), seed 5."""
    options = dict(SMALL.get(model_name, {"d_model": 16, "n_heads": 2, "n_layers": 2}))
    if pe:
        options["pe"] = pe
    cfg = RunConfig(
        task="copy-unique",
        params={"alphabet": 16},
        model=model_name,
        model_options=options,
        train_lengths=list(range(1, 13)),
        test_lengths=[16],
        seed=5,
        train=TrainConfig(steps=4, batch_size=16, warmup=1, eval_every=4, eval_examples=8, **train),
    )
    task, test_task, model = build(cfg)
    return trainer_for(cfg, task, test_task, model, CPU, fingerprint="fp", progress=False)
