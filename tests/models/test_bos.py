"""The transformer's start vector (``bos``): Huang et al.'s ``<bos>`` as a
learned row the model puts before every sequence it reads."""

import numpy as np
import pytest
import torch

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.decode import greedy_decode
from lengthgen.experiment import RunConfig, build, make_trainer
from lengthgen.models import build_model
from lengthgen.models.positional import PE_KINDS, RANDOMIZED_KINDS, SEGMENT_KINDS
from lengthgen.training.loop import TrainConfig

KINDS = [k for k in PE_KINDS if k not in SEGMENT_KINDS and k not in RANDOMIZED_KINDS]


def model(pe="learned", vocab=12, **opts):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        out = build_model("transformer", vocab, d_model=16, n_heads=2, n_layers=2, pe=pe, max_positions=40, **opts)
    return out.double().eval()


@pytest.mark.parametrize("pe", KINDS)
def test_the_start_vector_is_an_extra_first_token_the_model_never_scores(pe):
    # the same weights without bos, reading a token whose embedding is the start vector first
    ours, plain = model(pe, bos=True), model(pe)
    plain.load_state_dict({k: v for k, v in ours.state_dict().items() if k != "start"})
    plain.embedding.weight.data[11] = ours.start.data
    tokens = torch.randint(3, 11, (4, 9))
    offsets = torch.tensor([[0], [3], [7], [20]])
    positions = offsets + torch.arange(9)
    mine = ours(tokens, positions).logits
    theirs = plain(torch.cat([torch.full((4, 1), 11), tokens], 1), torch.cat([offsets, positions + 1], 1)).logits
    assert mine.shape == (4, 9, 12)
    assert torch.allclose(mine, theirs[:, 1:])
    # positions left out: 0, 1, 2, ... with the start vector at 0
    assert torch.allclose(ours(tokens).logits, plain(torch.cat([torch.full((4, 1), 11), tokens], 1)).logits[:, 1:])


@pytest.mark.parametrize("pe", KINDS)
def test_cached_decoding_matches_recomputation_with_a_start_vector(pe):
    m = model(pe, bos=True)
    m.start.data.normal_(0, 1)  # make it matter
    prompts = torch.randint(3, 12, (5, 6))
    positions = torch.arange(6 + 10).expand(5, -1) + torch.tensor([[0], [1], [2], [5], [9]])
    cached, _ = greedy_decode(m, prompts, 10, positions, use_cache=True)
    full, _ = greedy_decode(m, prompts, 10, positions, use_cache=False)
    assert torch.equal(cached, full)


def test_every_position_reads_the_start_vector():
    m = model(bos=True)
    tokens = torch.randint(3, 12, (2, 7))
    before = m(tokens).logits
    m.start.data.normal_(0, 1)  # (a constant shift would vanish in the layer norm)
    after = m(tokens).logits
    assert ((before - after).abs().amax(dim=-1) > 1e-6).all()
    assert not hasattr(model(), "start")  # off by default: the model it was before


@pytest.mark.parametrize(
    "opts, message",
    [
        ({"pe": "abacus", "segment_tokens": [1]}, "does not combine with pe 'abacus'"),
        ({"pe": "randomized-learned"}, "draws positions itself"),
        ({"parametrization": "mup"}, "standard parametrization"),
    ],
)
def test_bos_refuses_what_it_cannot_serve(opts, message):
    with pytest.raises(LengthgenError, match=message):
        build_model("transformer", 12, d_model=16, n_heads=2, bos=True, **opts)


def config(bos, max_positions=40, **train):
    options = {"d_model": 16, "n_heads": 2, "n_layers": 1, "pe": "learned", "max_positions": max_positions}
    return RunConfig(
        task="copy-unique",
        params={"alphabet": 16},
        model="transformer",
        model_options={**options, **({"bos": True} if bos else {})},
        train_lengths=[1, 2, 3, 4],
        test_lengths=[12],
        seed=1,
        train=TrainConfig(steps=3, batch_size=8, warmup=1, eval_every=1000, eval_examples=8, **train),
    )


def test_a_run_with_a_start_vector_trains_it_and_is_another_run():
    cfg = config(True, position_offset="example")
    task, test_task, m = build(cfg)
    trainer = make_trainer(cfg, task, test_task, m, torch.device("cpu"), progress=False)
    before = m.start.detach().clone()
    for _ in range(3):
        trainer.train_step()
    assert not torch.equal(before, m.start)
    assert cfg.fingerprint() != config(False, position_offset="example").fingerprint()
    assert config(False).fingerprint() == RunConfig(**{**config(False).__dict__, "model_options": {**config(False).model_options, "bos": False}}).fingerprint()  # fmt: skip


