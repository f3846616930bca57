"""Every registered task: shapes, determinism, vocabulary and exact ground truth."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lengthgen.errors import LengthgenError
from lengthgen.tasks import PAD, SPECIALS, TASKS, Batch, concat_batches, make_task
from lengthgen.versions import identity
from tests.conftest import small_lengths


def check_well_formed(task, batch: Batch, batch_size: int):
    assert len(batch) == batch_size
    assert batch.inputs.dtype == np.int64 and batch.targets.dtype == np.int64
    assert batch.score_mask.shape == batch.targets.shape
    for i in range(batch_size):
        x, y = batch.example(i)
        # valid positions hold task tokens, never specials
        assert (x >= len(SPECIALS)).all() and (x < task.vocab_size).all()
        assert (y >= len(SPECIALS)).all() and (y < task.vocab_size).all()
        assert (batch.inputs[i, batch.input_lengths[i] :] == PAD).all()
        assert (batch.targets[i, batch.target_lengths[i] :] == PAD).all()
        assert not batch.score_mask[i, batch.target_lengths[i] :].any()
    assert len(batch.input_lengths) > 0 and batch.input_lengths.min() >= 1


def check_reference(task, batch: Batch):
    for i in range(len(batch)):
        x, y = batch.example(i)
        got = task.decode(y)
        want = task.reference(task.decode(x))
        assert got == want, f"{task.name}: input {task.decode(x)} -> {got}, reference {want}"


def test_same_seed_same_batch(task):
    length = small_lengths(task)[-1]
    a = task.sample(np.random.default_rng(7), 16, length)
    b = task.sample(np.random.default_rng(7), 16, length)
    c = task.sample(np.random.default_rng(8), 16, length)
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.targets, b.targets)
    assert not (np.array_equal(a.inputs, c.inputs) and np.array_equal(a.targets, c.targets))


def test_matches_slow_reference(task, rng):
    for length in small_lengths(task):
        batch = task.sample(rng, 64, length)
        check_well_formed(task, batch, 64)
        check_reference(task, batch)


def test_rejects_bad_lengths(task, rng):
    with pytest.raises(LengthgenError):
        task.sample(rng, 4, task.min_length - 1)
    top = task.max_length()
    if top is not None:
        with pytest.raises(LengthgenError):
            task.sample(rng, 4, top + 1)
    with pytest.raises(LengthgenError):
        task.sample(rng, 0, task.min_length)


def test_needs_numpy_generator(task):
    with pytest.raises(TypeError):
        task.sample(np.random.RandomState(0), 4, task.min_length)


def test_declares_metadata(task):
    assert task.name in TASKS
    assert task.family and task.length_unit and isinstance(task.version, int)
    assert task.describe(), "every task documents itself with a worked example"
    assert "Example" in task.describe()
    assert len(set(task.vocab)) == len(task.vocab), "duplicate tokens"


@pytest.mark.parametrize("name", TASKS.names())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(1, 40), batch_size=st.integers(1, 9))
def test_hypothesis_lengths_and_seeds(name, seed, length, batch_size):
    task = make_task(name)
    top = task.max_length()
    length = max(task.min_length, length if top is None else min(length, top))
    batch = task.sample(np.random.default_rng(seed), batch_size, length)
    check_well_formed(task, batch, batch_size)
    check_reference(task, batch)


VARIANTS = [
    ("addition", {"reversed": True}),
    ("addition", {"index_hints": True, "num_hints": 20}),
    ("addition", {"reversed": True, "index_hints": True, "num_hints": 20}),
    ("addition", {"unequal": True}),
    ("addition", {"unequal": True, "reversed": True, "index_hints": True, "num_hints": 20}),
    ("pvr", {"window": 3, "aggregate": "sum"}),
    ("pvr", {"window": 4, "aggregate": "majority"}),
    ("pvr", {"pointer_tail": 0.5}),
    ("pvr", {"window": 2, "pointer_tail": 1.0}),
    ("c-pvr", {"show_hops": False, "cells": 9}),
    ("c-pvr", {"hop_marks": False}),
    ("c-pvr", {"cell_ids": False, "distinct_values": False, "hop_marks": False}),
    ("c-pvr", {"cell_ids": False, "distinct_values": False, "show_hops": False}),
    ("c-pvr", {"min_cells": 2, "cells": 16}),
    ("c-pvr", {"layout": "pvc"}),
    ("c-pvr", {"layout": "vcp", "show_hops": False}),
    ("c-pvr", {"shared_ids": True, "layout": "pvc", "min_cells": 3}),
    ("c-pvr", {"shared_ids": True, "show_hops": False}),
    ("count", {"direction": "both"}),
    ("parity", {"scratchpad": True}),
    ("parity", {"ones": "uniform-count"}),
    ("parity", {"ones": "uniform-count", "scratchpad": True}),
    ("sort", {"repeats": True, "alphabet": 5}),
    ("same-different", {"i": 1, "j": 2, "symbols": "test"}),
    ("symbol-template", {"num_templates": 3, "num_labels": 3, "symbols": "all"}),
    ("variable-copy", {"wildcards": 4, "symbols": "test"}),
]


@pytest.mark.parametrize("name,params", VARIANTS)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(1, 15))
def test_parameter_variants_match_reference(name, params, seed, length):
    task = make_task(name, **params)
    top = task.max_length()
    length = max(task.min_length, length if top is None else min(length, top))
    batch = task.sample(np.random.default_rng(seed), 8, length)
    check_well_formed(task, batch, 8)
    check_reference(task, batch)


def test_pvr_pointer_tail_raises_the_last_quarter_and_leaves_the_default_unchanged():
    rng = lambda: np.random.default_rng(5)  # noqa: E731
    plain, zero = make_task("pvr"), make_task("pvr", pointer_tail=0.0)
    assert np.array_equal(plain.sample(rng(), 64, 40).inputs, zero.sample(rng(), 64, 40).inputs)
    pointers = {}
    for q in (0.0, 0.5, 1.0):
        task = make_task("pvr", pointer_tail=q)
        pointers[q] = task.sample(rng(), 4000, 40).inputs[:, 0] - task.id("@0")
    assert pointers[1.0].min() == 30 and pointers[1.0].max() == 39  # the last quarter only
    share = {q: float((p >= 30).mean()) for q, p in pointers.items()}
    assert abs(share[0.0] - 0.25) < 0.03 and abs(share[0.5] - 0.625) < 0.03
    assert set(pointers[0.5].tolist()) == set(range(40))  # every pointer still drawn
    with pytest.raises(LengthgenError, match="pointer_tail is a probability"):
        make_task("pvr", pointer_tail=1.5)


def test_parity_uniform_count_draws_every_count_equally_and_leaves_the_default_unchanged():
    rng = lambda: np.random.default_rng(11)  # noqa: E731
    plain, iid = make_task("parity"), make_task("parity", ones="iid")
    assert np.array_equal(plain.sample(rng(), 64, 9).inputs, iid.sample(rng(), 64, 9).inputs)
    # a late parameter: at its default it stays out of a run's identity (committed parity runs keep their keys)
    assert identity({"params": {"ones": "iid"}}, "parity")["params"] == {}
    assert identity({"params": {"ones": "uniform-count"}}, "parity")["params"] == {"ones": "uniform-count"}
    task = make_task("parity", ones="uniform-count")
    batch = task.sample(rng(), 6000, 4)
    counts = (batch.inputs == task.id("1")).sum(axis=1)
    share = np.bincount(counts, minlength=5) / len(counts)
    assert np.all(np.abs(share - 0.2) < 0.02)  # iid bits: 1/16 at 0 and 4, 6/16 at 2
    # the places of the ones are random, not the first ones
    ones_at = (batch.inputs[counts == 1] == task.id("1")).mean(axis=0)
    assert np.all(np.abs(ones_at - 0.25) < 0.05)
    with pytest.raises(LengthgenError, match="ones"):
        make_task("parity", ones="binomial")


def test_heldout_symbols_are_disjoint():
    train = make_task("same-different", symbols="train")
    test = make_task("same-different", symbols="test")
    a = train.sample(np.random.default_rng(0), 500, 5).inputs
    b = test.sample(np.random.default_rng(0), 500, 5).inputs
    assert not set(a.ravel()) & set(b.ravel())


def test_index_hints_use_ordered_subset():
    task = make_task("addition", index_hints=True, reversed=True, num_hints=50)
    batch = task.sample(np.random.default_rng(0), 32, 6)
    hint0 = task.id("h0")
    for i in range(32):
        x, y = batch.example(i)
        hints = [t - hint0 for t in y[0::2]]
        assert hints == sorted(hints) and len(set(hints)) == len(hints)
        assert not batch.score_mask[i, 0::2].any() and batch.score_mask[i, 1::2].all()


def test_concat_batches_pads():
    task = make_task("stack-manipulation")
    rng = np.random.default_rng(0)
    merged = concat_batches([task.sample(rng, 3, 4), task.sample(rng, 2, 9)])
    assert merged.inputs.shape[0] == 5 and merged.inputs.shape[1] == 9
    check_reference(task, merged)


@pytest.mark.parametrize("hops", [0, 1, 3])
def test_c_pvr_mixed_targets_follow_the_leading_token(hops):
    task = make_task("c-pvr", cells=6, layout="pvc", mixed=True, chain_share=0.5)
    chain = make_task("c-pvr", cells=6, layout="pvc", show_chain=True)
    batch = task.sample(np.random.default_rng(hops), 200, hops)
    same = chain.sample(np.random.default_rng(hops), 200, hops)  # the same draws before the choice
    assert np.array_equal(batch.inputs[:, 1:], same.inputs)
    shown = batch.inputs[:, 0] == task.id("?")
    assert ((batch.inputs[:, 0] == task.id("?")) | (batch.inputs[:, 0] == task.id("!"))).all()
    assert 0.3 < shown.mean() < 0.7
    assert np.array_equal(batch.target_lengths, np.where(shown, hops + 1, 1))
    assert np.array_equal(batch.targets[shown], same.targets[shown])  # '?': the chain, then the value
    assert np.array_equal(batch.targets[~shown, 0], same.targets[~shown, -1])  # '!': the value alone
    check_well_formed(task, batch, 200)
    check_reference(task, batch)
    answers = make_task("c-pvr", cells=6, layout="pvc", mixed=True, chain_share=0.0)
    assert (answers.sample(np.random.default_rng(0), 50, hops).inputs[:, 0] == answers.id("!")).all()


def test_c_pvr_mixed_is_refused_where_it_means_nothing():
    with pytest.raises(LengthgenError, match="mixed"):
        make_task("c-pvr", mixed=True, show_chain=True)
    with pytest.raises(LengthgenError, match="chain_share"):
        make_task("c-pvr", mixed=True, chain_share=1.5)


def test_concat_batches_keeps_every_part_and_pads_the_rest():
    task = make_task("addition", reversed=True)
    rng = np.random.default_rng(1)
    parts = [task.sample(rng, n, length) for n, length in [(3, 2), (1, 7), (4, 4)]]
    merged = concat_batches(parts)
    assert merged.inputs.shape == (8, max(p.inputs.shape[1] for p in parts))
    row = 0
    for part in parts:
        rows = slice(row, row + len(part))
        for name in ("inputs", "targets", "score_mask"):
            got, want = getattr(merged, name)[rows], getattr(part, name)
            assert (got[:, : want.shape[1]] == want).all()
            assert (got[:, want.shape[1] :] == (False if name == "score_mask" else PAD)).all()
        row = rows.stop
    check_well_formed(task, merged, 8)


def test_mode_redraws_only_tied_rows():
    """The rejection sampler's stream: a tied row is drawn again, whole, in the next round."""
    task = make_task("mode", alphabet=3)
    batch = task.sample(np.random.default_rng(5), 50, 4)
    rng = np.random.default_rng(5)
    want = [None] * 50
    todo = list(range(50))
    while todo:
        draw = rng.integers(0, 3, size=(len(todo), 4))
        left = []
        for i, row in zip(todo, draw):
            counts = np.bincount(row, minlength=3)
            if (counts == counts.max()).sum() == 1:
                want[i] = row
            else:
                left.append(i)
        todo = left
    assert (batch.inputs == np.array(want) + len(SPECIALS)).all()


