"""Every model on every task; cache equivalence; modified heads; ACT."""

import numpy as np
import pytest
import torch

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.decode import greedy_decode
from lengthgen.models import build_model, trainable_models
from lengthgen.models.act import adaptive_computation
from lengthgen.models.positional import PE_KINDS, alibi_slopes, segment_positions
from lengthgen.tasks import TASKS, make_task
from lengthgen.training.data import to_lm_batch

TINY = {"d_model": 16, "n_heads": 2}


def tiny(name, vocab, **extra):
    opts = dict(TINY) if name != "lstm" else {"d_model": 16}
    if name in ("ut", "hyper-ut"):
        opts["max_steps"] = 3
    if name == "hyper-ut":
        opts["banks"] = 2
    if name == "looped":
        opts["max_loops"] = 8
    if name.startswith("transformer"):
        opts["n_layers"] = 2
    if extra.get("pe") in ("abacus", "abacus-rope"):
        opts["segment_tokens"] = [1, 5]  # abacus positions restart after these ids
    opts.update(extra)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return build_model(name, vocab, **opts)


@pytest.mark.parametrize("model_name", trainable_models())
@pytest.mark.parametrize("task_name", TASKS.names())
def test_forward_backward_every_model_every_task(model_name, task_name):
    task = make_task(task_name)
    batch = task.sample(np.random.default_rng(0), 4, max(task.min_length, min(4, task.max_length() or 4)))
    lm = to_lm_batch(batch)
    model = tiny(model_name, task.vocab_size)
    tokens = torch.from_numpy(lm.tokens)
    out = model(tokens, model.sample_positions(np.random.default_rng(0), *lm.tokens.shape))
    assert out.logits.shape == (*lm.tokens.shape, task.vocab_size)
    loss = torch.nn.functional.cross_entropy(out.logits.transpose(1, 2), torch.from_numpy(lm.labels))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads if g is not None)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("model_name", trainable_models())
def test_reports_size_and_flops(model_name):
    model = tiny(model_name, 20)
    assert model.num_parameters() == sum(p.numel() for p in model.parameters()) > 0
    assert model.flops_per_token(16) > 0
    assert model.flops_per_token(64) >= model.flops_per_token(16)


@pytest.mark.parametrize("pe", PE_KINDS)
@pytest.mark.parametrize("model_name", ["transformer", "transformer-modattn"])
def test_kv_cache_decoding_matches_recomputation(pe, model_name):
    model = tiny(model_name, 30, pe=pe).double().eval()
    if model_name == "transformer-modattn":  # make the identity terms matter
        for block in model.blocks:
            block.attn.a.data.uniform_(-1, 1)
            block.attn.b.data.uniform_(-1, 1)
    prompts = torch.randint(3, 30, (5, 7))
    positions = model.sample_positions(np.random.default_rng(1), 5, 7 + 12)
    cached, _ = greedy_decode(model, prompts, 12, positions, use_cache=True)
    full, _ = greedy_decode(model, prompts, 12, positions, use_cache=False)
    assert torch.equal(cached, full)


@pytest.mark.parametrize("pe", PE_KINDS)
def test_zero_scalars_reproduce_plain_head(pe):
    plain = tiny("transformer", 25, pe=pe)
    modified = tiny("transformer-modattn", 25, pe=pe)
    missing, unexpected = modified.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.endswith((".a", ".b")) for k in missing)
    tokens = torch.randint(0, 25, (3, 11))
    positions = plain.sample_positions(np.random.default_rng(0), 3, 11)
    assert torch.allclose(plain(tokens, positions).logits, modified(tokens, positions).logits, atol=1e-6)
    with torch.no_grad():
        modified.blocks[0].attn.b.fill_(1.0)
    assert not torch.allclose(plain(tokens, positions).logits, modified(tokens, positions).logits, atol=1e-4)


@pytest.mark.parametrize("bias", [-6.0, 0.0, 1.0, 6.0])
@pytest.mark.parametrize("max_steps", [1, 3, 5])
def test_act_weights_sum_to_one_and_respect_max_steps(bias, max_steps):
    torch.manual_seed(0)
    halting = torch.nn.Linear(8, 1)
    # extreme biases with a zero weight make the halting decision certain
    torch.nn.init.normal_(halting.weight, std=0.0 if abs(bias) == 6.0 else 1.0)
    torch.nn.init.constant_(halting.bias, bias)
    layer = torch.nn.Linear(8, 8)
    state = torch.randn(4, 6, 8)
    result = adaptive_computation(state, lambda s, t: torch.tanh(layer(s)), halting, max_steps)
    assert torch.allclose(result.weights_sum, torch.ones(4, 6), atol=1e-6)
    assert (result.steps >= 1).all() and (result.steps <= max_steps).all()
    assert (result.ponder >= result.steps).all() and (result.ponder <= result.steps + 1).all()
    if bias == -6.0:  # never confident: every position runs to the cap
        assert (result.steps == max_steps).all()
    if bias == 6.0:  # p > 0.99 at once: everyone halts after one step
        assert (result.steps == 1).all()


