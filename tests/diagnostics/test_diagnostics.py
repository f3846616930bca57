"""Diagnostics formulas on matrices with known answers; muP coordinate check."""

import numpy as np
import pytest
import torch

from lengthgen.diagnostics.rank import RankTracker, rank_above, stable_rank
from lengthgen.diagnostics.representation import effective_rank, lidar, rankme
from lengthgen.models import build_model
from lengthgen.tasks import make_task
from lengthgen.training.data import to_lm_batch
from lengthgen.training.loop import TrainConfig, build_optimizer


@pytest.mark.parametrize("k", [1, 3, 7])
def test_rank_k_matrix(k):
    rng = np.random.default_rng(k)
    u, _ = np.linalg.qr(rng.normal(size=(20, k)))
    v, _ = np.linalg.qr(rng.normal(size=(15, k)))
    a = torch.tensor(u @ np.diag(np.full(k, 2.0)) @ v.T)  # k equal singular values
    s = torch.linalg.svdvals(a)
    assert rank_above(s) == k
    assert stable_rank(s) == pytest.approx(k)
    assert rankme(a.numpy()) == pytest.approx(k, rel=1e-3)


def test_stable_rank_of_unequal_spectrum_and_zero():
    s = torch.tensor([3.0, 1.0, 0.01])
    assert stable_rank(s) == pytest.approx((9 + 1 + 1e-4) / 9)
    assert rank_above(s) == 2  # 0.01 < 1% of 3
    assert stable_rank(torch.zeros(3)) == 0.0 and rank_above(torch.zeros(3)) == 0


def test_rankme_isotropic_data_is_full_rank():
    z = np.random.default_rng(0).normal(size=(20000, 8))
    assert rankme(z) == pytest.approx(8, rel=0.01)


def test_effective_rank_entropy():
    assert effective_rank([1, 1, 1, 1]) == pytest.approx(4, rel=1e-4)
    assert effective_rank([1, 0, 0]) == pytest.approx(1, rel=1e-4)
    assert effective_rank([0, 0]) == 0.0


def test_lidar_identical_classes_is_zero():
    z = np.random.default_rng(0).normal(size=(50, 6))
    both = np.concatenate([z, z])  # two classes with exactly the same samples
    labels = np.array([0] * 50 + [1] * 50)
    assert lidar(both, labels) == 0.0
    assert lidar(z, np.zeros(50)) == 0.0  # one class


@pytest.mark.parametrize("n_classes", [2, 4])
def test_lidar_counts_separated_directions(n_classes):
    # class means on n_classes - 1 orthogonal axes around the origin (a regular simplex),
    # isotropic noise: the LDA matrix has n_classes - 1 equal eigenvalues
    rng = np.random.default_rng(1)
    d = 6
    simplex = np.eye(n_classes) - 1.0 / n_classes
    basis, _ = np.linalg.qr(rng.normal(size=(d, n_classes)))
    means = 10 * simplex @ basis.T
    labels = np.repeat(np.arange(n_classes), 4000)
    z = means[labels] + rng.normal(size=(len(labels), d))
    assert lidar(z, labels) == pytest.approx(n_classes - 1, rel=0.05)


def test_rank_tracker_sees_updates_grow():
    torch.manual_seed(0)
    model = build_model("transformer", 12, d_model=16, n_heads=2, n_layers=1)
    tracker = RankTracker(model)
    assert all(v["rank"] == 0 for v in tracker.measure(0)["layers"].values())
    with torch.no_grad():
        layer = model.blocks[0].mlp[0].weight
        layer += torch.outer(torch.ones(layer.shape[0]), torch.ones(layer.shape[1]))
    after = tracker.measure(1)["layers"]
    assert after["blocks.0.mlp.0.weight"]["rank"] == 1
    assert after["blocks.0.attn.qkv.weight"]["rank"] == 0


def logits_scale_after_training(width, parametrization, steps=6, lr=1e-2):
    """Std of the output logits after a few Adam steps at one width."""
    task = make_task("copy-unique", alphabet=16)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model(
            "transformer",
            task.vocab_size,
            d_model=width,
            n_heads=4,
            n_layers=2,
            parametrization=parametrization,
            base_width=32,
        )
    opt = build_optimizer(model, TrainConfig(lr=lr, weight_decay=0.0))
    rng = np.random.default_rng(0)
    for _ in range(steps):
        lm = to_lm_batch(task.sample(rng, 32, 6))
        out = model(torch.from_numpy(lm.tokens)).logits
        loss = torch.nn.functional.cross_entropy(out.transpose(1, 2), torch.from_numpy(lm.labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
    lm = to_lm_batch(task.sample(np.random.default_rng(1), 64, 6))
    with torch.no_grad():
        return float(model(torch.from_numpy(lm.tokens)).logits.std())


def test_mup_coordinate_check_keeps_output_scale_flat_across_widths():
    widths = [32, 128, 512]
    mup = [logits_scale_after_training(w, "mup") for w in widths]
    standard = [logits_scale_after_training(w, "standard") for w in widths]
    mup_spread = max(mup) / min(mup)
    standard_spread = max(standard) / min(standard)
    assert mup_spread < 1.6, mup
    assert standard_spread > mup_spread, (standard, mup)


def test_mup_learning_rates_scale_with_width():
    model = build_model("transformer", 10, d_model=128, n_heads=4, parametrization="mup", base_width=32)
    opt = build_optimizer(model, TrainConfig(lr=1.0))
    lrs = sorted({g["lr"] for g in opt.param_groups})
    assert lrs == [0.25, 1.0]  # hidden matrices at base_width / width, the rest unchanged
    assert model.output_multiplier == 0.25 and float(model.head.weight.detach().abs().sum()) == 0.0


def test_mup_at_base_width_matches_standard_init_and_scales_weight_decay():
    import torch

    from lengthgen.models import build_model
    from lengthgen.training.loop import TrainConfig, build_optimizer

    def out_std(model):
        return torch.cat([b.attn.proj.weight.flatten() for b in model.blocks]).std().item()

    torch.manual_seed(0)
    std = build_model("transformer", 16, d_model=64, n_layers=4, n_heads=4)
    torch.manual_seed(0)
    mup = build_model("transformer", 16, d_model=64, n_layers=4, n_heads=4, parametrization="mup", base_width=64)
    assert abs(out_std(mup) / out_std(std) - 1) < 0.1  # depth scaling in both
    torch.manual_seed(0)
    wide = build_model("transformer", 16, d_model=256, n_layers=4, n_heads=4, parametrization="mup", base_width=64)
    groups = build_optimizer(wide, TrainConfig(weight_decay=0.01, lr=1e-3)).param_groups
    hidden = [g for g in groups if g["lr"] < 1e-3]
    assert hidden and all(g["weight_decay"] == pytest.approx(0.04) for g in hidden)  # m = 4
    assert all(g["lr"] * g["weight_decay"] == pytest.approx(1e-5) for g in hidden)
