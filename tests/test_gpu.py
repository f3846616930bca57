"""CUDA path (``pytest -m gpu`` on a machine with a GPU; skipped elsewhere)."""

import pytest
import torch

from lengthgen.experiment import RunConfig, apply_settings, run_experiment
from lengthgen.training.loop import TrainConfig

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("model", ["transformer", "transformer-modattn", "ut", "hyper-ut", "lstm"])
def test_run_on_cuda_with_bf16(tmp_path, model):
    cfg = RunConfig(train=TrainConfig(steps=20, batch_size=16, eval_every=10, warmup=2))
    options = {"d_model": 32} if model == "lstm" else {"d_model": 32, "n_heads": 4}
    cfg = apply_settings(
        cfg,
        {
            "task": "copy-unique",
            "model": model,
            "model_options": options,
            "train_lengths": "1-5",
            "test_lengths": "8",
            "device": "auto",
            "eval_examples": 32,
        },
        "gpu test",
    )
    cfg.out = str(tmp_path)
    result = run_experiment(cfg, resume=False, progress=False, log=lambda m: None)
    assert result["environment"]["device"].startswith("cuda") and "gpu" in result["environment"]
    assert all(0 <= r["exact"] <= 1 for r in result["results"])


def test_kv_cache_matches_recomputation_on_cuda():
    from lengthgen.evaluation.decode import greedy_decode
    from lengthgen.models import build_model

    torch.manual_seed(0)
    model = build_model("transformer", 30, d_model=32, n_heads=4, pe="rope").cuda().double().eval()
    prompts = torch.randint(3, 30, (8, 10), device="cuda")
    cached, _ = greedy_decode(model, prompts, 16, use_cache=True)
    full, _ = greedy_decode(model, prompts, 16, use_cache=False)
    assert torch.equal(cached, full)


@pytest.mark.parametrize("precision,recorded", [("auto", "bf16-autocast"), ("float32", "float32")])
def test_cuda_trains_in_the_precision_asked_for(tmp_path, precision, recorded):
    cfg = RunConfig(train=TrainConfig(steps=4, batch_size=8, eval_every=2, warmup=1))
    settings = {"task": "parity", "model_options": {"d_model": 16, "n_heads": 2}, "train_lengths": "1-4"}
    cfg = apply_settings(cfg, {**settings, "test_lengths": "6", "precision": precision, "eval_examples": 8}, "gpu")
    cfg.out = str(tmp_path)
    result = run_experiment(cfg, resume=False, progress=False, log=lambda m: None)
    assert result["environment"]["device"].startswith("cuda")
    assert result["environment"]["precision"] == recorded