@pytest.mark.parametrize("model_name", ["ut", "hyper-ut"])
def test_act_models_report_steps(model_name):
    model = tiny(model_name, 12)
    out = model(torch.randint(0, 12, (2, 6)))
    assert out.steps.shape == (2, 6) and (out.steps <= 3).all() and (out.ponder > 0).all()


def test_act_models_are_causal():
    """Recomputation decoding relies on this: later tokens never change earlier outputs."""
    for name in ("ut", "hyper-ut", "lstm"):
        model = tiny(name, 12).double()
        x = torch.randint(0, 12, (2, 9))
        y = x.clone()
        y[:, 6:] = (y[:, 6:] + 1) % 12
        assert torch.allclose(model(x).logits[:, :6], model(y).logits[:, :6])


def test_hyper_ut_input_conditioning_changes_output():
    model = tiny("hyper-ut", 12, input_conditioned=True)
    with torch.no_grad():
        for m in model.hyper:
            if isinstance(m, torch.nn.Linear):
                m.weight.normal_(std=1.0)
    x = torch.tensor([[4, 5, 1, 6]])
    y = torch.tensor([[7, 8, 1, 6]])
    assert not torch.allclose(model(x).logits[:, -1], model(y).logits[:, -1])


@pytest.mark.parametrize("conditioned", [True, False])
def test_hyper_ut_generates_weights_per_input_only_when_conditioned(conditioned):
    """The generated block weights themselves (the mixture coefficients of
    every bank) differ between two inputs exactly when input-conditioned."""
    model = tiny("hyper-ut", 12, input_conditioned=conditioned)
    with torch.no_grad():
        for m in model.hyper:
            if isinstance(m, torch.nn.Linear):
                m.weight.normal_(std=1.0)
    two = torch.tensor([[4, 5, 1, 6], [7, 8, 1, 6]])
    h0 = model.embed(two, model.resolve_positions(two, None))
    model.before_step(0, h0, two)
    coeffs = model.mixtures[0].coeffs
    generated = coeffs.unsqueeze(-1).unsqueeze(-1) * model.mixtures[0].weight if coeffs.dim() == 2 else None
    if conditioned:
        assert coeffs.shape[0] == 2 and not torch.allclose(coeffs[0], coeffs[1])
        assert not torch.allclose(generated[0].sum(0), generated[1].sum(0))
    else:
        assert coeffs.dim() == 1  # one mixture for the whole batch: a step-indexed choice of weights


@pytest.mark.parametrize("decayed", [False, True])
def test_hyper_ut_biases_are_regularised_like_the_uts(decayed):
    from lengthgen.training.loop import TrainConfig, build_optimizer

    def bias_decay(model):
        decay_of = {
            id(p): g["weight_decay"] for g in build_optimizer(model, TrainConfig()).param_groups for p in g["params"]
        }
        return {decay_of[id(p)] for name, p in model.named_parameters() if name.endswith("bias")}

    ut = tiny("ut", 12)
    hyper = tiny("hyper-ut", 12, mixture_bias_decay=decayed)
    assert bias_decay(ut) == {0.0}
    assert bias_decay(hyper) == ({0.0, TrainConfig().weight_decay} if decayed else {0.0})


def test_looped_rows_run_their_own_counts_as_if_alone():
    model = tiny("looped", 12, steps_offset=1).double()
    rows = torch.tensor([[4, 5, 6, 7, 1, 8], [4, 1, 8, 9, 9, 9]])  # 4 and 1 input tokens: 5 and 2 loops
    assert model.loops(rows).tolist() == [5, 2]
    together = model(rows).logits
    for i in range(2):
        torch.testing.assert_close(together[i], model(rows[i : i + 1]).logits[0])


@pytest.mark.parametrize("pe", PE_KINDS)
def test_looped_kv_cache_decoding_matches_recomputation(pe):
    model = tiny("looped", 30, pe=pe, steps_offset=1).double().eval()
    prompts = torch.randint(3, 30, (4, 5))
    prompts[torch.arange(4), torch.tensor([4, 2, 0, 3])] = 1  # <sep>: inputs of 4, 2, 0, 3 tokens
    assert model.loops(prompts).tolist() == [5, 3, 1, 4]
    positions = model.sample_positions(np.random.default_rng(1), 4, 5 + 6)
    cached, cached_steps = greedy_decode(model, prompts, 6, positions, use_cache=True)
    full, full_steps = greedy_decode(model, prompts, 6, positions, use_cache=False)
    assert torch.equal(cached, full) and torch.equal(cached_steps, full_steps)
    # logits, not only their argmax: one cached step against the recomputed sequence
    cache = model.new_cache()
    model(prompts, None, cache)
    step = model(cached[:, :1], None, cache).logits[:, -1]
    torch.testing.assert_close(step, model(torch.cat([prompts, cached[:, :1]], 1)).logits[:, -1])