def test_offsets_and_packing_account_for_the_start_vector():
    # copy-unique at 12 reads 25 tokens (positions 0..24); the start vector takes one more
    cfg = config(True, max_positions=25, position_offset="example")
    task, test_task, m = build(cfg)
    with pytest.raises(LengthgenError, match="max_positions >= 26"):
        make_trainer(cfg, task, test_task, m, torch.device("cpu"), progress=False)
    cfg = config(True, pack_examples=True)
    task, test_task, m = build(cfg)
    with pytest.raises(LengthgenError, match="opens a row, not each packed example"):
        make_trainer(cfg, task, test_task, m, torch.device("cpu"), progress=False)


def test_evaluation_scores_a_start_vector_model_by_greedy_decoding():
    from lengthgen.evaluation.evaluate import evaluate_length
    from lengthgen.tasks import make_task

    task = make_task("copy-unique", alphabet=40)
    m = model(bos=True, vocab=task.vocab_size)
    counts = evaluate_length(m, task, 5, 16, np.random.default_rng(0), torch.device("cpu"))
    assert counts.examples == 16
    # copy at 19 reads 19 + 1 + 20 tokens: all 40 table rows without the start vector, 41 with it
    evaluate_length(model(vocab=task.vocab_size), task, 19, 2, np.random.default_rng(0), torch.device("cpu"))
    with pytest.raises(LengthgenError, match="needs 41 positions"):
        evaluate_length(m, task, 19, 2, np.random.default_rng(0), torch.device("cpu"))


def test_a_scored_start_vector_is_one_more_class_of_the_tied_readout():
    plain, scored = model(bos=True, tie_embeddings=True), model(bos=True, tie_embeddings=True, bos_scored=True)
    # the option draws nothing: the same seed gives the same weights
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), scored.state_dict().values()))
    tokens = torch.randint(3, 12, (3, 8))
    out, base = scored(tokens), plain(tokens)
    assert out.logits.shape == (3, 8, 13)
    assert torch.allclose(out.logits[..., :12], base.logits)
    assert torch.allclose(out.logits[..., 12], out.hidden @ scored.start)
    # the class's number is read as the start vector, as Huang et al.'s <bos>
    # token is: compare with a plain model whose (tied) row 11 is the start
    # vector, on inputs without token 11, and leave class 11 out
    again = torch.randint(3, 11, (3, 8))
    again[:, 4] = 12
    plain.embedding.weight.data[11] = scored.start.data
    keep = [c for c in range(12) if c != 11]
    assert torch.allclose(scored(again).logits[..., keep], plain(torch.where(again == 12, 11, again)).logits[..., keep])


def test_a_scored_start_vector_learns_from_the_readout():
    def start_grad(m):
        tokens = torch.randint(3, 12, (4, 8))
        logits = m(tokens).logits
        torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1)
        ).backward()
        return m.start.grad.clone()

    torch.manual_seed(1)
    plain = start_grad(model(bos=True, tie_embeddings=True))
    torch.manual_seed(1)
    scored = start_grad(model(bos=True, tie_embeddings=True, bos_scored=True))
    assert not torch.allclose(plain, scored)


def test_bos_score_grad_splits_the_start_logits_gradient_between_its_two_sides():
    # the start logit is hidden . start: "start" lets only the start vector
    # learn from it, "hidden" only the network below the readout; their
    # gradients add up to the tied readout's ("both"), and the logits agree
    tokens = torch.randint(3, 12, (4, 8))
    grads, logits = {}, {}
    for side in ("both", "start", "hidden"):
        m = model(bos=True, tie_embeddings=True, bos_scored=True, bos_score_grad=side)
        out = m(tokens).logits
        logits[side] = out.detach()
        out[..., -1].sum().backward()
        grads[side] = {
            k: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for k, p in m.named_parameters()
        }
    assert torch.equal(logits["both"], logits["start"]) and torch.equal(logits["both"], logits["hidden"])
    block = (
        "blocks.0.attn.qkv.weight"
        if "blocks.0.attn.qkv.weight" in grads["both"]
        else next(k for k in grads["both"] if k.startswith("blocks.0.") and k.endswith("weight"))
    )
    assert grads["start"][block].abs().max() == 0  # nothing below the readout learns from it
    assert grads["hidden"][block].abs().max() > 0
    assert torch.allclose(grads["hidden"][block], grads["both"][block])
    assert grads["start"]["start"].abs().max() > 0 and grads["hidden"]["start"].abs().max() > 0
    assert torch.allclose(grads["start"]["start"] + grads["hidden"]["start"], grads["both"]["start"])