def test_mode_label_is_unique_most_frequent():
    task = make_task("mode", alphabet=3)
    batch = task.sample(np.random.default_rng(0), 200, 6)
    for i in range(200):
        counts = np.bincount(batch.inputs[i], minlength=task.vocab_size)
        assert (counts == counts.max()).sum() == 1


@pytest.mark.parametrize("bad", [{"reversed": "maybe"}, {"num_hints": "x"}, {"nope": 1}])
def test_bad_parameters(bad):
    with pytest.raises(LengthgenError):
        make_task("addition", **bad)


@pytest.mark.slow
def test_reference_at_scale(task):
    rng = np.random.default_rng(99)
    for length in small_lengths(task, count=8):
        check_reference(task, task.sample(rng, 2000, length))


def test_c_pvr_test_inputs_use_only_tokens_seen_in_training():
    task = make_task("c-pvr")
    rng = np.random.default_rng(0)
    seen = {int(t) for n in (1, 2, 3) for t in np.unique(task.sample(rng, 500, n).inputs)}
    for length in (4, 6, 8, 11):
        assert set(np.unique(task.sample(rng, 200, length).inputs).tolist()) <= seen
    v1 = make_task("c-pvr", cell_ids=False, distinct_values=False, hop_marks=False)
    seen = {int(t) for n in (1, 2, 3) for t in np.unique(v1.sample(rng, 500, n).inputs)}
    assert not set(np.unique(v1.sample(rng, 200, 4).inputs).tolist()) <= seen  # '#4' is new: the v1 flaw


