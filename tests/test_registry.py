import pytest

from lengthgen.errors import LengthgenError
from lengthgen.registry import Registry, filter_names
from lengthgen.tasks import TASKS, make_task


def test_unknown_name_suggests_close_matches():
    with pytest.raises(LengthgenError, match="did you mean: copy-unique"):
        make_task("copy-uniq")


def test_substring_hint():
    with pytest.raises(LengthgenError, match="c-pvr"):
        TASKS.get("cpvr")


def test_filter_names_keeps_order_and_rejects_a_pattern_that_matches_nothing():
    names = ["reverse", "stack-manipulation", "parity"]
    assert filter_names(names, None, "benchmarks", names) == names
    assert filter_names(names, ["parity", "st*"], "benchmarks", names) == ["stack-manipulation", "parity"]
    with pytest.raises(LengthgenError, match="--benchmarks: 'revrese' matches nothing.*did you mean: reverse"):
        filter_names(names, ["parity", "revrese"], "benchmarks", names)


def test_duplicate_registration_fails():
    reg = Registry("thing")
    reg.register("a")(object)
    with pytest.raises(ValueError):
        reg.register("a")(object)


def test_wildcard_listing():
    assert set(TASKS.names("copy-*")) == {"copy-unique", "copy-repeat"}


def test_every_spec_task_registered():
    expected = {
        "parity",
        "addition",
        "pvr",
        "c-pvr",
        "same-different",
        "symbol-template",
        "variable-copy",
        "count",
        "mode",
        "copy-unique",
        "copy-repeat",
        "sort",
        "reverse",
        "even-pairs",
        "modular-arithmetic",
        "cycle-navigation",
        "duplicate-string",
        "odds-first",
        "bucket-sort",
        "binary-addition",
        "stack-manipulation",
    }
    assert expected <= set(TASKS.names())
