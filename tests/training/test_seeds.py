"""Seeds stacked into one model (lengthgen.training.seeds): each seed gets
exactly its own model's outputs and gradients."""

import pytest
import torch

from lengthgen.errors import LengthgenError
from lengthgen.models import build_model
from lengthgen.training.seeds import StackedSeeds

# vmap has no CPU batching rule for fused attention and says so (measured in benchmarks/batched_seeds.py)
pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")


def models(n=3, **options):
    out = []
    for seed in range(n):
        torch.manual_seed(seed)
        out.append(build_model("transformer", 10, d_model=16, n_layers=2, n_heads=2, **options))
    return out


@pytest.mark.parametrize("pe", ["rope", "learned", "none"])
def test_each_seed_gets_its_own_outputs_and_gradients(pe):
    ms = models(pe=pe, max_positions=32)
    stacked = StackedSeeds(ms)
    tokens = torch.randint(3, 10, (3, 4, 7))
    labels = torch.randint(3, 10, (3, 4, 7))
    logits = stacked.logits(tokens)
    for k, m in enumerate(ms):
        assert torch.allclose(logits[k], m(tokens[k]).logits, atol=1e-5)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), labels.reshape(-1), reduction="sum")
    loss.backward()
    for k, m in enumerate(ms):
        own = torch.nn.functional.cross_entropy(
            m(tokens[k]).logits.reshape(-1, 10), labels[k].reshape(-1), reduction="sum"
        )
        own.backward()
        for name, p in m.named_parameters():
            assert torch.allclose(stacked.params[name].grad[k], p.grad, atol=1e-4), name
    restored = models(1, pe=pe, max_positions=32)[0]
    restored.load_state_dict(stacked.state_dict(1))
    assert torch.allclose(restored(tokens[1]).logits, ms[1](tokens[1]).logits, atol=1e-6)


def test_misuse_is_an_error():
    with pytest.raises(LengthgenError, match="one architecture"):
        StackedSeeds(
            [
                build_model("transformer", 10, d_model=16, n_layers=1, n_heads=2),
                build_model("transformer", 10, d_model=16, n_layers=2, n_heads=2),
            ]
        )
    stacked = StackedSeeds(models(2))
    with pytest.raises(LengthgenError, match="2"):
        stacked.logits(torch.randint(3, 10, (3, 2, 5)))