def test_c_pvr_lookups_are_by_content():
    """The cells come in random order with their ids: where a cell sits says
    nothing, and reordering the cells never changes the answer."""
    task = make_task("c-pvr")
    batch = task.sample(np.random.default_rng(1), 300, 3)
    marks = batch.inputs.shape[1] - 3 * task.cells
    start_slot = (batch.inputs[:, marks::3] == task.id("c0")).argmax(axis=1)
    assert len(np.unique(start_slot)) == task.cells  # cell 0 is found at every slot
    rng = np.random.default_rng(2)
    for row in range(20):
        tokens = task.decode(batch.inputs[row])
        cells = [tokens[marks + 3 * i : marks + 3 * i + 3] for i in range(task.cells)]
        shuffled = tokens[:marks] + [t for i in rng.permutation(task.cells) for t in cells[i]]
        assert task.reference(shuffled) == task.reference(tokens) == task.decode(batch.targets[row])


def test_c_pvr_values_are_distinct_within_an_example():
    task = make_task("c-pvr", cells=10)
    batch = task.sample(np.random.default_rng(3), 200, 5)
    values = batch.inputs[:, 5 + 2 :: 3]
    assert all(len(set(row)) == 10 for row in values.tolist())


def test_c_pvr_min_cells_draws_the_number_of_cells_per_batch():
    task = make_task("c-pvr", cells=12, min_cells=4)
    rng = np.random.default_rng(5)
    sizes = set()
    for _ in range(40):
        batch = task.sample(rng, 16, 3)
        cells = (batch.inputs.shape[1] - 3) // 3  # three '>' marks first
        assert 4 <= cells <= 12
        ids = batch.inputs[:, 3::3] - task.id("c0")
        assert (np.sort(ids, axis=1) == np.arange(cells)).all()  # ids c0..c<n-1>, each once
        values = batch.inputs[:, 5::3]
        assert all(len(set(row)) == cells for row in values.tolist())  # distinct, drawn from all 12
        check_reference(task, batch)
        sizes.add(cells)
    assert len(sizes) >= 6
    fixed = make_task("c-pvr", cells=12)  # off by default: the stream of samples is unchanged
    a = fixed.sample(np.random.default_rng(6), 8, 2).inputs
    b = make_task("c-pvr", cells=12, min_cells=12).sample(np.random.default_rng(6), 8, 2).inputs
    assert np.array_equal(a, b)
    with pytest.raises(LengthgenError, match="min_cells"):
        make_task("c-pvr", cells=12, min_cells=13)


