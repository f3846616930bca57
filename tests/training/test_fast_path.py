"""The training speed-ups compute what the plain path computes.

Exact (bit for bit): RoPE's factors computed once per forward and applied
with a roll, the multi-tensor AdamW, positions resolved without reading a
tensor.  Within a stated tolerance: ``torch.compile`` of the training
forward, whose kernels may sum in another order.
"""

import warnings

import pytest
import torch

from lengthgen.experiment import RunConfig, build
from lengthgen.models.positional import PositionalEncoding
from lengthgen.training.loop import TrainConfig, Trainer

CPU = torch.device("cpu")


def rope_by_halves(x, positions, head_dim):
    """RoPE as first written: slice the two halves, rotate each pair, concatenate."""
    half = head_dim // 2
    inv = 1.0 / (10000.0 ** (torch.arange(half, dtype=torch.float32) / half))
    angles = positions.float().unsqueeze(-1) * inv
    cos, sin = angles.cos().unsqueeze(1), angles.sin().unsqueeze(1)
    x1, x2, rest = x[..., :half], x[..., half : 2 * half], x[..., 2 * half :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos, rest], dim=-1)


@pytest.mark.parametrize("d_model,n_heads", [(64, 4), (60, 4), (20, 4), (8, 4)])
def test_rope_roll_equals_rotation_by_halves_bit_for_bit(d_model, n_heads):
    head_dim = d_model // n_heads
    pe = PositionalEncoding("rope", d_model, n_heads)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, n_heads, 11, head_dim, generator=gen)
    positions = torch.randint(0, 500, (3, 11), generator=gen)
    weights = torch.randn(3, n_heads, 11, head_dim, generator=gen)
    grads = []
    for rotate in (lambda t: pe.rotate(t, positions), lambda t: rope_by_halves(t, positions, head_dim)):
        leaf = x.clone().requires_grad_(True)
        out = rotate(leaf)
        (out * weights).sum().backward()
        grads.append((out.detach(), leaf.grad))
    assert torch.equal(grads[0][0], grads[1][0])
    assert torch.equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("model_name", ["transformer", "transformer-modattn"])
def test_rotation_shared_by_layers_equals_rotation_per_layer(model_name):
    cfg = RunConfig(task="copy-unique", model=model_name, model_options={"d_model": 32, "n_heads": 4, "pe": "rope"})
    model = build(cfg)[2]
    tokens = torch.randint(3, model.vocab_size, (4, 9))
    # the forward pass with every attention layer computing its own factors
    positions = model.resolve_positions(tokens, None)
    h = model.embed(tokens, positions)
    for block in model.blocks:
        h = block(h, model.pe, positions, model.pe.bias(positions, positions), None, None)
    assert torch.equal(model(tokens).logits, model.readout(h).logits)


def small_trainer(optimizer_foreach=None, compile=False, model_name="transformer"):
    cfg = RunConfig(
        task="copy-unique",
        model=model_name,
        model_options={"d_model": 32, "n_heads": 4, "pe": "rope"},
        train_lengths=[2, 3, 4, 5],
        train=TrainConfig(steps=20, batch_size=8, warmup=2, eval_every=10, eval_examples=4),
    )
    task, _, model = build(cfg)
    trainer = Trainer(model, task, cfg.train_lengths, cfg.train, 0, CPU, progress=False, compile=compile)
    if optimizer_foreach is not None:
        for group in trainer.optimizer.param_groups:
            group["foreach"] = optimizer_foreach
    return trainer


def test_multi_tensor_adamw_trains_bit_for_bit_like_the_loop():
    losses = {}
    for foreach in (True, False):
        trainer = small_trainer(optimizer_foreach=foreach)
        losses[foreach] = [trainer.train_step()[0] for _ in range(8)]
        losses[foreach].append(torch.cat([p.detach().flatten() for p in trainer.model.parameters()]))
    assert losses[True][:-1] == losses[False][:-1]
    assert torch.equal(losses[True][-1], losses[False][-1])


def test_the_trainer_uses_the_multi_tensor_adamw():
    trainer = small_trainer()
    assert all(group["foreach"] for group in trainer.optimizer.param_groups)


def test_compile_falls_back_to_eager_with_a_warning(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(torch, "compile", broken)
    with pytest.warns(UserWarning, match="torch.compile unavailable"):
        fallback = small_trainer(compile=True)
    eager = small_trainer()
    assert [fallback.train_step()[0] for _ in range(4)] == [eager.train_step()[0] for _ in range(4)]


def test_compile_failing_at_the_first_call_falls_back(monkeypatch):
    def compiled_that_fails(model, **kwargs):
        def call(*args, **kw):
            raise RuntimeError("inductor: unsupported op")

        return call

    monkeypatch.setattr(torch, "compile", compiled_that_fails)
    trainer = small_trainer(compile=True)
    eager = small_trainer()
    with pytest.warns(UserWarning, match="torch.compile failed"):
        first = trainer.train_step()[0]
    assert first == eager.train_step()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, then eager without retrying
        assert trainer.train_step()[0] == eager.train_step()[0]


def test_compile_is_not_part_of_a_runs_identity():
    plain = RunConfig(task="parity", train_lengths=[2], test_lengths=[3])
    compiled = RunConfig(task="parity", train_lengths=[2], test_lengths=[3], compile=True)
    assert plain.fingerprint() == compiled.fingerprint()


@pytest.mark.slow
def test_compiled_training_matches_eager_within_tolerance():
    # compiled kernels may reorder floating-point sums: losses agree to 1e-4
    # relative over 10 steps, and the trained models decode the same tokens
    compiled, eager = small_trainer(compile=True), small_trainer()
    a = [compiled.train_step()[0] for _ in range(10)]
    b = [eager.train_step()[0] for _ in range(10)]
    assert a == pytest.approx(b, rel=1e-4)
    tokens = torch.randint(3, eager.model.vocab_size, (6, 7))
    with torch.no_grad():
        assert torch.equal(compiled.model(tokens).logits.argmax(-1), eager.model(tokens).logits.argmax(-1))
