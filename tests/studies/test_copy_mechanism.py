"""The copy-mechanism probe (results/studies/replication-huang/copy_mechanism.py)
classifies answers correctly: checked on hand-written copiers whose rule
is known (by content, by position, the first input token not yet copied)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lengthgen.tasks import make_task
from lengthgen.tasks.base import EOS, SEP
from tests.studies.scripts import study_script

load_script, pytestmark = study_script("results/studies/replication-huang/copy_mechanism.py")


class Copier(torch.nn.Module):
    """Reads ``x <sep> y_0 .. y_{t-1}`` and answers by a fixed rule, as logits."""

    def __init__(self, vocab: int, by: str):
        super().__init__()
        self.vocab, self.by = vocab, by

    def forward(self, tokens):
        rows = tokens.numpy()
        out = np.zeros((*rows.shape, self.vocab), dtype=np.float32)
        for r, row in enumerate(rows):
            sep = int(np.flatnonzero(row == SEP)[0])
            x = list(row[:sep])
            for t in range(sep, len(row)):
                done = t - sep  # output tokens before this prediction
                if self.by == "position":
                    answer = x[done] if done < len(x) else EOS
                elif self.by == "coverage":  # the first input token not yet copied
                    copied = set(row[sep + 1 : t + 1])
                    answer = next((v for v in x if v not in copied), EOS)
                else:  # content: the successor of the last token read
                    last = row[t]
                    i = x.index(last) if last in x else -1
                    answer = x[i + 1] if 0 <= i + 1 < len(x) else EOS
                out[r, t, answer] = 1.0
        return SimpleNamespace(logits=torch.from_numpy(out))


@pytest.mark.parametrize("by", ["content", "position"])
@pytest.mark.parametrize("jump", [-5, -1, 1, 5])
def test_jump_probe_names_the_rule_of_a_known_copier(by, jump):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    result = probe.jump_probe(Copier(task.vocab_size, by), task, 12, jump, n=60)
    assert result[by] == 100.0
    assert result["other"] == 0.0


@pytest.mark.parametrize("by", ["content", "position", "coverage"])
def test_a_perfect_copier_makes_no_error_at_any_place(by):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    assert probe.place_errors(Copier(task.vocab_size, by), task, 15, n=20).max() == 0.0


@pytest.mark.parametrize("by,answer", [("content", "content"), ("coverage", "hole")])
@pytest.mark.parametrize("back", [3, 5, 10])
def test_hole_probe_names_the_rule_of_a_known_copier(by, answer, back):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    result = probe.hole_probe(Copier(task.vocab_size, by), task, 14, back, n=60)
    assert result[answer] == 100.0 and result["other"] == 0.0


def test_no_place_for_a_jump_longer_than_the_copy():
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    assert probe.jump_probe(Copier(task.vocab_size, "content"), task, 4, 5, n=10) is None


class PositionLimitedCopier(torch.nn.Module):
    """A content pointer that misses (answers ``<eos>``) where its source lies
    more than ``reach`` positions back, where it reads at a position of
    ``top`` or more (the two readings H-R9 separates), or where its source
    lies more than ``lead`` positions after the first token (H-R10's)."""

    def __init__(self, vocab: int, reach: int = 10**6, top: int = 10**6, lead: int = 10**6):
        super().__init__()
        self.content = Copier(vocab, "content")
        self.reach, self.top, self.lead = reach, top, lead

    def forward(self, tokens, positions=None):
        logits = self.content(tokens).logits.clone()
        rows = tokens.numpy()
        where = np.broadcast_to(np.arange(rows.shape[1]), rows.shape) if positions is None else positions.numpy()
        for r, row in enumerate(rows):
            x = list(row[: int(np.flatnonzero(row == SEP)[0])])
            for t in range(len(x), len(row)):
                i = x.index(row[t]) + 1 if row[t] in x else None  # the source's index
                known = i is not None and i < len(x)
                far = known and where[r, t] - where[r, i] > self.reach
                late = known and where[r, i] - where[r, 0] > self.lead
                if far or late or where[r, t] >= self.top:
                    logits[r, t] = 0.0
                    logits[r, t, EOS] = 1.0
        return SimpleNamespace(logits=logits)


@pytest.mark.parametrize(
    "limit,failing", [({"reach": 30}, {"gap20"}), ({"top": 45}, {"top"}), ({"lead": 14}, {"lead20"}), ({}, set())]
)
def test_layouts_separate_a_distance_limit_from_a_position_limit(limit, failing):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    model = PositionLimitedCopier(task.vocab_size, **limit)
    # copies of 12 read 25 tokens: sources 12 back (base, top, lead20), 17 (gap5), 32 (gap20);
    # the sources of places 2-11 lie 2-11 after x_0, 22-31 in lead20
    layouts = ("base", "top", "gap5", "gap20", "lead20")
    errors = {layout: probe.layout_error(model, task, 12, layout, span=60) for layout in layouts}
    assert {layout for layout, e in errors.items() if e > 0} == failing
    assert all(errors[layout] == 100.0 for layout in failing)


def test_a_layout_is_checked():
    probe = load_script()
    with pytest.raises(ValueError, match="unknown layout"):
        probe.layout_positions(5, "gapx", 60)
    with pytest.raises(ValueError, match="do not fit"):
        probe.layout_positions(5, "top", 8)


def uniform_first_layer(task, bos: bool):
    """A model whose first layer has zero queries, so it attends uniformly
    over the causal prefix."""
    from lengthgen.models import build_model

    torch.manual_seed(0)
    model = build_model(
        "transformer", task.vocab_size, task.vocab, d_model=16, n_layers=2, n_heads=2, pe="learned", bos=bos
    )
    with torch.no_grad():
        model.blocks[0].attn.qkv.weight[:16].zero_()
        model.blocks[0].attn.qkv.bias[:16].zero_()
    return model


@pytest.mark.parametrize("bos", [True, False])
def test_predecessor_weights_of_a_uniform_first_layer(bos):
    """With zero queries the first layer attends uniformly over the causal
    prefix, so x_i's weight on its predecessor is 1 / (keys it sees)."""
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    prev = probe.predecessor_weights(uniform_first_layer(task, bos), task, 10, n=8)
    keys = np.arange(10) + 1 + bos  # x_i sees x_0 .. x_i, and <bos>
    if bos:
        np.testing.assert_allclose(prev, 1 / keys, rtol=1e-5)
    else:
        assert np.isnan(prev[0])
        np.testing.assert_allclose(prev[1:], 1 / keys[1:], rtol=1e-5)


@pytest.mark.parametrize("bos", [True, False])
def test_attention_shares_split_a_uniform_first_layer_by_where_it_looks(bos):
    """Uniform over the causal prefix: each named key gets 1 / (keys seen),
    the rest x_0 .. x_{i-3} gets (i - 2) / (keys seen), and all five sum to 1."""
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    model = uniform_first_layer(task, bos)
    shares = probe.attention_shares(model, task, 10, n=8)
    i = np.arange(2, 10)
    keys = i + 1 + bos
    for name in ("pred", "self", "back2") + (("bos",) if bos else ()):
        assert np.isnan(shares[name][:2]).all()
        np.testing.assert_allclose(shares[name][2:], 1 / keys, rtol=1e-5)
    np.testing.assert_allclose(shares["rest"][2:], (i - 2) / keys, rtol=1e-5)
    assert bos or np.isnan(shares["bos"]).all()
    total = sum(np.nan_to_num(shares[name][2:]) for name in probe.SHARES)
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)