@pytest.mark.parametrize("layout", ["pvc", "vcp"])
def test_c_pvr_layout_orders_each_cells_tokens(layout):
    task = make_task("c-pvr", layout=layout, cells=6)
    batch = task.sample(np.random.default_rng(7), 50, 2)
    for row in batch.inputs:
        tokens = task.decode(row)[2:]  # after the two '>' marks
        assert all("".join(t[0] for t in tokens[i : i + 3]) == layout for i in range(0, len(tokens), 3))
    check_reference(task, batch)
    fixed = make_task("c-pvr", layout=layout, cells=6, show_hops=False)
    baseline = fixed.extra_baselines()["fixed-point-value"][1]
    sample = fixed.sample(np.random.default_rng(8), 300, 2)
    hit = (baseline(fixed, sample, None) == sample.targets[:, :1]).mean()
    assert hit > 0.5  # the shortcut still finds the self-pointing cell whatever the layout
    with pytest.raises(LengthgenError, match="layout"):
        make_task("c-pvr", layout="pvc", cell_ids=False, distinct_values=False, hop_marks=False)


def test_c_pvr_shared_ids_write_pointers_as_id_tokens():
    task = make_task("c-pvr", cells=6, shared_ids=True)
    assert not any(t.startswith("p") for t in task.vocab)
    batch = task.sample(np.random.default_rng(9), 100, 3)
    cells = batch.inputs[:, 3:].reshape(100, 6, 3)
    assert ((cells[:, :, 1] >= task.id("c0")) & (cells[:, :, 1] <= task.id("c5"))).all()
    check_reference(task, batch)
    fixed = make_task("c-pvr", cells=6, shared_ids=True, show_hops=False)
    sample = fixed.sample(np.random.default_rng(10), 300, 2)
    hit = (fixed.extra_baselines()["fixed-point-value"][1](fixed, sample, None) == sample.targets[:, :1]).mean()
    assert hit > 0.5


