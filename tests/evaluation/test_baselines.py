"""Chance levels and cheap baselines: known answers on hand-made examples,
then every registered task."""

import numpy as np
import pytest

from lengthgen.evaluation.baselines import (
    PREDICTORS,
    BaselineAccumulator,
    Reference,
    _predict,
    baseline_table,
    baselines_at,
    chance,
    default_lengths,
    predictor_names,
    score_baselines,
    shortcut_flags,
)
from lengthgen.tasks import TASKS, make_task
from lengthgen.tasks.base import EOS, OFFSET, Batch


def ids(*digits):
    return [d + OFFSET for d in digits]


@pytest.fixture
def copy_task():
    return make_task("copy-repeat", alphabet=4)


def hand_batch():
    # two examples of copy-repeat: 2 1 3 -> 2 1 3 and 0 0 1 -> 0 0 1
    inputs = np.array([ids(2, 1, 3), ids(0, 0, 1)])
    return Batch.fixed(inputs, inputs.copy())


@pytest.mark.parametrize(
    "name, expected",
    [
        ("copy-input", [ids(2, 1, 3), ids(0, 0, 1)]),
        ("reverse-input", [ids(3, 1, 2), ids(1, 0, 0)]),
        ("sort-input", [ids(1, 2, 3), ids(0, 0, 1)]),
        ("first-input-token", [ids(2, 2, 2), ids(0, 0, 0)]),
        ("last-input-token", [ids(3, 3, 3), ids(1, 1, 1)]),
        ("input-mode-answer-token", [ids(1, 1, 1), ids(0, 0, 0)]),  # ties go to the smallest token
    ],
)
def test_predictors_on_hand_made_examples(copy_task, name, expected):
    batch = hand_batch()
    ref = Reference(copy_task, 3)
    pred = _predict(copy_task, name, batch, ref)
    assert pred[:, :3].tolist() == expected
    assert (pred[:, 3] == EOS).all()  # told the target length, then closes


def test_scores_of_hand_made_examples(copy_task):
    batch = hand_batch()
    ref = Reference(copy_task, 3)
    copy_task.baselines = ("copy-input", "reverse-input", "sort-input")
    try:
        scores = score_baselines(copy_task, batch, ref)
    finally:
        del copy_task.baselines
    assert scores["copy-input"].exact == 2  # copying is the task itself
    assert scores["sort-input"].exact == 1  # 0 0 1 is already sorted
    assert scores["reverse-input"].exact == 0 and scores["reverse-input"].tokens_correct == 2  # middles match
    # chance: a uniform guess over the 4 letters at 3 positions
    assert chance(batch, ref) == {"exact": pytest.approx(4.0**-3), "token": 0.25}


def test_majority_answer_is_a_constant():
    task = make_task("parity")
    ref = Reference(task, 6)
    batch = task.sample(np.random.default_rng(0), 50, 6)
    pred = _predict(task, "majority-answer", batch, ref)
    assert (pred == pred[0]).all() and pred[0, 1] == EOS


V1 = {"cell_ids": False, "distinct_values": False, "hop_marks": False}


def test_c_pvr_v1_shortcut_is_flagged():
    """Version 1: cell values are i.i.d. digits, so the most frequent value
    among the cells is right far more often than chance."""
    table = baseline_table(make_task("c-pvr", cells=12, **V1), [4, 8], n=2000)
    for entry in table:
        assert entry["chance"]["exact"] == pytest.approx(0.1)
        assert entry["best"]["exact"]["name"] == "input-mode-answer-token"
        assert 0.22 < entry["best"]["exact"]["value"] < 0.31
    assert shortcut_flags(table)["exact"] is not None


def test_c_pvr_v2_best_baseline_within_5_points_of_chance_at_every_hop_count():
    table = baseline_table(make_task("c-pvr"), list(range(1, 12)), n=2000)
    for entry in table:
        assert entry["chance"]["exact"] == pytest.approx(1 / 12)
        assert entry["best"]["exact"]["value"] < entry["chance"]["exact"] + 0.05, entry
    assert shortcut_flags(table)["exact"] is None


def test_c_pvr_without_a_count_has_the_fixed_point_shortcut():
    table = baseline_table(make_task("c-pvr", show_hops=False), [2, 6], n=1000)
    assert all(e["best"]["exact"]["name"] == "fixed-point-value" and e["best"]["exact"]["value"] > 0.5 for e in table)


def test_parity_baselines_stay_at_chance():
    table = baseline_table(make_task("parity"), [10, 20, 40], n=2000)
    assert shortcut_flags(table)["exact"] is None
    assert all(abs(e["best"]["exact"]["value"] - 0.5) < 0.05 for e in table)


def test_same_different_shortcuts_v1_and_v2():
    """v1: the label equals "some symbol repeats"; v2 adds distractor pairs so
    that neither that nor "the symbol at i repeats" beats chance."""
    v1 = baseline_table(make_task("same-different", distractors=False), [6], n=500)[0]
    assert v1["baselines"]["any-repeat"]["exact"] == 1.0
    table = baseline_table(make_task("same-different"), [4, 6, 10], n=3000)
    for entry in table:
        assert abs(entry["baselines"]["any-repeat"]["exact"] - 0.5) < 0.04
        assert abs(entry["baselines"]["i-repeats"]["exact"] - 0.5) < 0.04
    assert shortcut_flags(table)["exact"] is None


def test_accumulator_scores_the_evaluators_examples():
    task = make_task("mode")
    a = baselines_at(task, 12, 300, np.random.default_rng([1, 2, 12]), batch_size=128)
    acc = BaselineAccumulator(task, 12)
    rng = np.random.default_rng([1, 2, 12])
    for size in (128, 128, 44):
        acc.add(task.sample(rng, size, 12))
    assert acc.result() == a


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_has_sane_baselines(name):
    task = make_task(name)
    for n in predictor_names(task):
        assert n in PREDICTORS or n in task.extra_baselines()
    table = baseline_table(task, default_lengths(task)[:2], n=64)
    again = baseline_table(task, default_lengths(task)[:2], n=64)
    assert table == again  # deterministic
    for entry in table:
        assert 0.0 <= entry["chance"]["exact"] <= entry["chance"]["token"] <= 1.0
        for scores in entry["baselines"].values():
            assert 0.0 <= scores["exact"] <= 1.0 and 0.0 <= scores["token"] <= 1.0