def test_looped_abacus_reads_places_as_the_transformer_does_with_offsets_in_training():
    """McLeish et al.'s record loops a block over abacus positions: the looped
    model indexes its table by the place in the number, batch offsets included."""
    looped = tiny("looped", 12, pe="abacus", abacus_offset=20, abacus_offset_draw="batch")
    transformer = tiny("transformer", 12, pe="abacus", abacus_offset=20, abacus_offset_draw="batch")
    tokens = torch.tensor([[3, 4, 6, 5, 7, 8, 9, 1, 2, 3]])  # "3 4 6 + 7 8 9 <sep> ..." with + = 5
    positions = torch.arange(10)[None, :]
    places = looped.encoding_positions(tokens, positions)
    assert places.tolist() == [[1, 2, 3, 0, 1, 2, 3, 0, 1, 2]]
    assert torch.equal(places, transformer.encoding_positions(tokens, positions))
    shifted = looped.sample_positions(np.random.default_rng(0), 3, 10, training=True)
    assert (shifted[:, 0] == shifted[0, 0]).all() and int(shifted[0, 0]) > 0  # one draw for the batch
    assert not torch.equal(looped(tokens, shifted[:1]).logits, looped(tokens).logits)


def test_looped_cache_refuses_a_prompt_without_sep():
    model = tiny("looped", 30)
    with pytest.raises(LengthgenError, match="<sep> in every prompt"):
        model(torch.randint(3, 30, (2, 5)), None, model.new_cache())


def test_looped_depth_grows_with_the_input_at_evaluation():
    task = make_task("parity")
    model = tiny("looped", task.vocab_size, steps_per_length=0.5)
    used = []
    for length in (4, 12):
        batch = task.sample(np.random.default_rng(0), 3, length)
        lm = to_lm_batch(batch)
        used.append(model(torch.from_numpy(lm.tokens)).steps[:, 0].tolist())
    assert used == [[2.0] * 3, [6.0] * 3]


def test_alibi_slopes():
    assert torch.allclose(alibi_slopes(8), torch.tensor([2.0 ** -(i + 1) for i in range(8)]))
    assert len(alibi_slopes(6)) == 6


def test_rope_depends_on_relative_position_only():
    model = tiny("transformer", 10, pe="rope").double()
    q = torch.randn(1, 2, 1, 8, dtype=torch.double)
    k = torch.randn(1, 2, 1, 8, dtype=torch.double)

    def score(i, j):
        qi = model.pe.rotate(q, torch.tensor([[i]]))
        kj = model.pe.rotate(k, torch.tensor([[j]]))
        return (qi * kj).sum(-1)

    assert torch.allclose(score(5, 3), score(105, 103))
    assert not torch.allclose(score(5, 3), score(5, 4))


@pytest.mark.parametrize("pe", ["randomized", "randomized-rope", "randomized-learned", "randomized-fire"])
def test_randomized_positions_sorted_subset(pe):
    model = tiny("transformer", 10, pe=pe, max_positions=64)
    pos = model.sample_positions(np.random.default_rng(0), 8, 20)
    assert pos.shape == (8, 20) and (np.diff(pos.numpy(), axis=1) > 0).all() and pos.max() < 64
    assert model(torch.randint(3, 10, (8, 20)), pos).logits.shape == (8, 20, 10)
    assert model.pe.bounded


def test_randomized_variants_feed_the_drawn_positions_to_their_encoding():
    """Ruoss et al.: randomized RoPE rotates by the drawn positions, the
    randomized learned table reads its rows at them."""
    from lengthgen.models.positional import PositionalEncoding

    positions = torch.tensor([[3, 17, 40]])
    x = torch.randn(1, 2, 3, 8)
    rope, randomized_rope = PositionalEncoding("rope", 16, 2), PositionalEncoding("randomized-rope", 16, 2, 64)
    assert torch.equal(randomized_rope.rotate(x, positions), rope.rotate(x, positions))
    learned = PositionalEncoding("randomized-learned", 16, 2, 64)
    assert torch.equal(learned.embed(positions), learned.table.weight[positions])
    assert PositionalEncoding("rope", 16, 2).sample_positions(np.random.default_rng(0), 2, 5) is None


def test_randomized_fire_biases_attention_by_the_drawn_positions():
    """Zhou et al. (2024): FIRE's bias computed at the randomized positions,
    so the same tokens at other drawn positions see another bias."""
    from lengthgen.models.positional import PositionalEncoding

    torch.manual_seed(0)
    randomized = PositionalEncoding("randomized-fire", 16, 2, 64)
    fire = PositionalEncoding("fire", 16, 2)
    fire.load_state_dict(randomized.state_dict())
    drawn = torch.as_tensor(randomized.sample_positions(np.random.default_rng(0), 1, 5, training=True))
    assert torch.equal(randomized.bias(drawn, drawn), fire.bias(drawn, drawn))
    plain = torch.arange(5)[None, :]
    assert not torch.allclose(randomized.bias(drawn, drawn), randomized.bias(plain, plain))
    assert randomized.embed(drawn) is None and randomized.bounded