@pytest.mark.parametrize("bos", [True, False])
def test_distance_shares_of_a_uniform_first_layer_count_the_keys_in_each_bin(bos):
    """Uniform over the causal prefix: a bin's share at place i is the
    number of its keys there (distances lo..min(hi, i)) over the keys seen."""
    probe = load_script()
    task = make_task("copy-unique", alphabet=80)
    shares = probe.distance_shares(uniform_first_layer(task, bos), task, 30, n=4)
    i = np.arange(30)
    keys = i + 1 + bos
    for name, (lo, hi) in {"d1": (1, 1), "d2": (2, 2), "d3-8": (3, 8), "d9-24": (9, 24), "d25+": (25, 99)}.items():
        np.testing.assert_allclose(shares[name], np.clip(np.minimum(hi, i) - lo + 1, 0, None) / keys, atol=1e-6)
    np.testing.assert_allclose(shares["self"], 1 / keys, rtol=1e-5)
    assert np.isnan(shares["bos"]).all() if not bos else np.allclose(shares["bos"], 1 / keys, rtol=1e-5)
    total = sum(np.nan_to_num(v) for v in shares.values())
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)


@pytest.mark.parametrize("bos", [True, False])
def test_group_weight_of_a_uniform_first_layer_is_the_share_of_keys_seen(bos):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    got = probe.group_weight(uniform_first_layer(task, bos), task, 12, (6, 9), (0, 3), None)
    assert got == pytest.approx(np.mean([4 / (i + 1 + bos) for i in range(6, 10)]), rel=1e-5)