@pytest.mark.parametrize(
    "opts, message",
    [
        ({"bos_scored": True, "bos_score_grad": "readout"}, "bos_score_grad must be one of both, start, hidden"),
        ({"bos_score_grad": "start"}, "changes nothing without bos_scored"),
    ],
)
def test_bos_score_grad_refuses_a_misuse(opts, message):
    with pytest.raises(LengthgenError, match=message):
        build_model("transformer", 12, d_model=16, n_heads=2, bos=True, tie_embeddings=True, **opts)


def test_cached_decoding_matches_recomputation_with_a_scored_start_vector():
    m = model(bos=True, tie_embeddings=True, bos_scored=True)
    m.start.data.normal_(0, 1)
    prompts = torch.randint(3, 12, (5, 6))
    positions = torch.arange(6 + 10).expand(5, -1)
    cached, _ = greedy_decode(m, prompts, 10, positions, use_cache=True)
    full, _ = greedy_decode(m, prompts, 10, positions, use_cache=False)
    assert torch.equal(cached, full)


@pytest.mark.parametrize(
    "opts, message",
    [({"bos": True}, "needs bos and tie_embeddings"), ({"tie_embeddings": True}, "needs bos and tie_embeddings")],
)
def test_a_scored_start_vector_needs_a_start_vector_and_a_tied_readout(opts, message):
    with pytest.raises(LengthgenError, match=message):
        build_model("transformer", 12, d_model=16, n_heads=2, bos_scored=True, **opts)


def test_the_tanh_gelu_is_gpt2s_and_changes_the_function():
    exact, tanh = model(), model(activation="gelu_tanh")
    tokens = torch.randint(3, 12, (2, 7))
    assert torch.equal(exact.state_dict()["embedding.weight"], tanh.state_dict()["embedding.weight"])
    assert not torch.allclose(exact(tokens).logits, tanh(tokens).logits, atol=1e-9)
    x = torch.linspace(-4, 4, 101, dtype=torch.double)
    gpt2 = 0.5 * x * (1 + torch.tanh((2 / torch.pi) ** 0.5 * (x + 0.044715 * x**3)))
    assert torch.allclose(tanh.blocks[0].mlp[1](x), gpt2)
    with pytest.raises(LengthgenError, match="activation must be one of gelu, gelu_tanh"):
        build_model("transformer", 12, d_model=16, n_heads=2, activation="relu")


def test_the_two_options_enter_a_runs_identity_only_when_set():
    base = config(True)
    same = RunConfig(
        **{**base.__dict__, "model_options": {**base.model_options, "bos_scored": False, "activation": "gelu"}}
    )
    assert base.fingerprint() == same.fingerprint()
    for extra in (
        {"bos_scored": True, "tie_embeddings": True},
        {"activation": "gelu_tanh"},
        {"bos_scored": True, "tie_embeddings": True, "bos_score_grad": "start"},
    ):
        other = RunConfig(**{**base.__dict__, "model_options": {**base.model_options, **extra}})
        assert other.fingerprint() != base.fingerprint()
    scored = {**base.model_options, "bos_scored": True, "tie_embeddings": True}
    tied = RunConfig(**{**base.__dict__, "model_options": scored})
    both = RunConfig(**{**base.__dict__, "model_options": {**scored, "bos_score_grad": "both"}})
    one_side = RunConfig(**{**base.__dict__, "model_options": {**scored, "bos_score_grad": "start"}})
    assert both.fingerprint() == tied.fingerprint() != one_side.fingerprint()


@pytest.mark.parametrize(
    "scored, decay_embeddings, decayed", [(True, True, True), (True, False, False), (False, True, False)]
)
def test_a_scored_start_vector_is_decayed_with_the_token_table(scored, decay_embeddings, decayed):
    from lengthgen.training.loop import build_optimizer

    m = model(bos=True, tie_embeddings=True, bos_scored=scored)
    opt = build_optimizer(m, TrainConfig(weight_decay=0.01, decay_embeddings=decay_embeddings))
    decay_of = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert (decay_of[id(m.start)] > 0) == decayed
    assert (decay_of[id(m.embedding.weight)] > 0) == decay_embeddings