def test_bounded_positions_error():
    model = tiny("transformer", 10, pe="learned", max_positions=8)
    with pytest.raises(LengthgenError, match="max_positions"):
        model(torch.zeros(1, 9, dtype=torch.long))


@pytest.mark.parametrize(
    "name,opts,message",
    [
        ("transformr", {}, "did you mean: transformer"),
        ("transformer", {"pe": "rotary"}, "unknown positional encoding"),
        ("transformer", {"d_modle": 8}, "did you mean: d_model"),
        ("transformer", {"d_model": 10, "n_heads": 4}, "divisible"),
        ("transformer", {"n_layers": 0}, ">= 1"),
        ("transformer", {"n_layers": 1.5}, "integer"),
        ("ut", {"ponder_weight": "x"}, "number"),
        ("lstm", {"pe": "rope"}, "no option 'pe'"),
        ("transformer-modattn", {"modified_heads": False}, "no option"),
    ],
)
def test_bad_model_options(name, opts, message):
    with pytest.raises(LengthgenError, match=message):
        build_model(name, 10, **opts)


def test_tied_embeddings_share_one_matrix():
    model = tiny("transformer", 20, tie_embeddings=True)
    assert model.head.weight is model.embedding.weight
    assert model.num_parameters() == tiny("transformer", 20).num_parameters() - 20 * 16
    with pytest.raises(LengthgenError, match="muP"):
        build_model("transformer", 20, d_model=16, n_heads=2, tie_embeddings=True, parametrization="mup")