def test_group_weight_reads_the_layout_it_is_given():
    # a first layer with learned positions weighs keys by where they are:
    # the default layout and base agree, a cut moves the weight
    from lengthgen.models import build_model

    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    torch.manual_seed(1)
    model = build_model("transformer", task.vocab_size, task.vocab, d_model=16, n_layers=2, n_heads=2, pe="learned")
    with torch.no_grad():
        model.pe.table.weight.mul_(100)  # positions, not tokens, decide the first layer's weights
        model.blocks[0].attn.qkv.weight.mul_(10)  # and far from uniformly
    base = probe.group_weight(model, task, 12, (6, 9), (0, 3), probe.layout_positions(12, "base", 151))
    assert base == pytest.approx(probe.group_weight(model, task, 12, (6, 9), (0, 3), None), rel=1e-6)
    cut = probe.group_weight(model, task, 12, (6, 9), (0, 3), probe.layout_positions(12, "cut30at4", 151))
    assert abs(cut - base) > 0.02


def test_a_cut_layout_moves_everything_from_its_place_on():
    probe = load_script()
    assert probe.layout_positions(4, "cut5at2", 60).tolist() == [0, 1, 7, 8, 9, 10, 11, 12, 13]
    for bad in ("cut5at0", "cut5at4"):
        with pytest.raises(ValueError, match="inside the input"):
            probe.layout_positions(4, bad, 60)


def test_shares_need_the_attention_flag_and_ranges_of_places(monkeypatch, capsys):
    probe = load_script()
    for argv, message in [
        (["run", "--shares"], "give --attention too"),
        (["run", "--attention", "--shares", "1-5"], "2 <= LO <= HI"),
        (["run", "--attention", "--shares", "9-5"], "2 <= LO <= HI"),
        (["run", "--distances"], "--distances reads the first layer's attention"),
        (["run", "--attention", "--distances", "30"], "--distances '30'"),
        (["run", "--attention", "--layouts", "base", "--group", "5-9:3-6"], "keys before the queries"),
        (["run", "--attention", "--layouts", "base", "--group", "12-30:0-9"], "below --layout-length"),
        (["run", "--attention", "--group", "12-19:0-9"], "give --attention and --layouts"),
    ]:
        monkeypatch.setattr("sys.argv", ["copy_mechanism.py", *argv])
        with pytest.raises(SystemExit):
            probe.main()
        assert message in capsys.readouterr().err


def test_predecessor_weights_refuse_an_attention_they_cannot_recompute():
    from lengthgen.models import build_model

    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    model = build_model("transformer", task.vocab_size, task.vocab, d_model=16, n_layers=1, n_heads=2, pe="alibi")
    with pytest.raises(SystemExit, match="does not recompute"):
        probe.predecessor_weights(model, task, 10, n=4)