@pytest.mark.parametrize("extra", [{}, {"shared_ids": True, "layout": "pvc", "min_cells": 4}, {"show_hops": False}])
def test_c_pvr_show_chain_writes_every_visited_cell_then_the_value(extra):
    task = make_task("c-pvr", cells=8, show_chain=True, **extra)
    plain = make_task("c-pvr", cells=8, **extra)
    for hops in (0, 1, 4):
        batch = task.sample(np.random.default_rng(hops), 100, hops)
        same = plain.sample(np.random.default_rng(hops), 100, hops)
        assert np.array_equal(batch.inputs, same.inputs)  # the same examples, only the target grows
        assert batch.targets.shape[1] == hops + 1
        assert np.array_equal(batch.targets[:, -1], same.targets[:, 0])
        for row in range(100):
            tokens = task.decode(batch.inputs[row])
            cells = {}
            marks = hops if task.show_hops else 0
            for i in range(marks, len(tokens), 3):
                part = dict(zip(task.layout, tokens[i : i + 3]))
                cells[part["c"]] = part["p"].replace("p", "c")
            walk, cell = [], "c0"
            for _ in range(hops):  # follow the pointers by hand
                cell = cells[cell]
                walk.append(cell)
            assert task.decode(batch.targets[row])[:-1] == walk
        check_reference(task, batch)
    if not task.show_hops:  # the named shortcut still runs, whatever the number of cells drawn
        baseline = task.extra_baselines()["fixed-point-value"][1]
        small = make_task("c-pvr", cells=8, show_chain=True, show_hops=False, min_cells=4)
        batch = small.sample(np.random.default_rng(11), 50, 2)
        assert baseline(small, batch, None).shape == (50, 1)
    with pytest.raises(LengthgenError, match="show_chain"):
        make_task("c-pvr", show_chain=True, cell_ids=False, distinct_values=False, hop_marks=False)


def test_c_pvr_half_versions_are_refused():
    with pytest.raises(LengthgenError, match="go together"):
        make_task("c-pvr", cell_ids=False)


def test_c_pvr_zero_hops_asks_for_the_start_cells_value():
    task = make_task("c-pvr")
    assert task.min_length == 0 and make_task("c-pvr", hop_marks=False).min_length == 1  # no '#0' token in v1
    batch = task.sample(np.random.default_rng(4), 200, 0)
    assert not (batch.inputs == task.id(">")).any()
    for row in range(200):
        tokens = task.decode(batch.inputs[row])
        start = tokens.index("c0")
        assert task.decode(batch.targets[row]) == [tokens[start + 2]] == task.reference(tokens)


def test_length_zero_is_refused_where_a_task_starts_at_one():
    from lengthgen.experiment import RunConfig, apply_settings, validate

    cfg = apply_settings(RunConfig(), {"task": "parity", "train_lengths": "0-3", "test_lengths": "5"}, "test")
    with pytest.raises(LengthgenError, match="length must be >= 1"):
        validate(cfg)


def test_training_on_length_zero_alone_is_refused_before_training():
    from lengthgen.experiment import RunConfig, apply_settings, validate

    cfg = apply_settings(RunConfig(), {"task": "c-pvr", "train_lengths": "0", "test_lengths": "1"}, "test")
    with pytest.raises(LengthgenError, match="longest training length must be at least 1"):
        validate(cfg)
    ok = apply_settings(RunConfig(), {"task": "c-pvr", "train_lengths": "0-3", "test_lengths": "4"}, "test")
    validate(ok)