@pytest.mark.parametrize("tie", [False, True])
def test_frozen_embeddings_do_not_move_and_the_rest_trains(tie):
    from lengthgen.training.loop import TrainConfig, build_optimizer

    model = tiny("transformer", 20, tie_embeddings=tie, freeze_embeddings=True)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = build_optimizer(model, TrainConfig())
    tokens = torch.randint(0, 20, (4, 6))
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(model(tokens).logits.flatten(0, 1), tokens.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = dict(model.named_parameters())
    assert torch.equal(after["embedding.weight"], before["embedding.weight"])
    assert tie == (model.head.weight is model.embedding.weight)
    if not tie:  # an untied readout still learns
        assert not torch.equal(after["head.weight"], before["head.weight"])
    assert not torch.equal(after["blocks.0.attn.qkv.weight"], before["blocks.0.attn.qkv.weight"])


def test_randomized_positions_are_drawn_per_row_for_its_own_length():
    """A short row in a batch padded for a long one must see the positions it
    would get alone (evaluation draws per row): with range 256, the last
    position of a 6-token sequence averages about 6/7 of 256, not the ~43 it
    got as the first 6 of 34 draws."""
    import numpy as np

    from lengthgen.models.positional import PositionalEncoding

    pe = PositionalEncoding("randomized", 16, 2, 256)
    rng = np.random.default_rng(0)
    rows = np.array([6] * 500 + [34] * 500)
    pos = pe.sample_positions(rng, len(rows), 34, rows)
    short_last = pos[:500, 5]
    alone = pe.sample_positions(np.random.default_rng(1), 500, 6)[:, -1]
    assert abs(short_last.mean() - alone.mean()) < 8 and short_last.mean() > 200
    assert (np.diff(pos, axis=1) >= 0).all() and (pos[:500, 6:] == pos[:500, 5:6]).all()  # padding repeats the last
    assert (np.diff(pos[500:], axis=1) > 0).all() and pos.max() < 256


def test_modified_heads_use_the_authors_multiplier_and_either_term():
    from lengthgen.models import build_model

    both = build_model("transformer-modattn", 12, d_model=16, n_heads=2, n_layers=1)
    attn = both.blocks[0].attn
    # the authors' code adds a * <x_i, x_j> with multiplier 1 (d**-0.5 learns sqrt(d) times slower)
    assert attn.identity_scale == 1.0 and hasattr(attn, "a") and hasattr(attn, "b")
    qk_model = build_model("transformer-modattn", 12, d_model=16, n_heads=2, n_layers=1, identity="qk")
    ov_model = build_model("transformer-modattn", 12, d_model=16, n_heads=2, n_layers=1, identity="ov")
    qk, ov = qk_model.blocks[0].attn, ov_model.blocks[0].attn
    assert hasattr(qk, "a") and not hasattr(qk, "b") and hasattr(ov, "b") and not hasattr(ov, "a")
    old = build_model("transformer-modattn", 12, d_model=16, n_heads=2, n_layers=1, identity_scale=0.25)
    assert old.blocks[0].attn.identity_scale == 0.25
    tokens = torch.randint(3, 12, (2, 6))
    for model in (both, qk_model, ov_model):
        assert model(tokens).logits.shape == (2, 6, 12)
    with pytest.raises(LengthgenError):
        build_model("transformer-modattn", 12, d_model=16, n_heads=2, identity="neither")
    with pytest.raises(LengthgenError):
        build_model("transformer-modattn", 12, d_model=16, n_heads=2, identity_scale=-1.0)


@pytest.mark.parametrize("pe", ["sinusoidal", "randomized"])
def test_token_embeddings_are_scaled_next_to_sinusoids(pe):
    """Sinusoid entries are ~1 and embeddings ~0.02: without a sqrt(d) scale,
    position swamps token identity at width 64."""
    from lengthgen.models import build_model

    model = build_model("transformer", 12, d_model=64, n_heads=4, pe=pe, max_positions=256)
    tokens = torch.tensor([[3, 4, 5, 6]])
    positions = torch.arange(4).unsqueeze(0)
    h = model.embed(tokens, positions)
    token_part = model.embedding(tokens) * 64**0.5
    # atol: subtracting the scaled embedding back rounds at ~1e-8 (the model's weights are unseeded)
    assert torch.allclose(h - token_part, model.pe.embed(positions), atol=1e-6)
    assert token_part.norm() / model.pe.embed(positions).norm() > 0.05


@pytest.mark.parametrize("model_name", ["ut", "hyper-ut"])
def test_ut_position_at_every_step_and_ponder_warmup(model_name):
    from lengthgen.models import build_model

    tokens = torch.randint(3, 12, (2, 6))
    torch.manual_seed(0)
    once = build_model(model_name, 12, d_model=16, n_heads=2, max_steps=3, pe="sinusoidal", halting_bias=-3.0)
    torch.manual_seed(0)
    every = build_model(
        model_name, 12, d_model=16, n_heads=2, max_steps=3, pe="sinusoidal", halting_bias=-3.0,
        position_every_step=True,
    )  # fmt: skip
    assert not torch.allclose(once(tokens).logits, every(tokens).logits)  # the signal enters at steps 1 and 2
    torch.manual_seed(0)
    none_pe = build_model(model_name, 12, d_model=16, n_heads=2, max_steps=3, pe="none", position_every_step=True)
    assert none_pe(tokens).logits.shape == (2, 6, 12)
    assert build_model(model_name, 12, d_model=16, n_heads=2, ponder_warmup=0).ponder_warmup == 0
    with pytest.raises(LengthgenError):
        build_model(model_name, 12, d_model=16, n_heads=2, ponder_warmup=-1)


def test_ponder_cost_ramps_up_over_warmup():
    from lengthgen.experiment import RunConfig, build
    from lengthgen.training.loop import TrainConfig, Trainer

    losses = {}
    for warmup in (0, 1000):
        cfg = RunConfig(
            task="parity",
            model="ut",
            model_options={"d_model": 16, "n_heads": 2, "max_steps": 3, "ponder_weight": 10.0, "ponder_warmup": warmup},
            train_lengths=[2, 3],
            test_lengths=[4],
            train=TrainConfig(steps=1, batch_size=4, warmup=1, eval_every=1, eval_examples=2),
        )
        _, _, model = build(cfg)
        trainer = Trainer(model, build(cfg)[0], cfg.train_lengths, cfg.train, 0, torch.device("cpu"), progress=False)
        losses[warmup] = trainer.train_step()[0]
    # with the ramp, step 0 pays 1/1000 of the ponder cost (N + R >= 1 per position, weight 10)
    assert losses[0] - losses[1000] > 9.0


@pytest.mark.parametrize("model_name", ["ut", "hyper-ut"])
def test_act_false_runs_every_step_for_every_position(model_name):
    from lengthgen.models import build_model

    torch.manual_seed(0)
    model = build_model(model_name, 12, d_model=16, n_heads=2, max_steps=5, act=False)
    out = model(torch.randint(3, 12, (3, 7)))
    assert out.ponder is None  # no ponder cost enters the loss
    assert bool((out.steps == 5).all())
    adaptive = build_model(model_name, 12, d_model=16, n_heads=2, max_steps=5, halting_bias=5.0)
    assert float(adaptive(torch.randint(3, 12, (3, 7))).steps.mean()) < 5  # ACT halts early with a high bias


@pytest.mark.parametrize("model_name", ["ut", "hyper-ut"])
def test_halting_start_runs_a_fixed_step_phase_first(model_name):
    from lengthgen.models import build_model

    tokens = torch.randint(3, 12, (3, 7))
    torch.manual_seed(0)
    fixed = build_model(model_name, 12, d_model=16, n_heads=2, max_steps=4, act=False)
    torch.manual_seed(0)
    model = build_model(model_name, 12, d_model=16, n_heads=2, max_steps=4, halting_bias=5.0, halting_start=10)
    assert not model.fixed_phase  # built outside training: it halts
    assert float(model(tokens).steps.mean()) < 4
    model.set_training_step(9)
    out = model(tokens)
    # the fixed-step phase is exactly the fixed-step UT with the same weights
    assert out.ponder is None and bool((out.steps == 4).all())
    assert torch.allclose(out.logits, fixed(tokens).logits)
    model.set_training_step(10)
    assert model(tokens).ponder is not None and float(model(tokens).steps.mean()) < 4
    with pytest.raises(LengthgenError, match="needs act=true"):
        build_model(model_name, 12, d_model=16, n_heads=2, act=False, halting_start=5)
    with pytest.raises(LengthgenError, match=">= 0"):
        build_model(model_name, 12, d_model=16, n_heads=2, halting_start=-1)


def test_fire_threshold_moves_by_hundreds_of_positions_per_step():
    """The paper's parametrisation L = 512 * m: one Adam step (lr 1e-3) moves
    L by about 0.5 positions; a raw parameter started at 512 moves by 0.001."""
    from lengthgen.models.positional import FireBias

    torch.manual_seed(0)
    fire = FireBias(n_heads=2)
    assert fire.threshold.item() == 512.0 and fire.c.item() == pytest.approx(0.1)
    opt = torch.optim.Adam(fire.parameters(), lr=1e-3)
    q = torch.arange(600.0)[None, :]
    fire(q, q).sum().backward()  # queries past L make the threshold matter
    opt.step()
    assert abs(fire.threshold.item() - 512.0) == pytest.approx(0.512, rel=0.01)


def test_fire_normalized_distances_at_test_lengths_stay_in_the_training_range_once_l_is_small():
    from lengthgen.models.positional import FireBias

    fire = FireBias(n_heads=2)
    train, test = torch.arange(20)[None, :], torch.arange(80)[None, :]
    with torch.no_grad():
        at_init = fire.normalized(train, train).max(), fire.normalized(test, test).max()
        fire.threshold_multiplier.fill_(16 / 512)  # L learned down to the training lengths
        learned = fire.normalized(train, train).max(), fire.normalized(test, test).max()
    assert at_init[1] > at_init[0] + 0.1  # at L = 512 test inputs leave the training range
    assert learned[1] <= 1.0 + 1e-6 and learned[0] > 0.9  # at small L both cover [0, 1]


def test_fire_runs_carry_the_encoding_version():
    from lengthgen.experiment import RunConfig

    fire = RunConfig(task="parity", model_options={"pe": "fire"})
    assert fire.identity()["pe_version"] == 2
    assert "pe_version" not in RunConfig(task="parity", model_options={"pe": "rope"}).identity()


REVERSED_ADDITION = make_task("addition", reversed=True)


def addition_model(pe="abacus", **extra):
    """A tiny transformer with abacus segments for reversed addition."""
    task = REVERSED_ADDITION
    return build_model(
        "transformer", task.vocab_size, task.vocab, d_model=16, pe=pe, segment_tokens=["+", "<sep>"], **extra
    )


def test_abacus_indexes_digits_by_their_place_in_the_number():
    task, model = REVERSED_ADDITION, addition_model()
    lm = to_lm_batch(task.sample(np.random.default_rng(0), 8, 5))
    tokens = torch.from_numpy(lm.tokens)
    index, _ = segment_positions(tokens, torch.arange(tokens.shape[1]).expand_as(tokens), model.segment_ids)
    for row, idx in zip(tokens.tolist(), index.tolist()):
        plus, sep = row.index(task.id("+")), row.index(task.id("<sep>"))
        # digit k of each operand and of the sum (least significant first) all
        # get index k + 1; the segment tokens get 0, shared with no digit
        assert idx[:plus] == list(range(1, plus + 1))
        assert idx[plus + 1 : sep] == list(range(1, sep - plus))
        assert idx[sep + 1 : sep + 6] == list(range(1, 6))
        assert idx[plus] == idx[sep] == 0
    # the table is read at those indices, not at sequence positions
    with torch.no_grad():
        model.pe.table.weight[8:].fill_(100.0)
        model.embedding.weight.zero_()
    encoded = model.encoding_positions(tokens[:, :6], torch.arange(6).expand(8, 6))
    assert model.embed(tokens[:, :6], encoded).abs().max() < 100


def test_abacus_rope_attends_by_the_difference_of_places_in_the_number():
    # two sequences whose numbers sit at different sequence positions but the
    # same places: with rotations by place, the first layer's attention
    # pattern between digits is the same
    task, model = REVERSED_ADDITION, addition_model("abacus-rope", n_heads=2)
    assert model.pe.embed(torch.zeros(1, 3, dtype=torch.long)) is None  # nothing added: rotation only
    ids = task.ids
    short = torch.from_numpy(ids(["3", "+", "4"]))[None]
    longer = torch.from_numpy(ids(["7", "5", "3", "+", "4"]))[None]
    enc_short = model.encoding_positions(short, torch.arange(3)[None])
    enc_long = model.encoding_positions(longer, torch.arange(5)[None])
    assert enc_short.tolist() == [[1, 0, 1]] and enc_long.tolist() == [[1, 2, 3, 0, 1]]
    rot_short, rot_long = model.pe.rotation(enc_short), model.pe.rotation(enc_long)
    # '4' (place 1 after '+') is rotated as '3' of the short sequence and '7' of the long one
    assert torch.equal(rot_short[0][..., 2, :], rot_long[0][..., 4, :])
    assert torch.equal(rot_long[0][..., 0, :], rot_long[0][..., 4, :])


def test_segment_ends_take_the_place_after_the_number_they_close():
    ids = torch.tensor([[5, 6, 7, 2, 8, 9, 4, 1, 3, 3]])  # a 3-digit number, '2', two digits, '4', '1' opens
    pos = torch.arange(10)[None]
    index, _ = segment_positions(ids, pos, torch.tensor([1, 2, 4]), end_ids=torch.tensor([2, 4]))
    assert index.tolist() == [[1, 2, 3, 4, 1, 2, 3, 0, 1, 2]]
    task, model = REVERSED_ADDITION, addition_model("abacus-rope", segment_ends=["+"])
    assert model.segment_end_ids.tolist() == [task.id("+")]
    with pytest.raises(LengthgenError, match="among the segment_tokens"):
        build_model(
            "transformer", task.vocab_size, task.vocab, pe="abacus-rope", segment_tokens=["<sep>"], segment_ends=["+"]
        )
    with pytest.raises(LengthgenError, match="segment_ends only applies to pe 'abacus' or 'abacus-rope'"):
        build_model("transformer", task.vocab_size, task.vocab, pe="rope", segment_ends=["+"])
    # a single token name is a one-token list
    one = build_model(
        "transformer", task.vocab_size, task.vocab, pe="abacus-rope", segment_tokens=["+", "<sep>"], segment_ends="+"
    )
    assert one.segment_end_ids.tolist() == [task.id("+")]


def test_abacus_carries_the_segment_across_cached_decoding_steps():
    ids = torch.tensor([[4, 5, 1, 6, 7, 8, 1, 9, 9]])
    pos = torch.arange(9)[None]
    whole, _ = segment_positions(ids, pos, torch.tensor([1]))
    first, last = segment_positions(ids[:, :4], pos[:, :4], torch.tensor([1]))
    rest, _ = segment_positions(ids[:, 4:], pos[:, 4:], torch.tensor([1]), last)
    assert torch.cat([first, rest], 1).tolist() == whole.tolist() == [[1, 2, 0, 1, 2, 3, 0, 1, 2]]


def test_abacus_offset_shifts_training_rows_only_and_raises_every_index():
    task, model = REVERSED_ADDITION, addition_model(abacus_offset=20)
    rng = np.random.default_rng(0)
    assert model.sample_positions(rng, 4, 9) is None  # evaluation: no offset
    drawn = model.sample_positions(rng, 200, 9, training=True)
    shift = drawn[:, :1]
    assert torch.equal(drawn - shift, torch.arange(9).expand(200, 9))
    assert int(shift.min()) >= 0 and int(shift.max()) <= 20 and len(set(shift.flatten().tolist())) > 10
    ids = torch.tensor([[5, 6, 1, 7]])
    index, _ = segment_positions(ids, torch.arange(3, 7)[None], torch.tensor([1]), origin=torch.tensor([3]))
    assert index.tolist() == [[4, 5, 0, 4]]  # k + 1 + origin inside segments, 0 on the segment token
    # decoding a shifted row with a cache matches recomputing it
    model = model.double().eval()
    prompts = torch.from_numpy(to_lm_batch(task.sample(rng, 3, 4)).tokens[:, :10])
    positions = torch.arange(7, 7 + 10 + 6).expand(3, 16)
    cached, _ = greedy_decode(model, prompts, 6, positions, use_cache=True)
    full, _ = greedy_decode(model, prompts, 6, positions, use_cache=False)
    assert torch.equal(cached, full)


@pytest.mark.parametrize(
    "opts,message",
    [
        ({"pe": "abacus"}, "needs segment_tokens"),
        ({"pe": "rope", "abacus_offset": 5}, "abacus_offset only applies"),
        ({"pe": "abacus-rope", "segment_tokens": ["+"], "abacus_offset": 5}, "abacus_offset only applies"),
        ({"pe": "abacus-rope"}, "needs segment_tokens"),
        ({"pe": "abacus", "segment_tokens": ["+"], "abacus_offset": -1}, "must be >= 0"),
        ({"pe": "rope", "segment_tokens": ["+"]}, "segment_tokens only applies to pe 'abacus'"),
        ({"pe": "abacus", "segment_tokens": ["<sepp>"]}, "did you mean"),
        ({"pe": "abacus", "segment_tokens": ["plus"]}, r"tokens: <pad> <sep> <eos> 0 1"),
        ({"pe": "abacus", "segment_tokens": {"+": 1}}, "list of token names"),
        ({"pe": "abacus", "segment_tokens": [True]}, "list of token names"),
        ({"pe": "abacus", "segment_tokens": [99]}, "token ids in 0..13"),
    ],
)
def test_abacus_option_errors(opts, message):
    task = make_task("addition")
    with pytest.raises(LengthgenError, match=message):
        build_model("transformer", task.vocab_size, task.vocab, **opts)


def test_abacus_offset_drawn_once_per_batch_when_asked():
    model = addition_model(abacus_offset=20, abacus_offset_draw="batch")
    rng = np.random.default_rng(1)
    shifts = set()
    for _ in range(30):
        drawn = model.sample_positions(rng, 8, 9, training=True)
        assert len(set(drawn[:, 0].tolist())) == 1  # one offset for every row of the batch
        shifts.add(int(drawn[0, 0]))
    assert len(shifts) > 5 and max(shifts) <= 20
    with pytest.raises(LengthgenError, match="abacus_offset_draw must be one of"):
        addition_model(abacus_offset=20, abacus_offset_draw="example")
    with pytest.raises(LengthgenError, match="abacus_offset_draw only applies"):
        task = REVERSED_ADDITION
        build_model("transformer", task.vocab_size, task.vocab, d_model=16, pe="rope", abacus_offset_draw="batch")


def _sum_tokens(a: int, b: int, width: int) -> torch.Tensor:
    """``a + b`` as a reversed-addition prompt (operands ``width`` digits)."""
    task = REVERSED_ADDITION
    digits = lambda x: list(str(x).zfill(width))[::-1]  # noqa: E731
    return torch.from_numpy(task.ids([*digits(a), "+", *digits(b), "<sep>"]))[None]


@pytest.mark.parametrize("pe", ["abacus", "abacus-rope"])
def test_place_window_hides_far_digits_through_every_layer(pe):
    """With window 1 and 2 layers a token's output depends on places within
    2 of its own (and on what + and <sep> saw: places up to 3), so a change at
    place 9 leaves the units side untouched, and without the window it does not."""
    windowed = addition_model(pe=pe, place_window=1, n_layers=2).double().eval()
    plain = addition_model(pe=pe, n_layers=2).double().eval()
    before, after = _sum_tokens(1234567891, 2222222222, 10), _sum_tokens(1034567891, 2222222222, 10)
    near = [0, 1, 2, 3, 11, 12, 13, 14]  # places 1-4 of both operands
    with torch.no_grad():
        same = windowed(before).logits[0, near] - windowed(after).logits[0, near]
        moved = plain(before).logits[0, near] - plain(after).logits[0, near]
        assert same.abs().max() < 1e-12
        assert moved.abs().max() > 1e-6
        # the far change still reaches its neighbour, place 10
        assert (windowed(before).logits[0, 9] - windowed(after).logits[0, 9]).abs().max() > 1e-6


def test_place_window_is_the_same_rule_under_abacus_offsets_and_with_a_cache():
    task, model = REVERSED_ADDITION, addition_model(place_window=2, abacus_offset=20).double().eval()
    prompts = torch.from_numpy(to_lm_batch(task.sample(np.random.default_rng(3), 3, 6)).tokens[:, :14])
    shifted = torch.arange(9, 9 + 14 + 8).expand(3, 22)  # a training row's offset, kept at decoding
    encoded = model.encoding_positions(prompts, shifted[:, :14])
    places = model.places(shifted[:, :14], encoded, None)
    plain = model.encoding_positions(prompts, torch.arange(14).expand(3, 14))
    assert torch.equal(places, plain)  # the window reads places, not offset ids
    cached, _ = greedy_decode(model, prompts, 8, shifted, use_cache=True)
    full, _ = greedy_decode(model, prompts, 8, shifted, use_cache=False)
    assert torch.equal(cached, full)


@pytest.mark.parametrize(
    "opts,message",
    [
        ({"pe": "rope", "place_window": 2}, "needs pe 'abacus' or 'abacus-rope'"),
        ({"pe": "abacus", "segment_tokens": ["+"], "place_window": -1}, "must be >= 0"),
        ({"pe": "abacus", "segment_tokens": ["+"], "place_window": True}, "place_window"),
    ],
)
def test_place_window_errors(opts, message):
    task = make_task("addition")
    with pytest.raises(LengthgenError, match=message):
        build_model("transformer", task.vocab_size, task.vocab, **opts)


def test_abacus_table_is_sized_by_place_not_by_sequence_position():
    """McLeish et al.'s set-up: a table of places far shorter than the sequences."""
    model = addition_model(max_positions=12).eval()
    rng = np.random.default_rng(0)
    lm = to_lm_batch(REVERSED_ADDITION.sample(rng, 4, 10))  # 10-digit sums: sequences of about 35 tokens
    tokens = torch.from_numpy(lm.tokens)
    assert tokens.shape[1] > 12
    with torch.no_grad():
        assert model(tokens).logits.shape[:2] == tokens.shape  # places <= 11 fit the 13-row table
    longer = torch.from_numpy(to_lm_batch(REVERSED_ADDITION.sample(rng, 2, 14)).tokens)
    with pytest.raises(LengthgenError, match="abacus index 1[345]"):
        model(longer)
