from pathlib import Path

import pytest

from lengthgen.config import format_lengths, load_yaml, parse_lengths
from lengthgen.errors import LengthgenError
from lengthgen.suites import load_benchmark, load_suite

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "spec,expected",
    [("1-3", [1, 2, 3]), ("5", [5]), ("1-2,7,9-10", [1, 2, 7, 9, 10]), (4, [4]), ([3, "1-2"], [1, 2, 3])],
)
def test_parse_lengths(spec, expected):
    assert parse_lengths(spec) == expected
    assert parse_lengths(format_lengths(expected)) == expected


@pytest.mark.parametrize("spec", ["20-1", "0", "-3", "a-b", "1-2-3", "", [], True, 1.5, "1,,2"])
def test_parse_lengths_rejects(spec):
    with pytest.raises(LengthgenError):
        parse_lengths(spec)


@pytest.mark.parametrize("path", sorted((ROOT / "tasks").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_benchmark_loads(path):
    bench = load_benchmark(path)
    assert bench.train_lengths and bench.test_lengths
    assert bench.make_task().name == bench.task


STUDY_SUITES = sorted((ROOT / "results" / "studies").glob("*/suites/*.yaml")) + sorted(
    (ROOT / "results" / "studies").glob("*/suite*.yaml")
)


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "tasks" / "suites").glob("*.yaml")) + STUDY_SUITES,
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_suite_loads(path):
    suite = load_suite(path)
    assert suite.benchmarks


def test_full_suite_covers_every_benchmark():
    full = load_suite(ROOT / "tasks/suites/full.yaml")
    assert {b.name for b in full.benchmarks} == {p.stem for p in (ROOT / "tasks").glob("*.yaml")}


BAD_BENCHMARKS = {
    "syntax": ("task: [parity\n", "invalid YAML"),
    "not-mapping": ("- 1\n- 2\n", "expected a mapping"),
    "unknown-key": ("task: parity\ntrain_lengths: 1-3\ntest_lengths: 5\nmetrik: exact\n", "unknown key 'metrik'"),
    "missing": ("task: parity\ntest_lengths: 5\n", "missing required key 'train_lengths'"),
    "bad-task": ("task: parrity\ntrain_lengths: 1-3\ntest_lengths: 5\n", "did you mean: parity"),
    "bad-type": ("task: parity\ntrain_lengths: 1-3\ntest_lengths: 5\nparams: 3\n", "expects dict"),
    "bad-range": ("task: parity\ntrain_lengths: 9-3\ntest_lengths: 5\n", "empty range"),
    "bad-metric": ("task: parity\ntrain_lengths: 1-3\ntest_lengths: 5\nmetric: f1\n", "metric"),
    "bad-param": ("task: count\nparams: {max_vale: 3}\ntrain_lengths: 1-3\ntest_lengths: 5\n", "max_value"),
    "too-long": ("task: count\nparams: {max_value: 8}\ntrain_lengths: 1-3\ntest_lengths: 9\n", "length must be"),
    "python-tag": (
        "task: !!python/object/apply:os.system ['true']\ntrain_lengths: 1\ntest_lengths: 2\n",
        "invalid YAML",
    ),
}


@pytest.mark.parametrize("name", BAD_BENCHMARKS)
def test_bad_benchmark_files_name_file_and_problem(tmp_path, name):
    text, message = BAD_BENCHMARKS[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(LengthgenError) as info:
        load_benchmark(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_missing_file():
    with pytest.raises(LengthgenError, match="file not found"):
        load_yaml("/nonexistent/x.yaml")


def test_suite_unknown_benchmark(tmp_path):
    (tmp_path / "suites").mkdir()
    (tmp_path / "parity.yaml").write_text("task: parity\ntrain_lengths: 1-3\ntest_lengths: 5\n")
    suite = tmp_path / "suites" / "s.yaml"
    suite.write_text("benchmarks: [paritty]\n")
    with pytest.raises(LengthgenError, match="did you mean: parity"):
        load_suite(suite)
    suite.write_text("benchmarks: [parity]\n")
    assert load_suite(suite).benchmarks[0].task == "parity"


def test_a_changed_task_version_changes_the_fingerprint(monkeypatch):
    from lengthgen.experiment import RunConfig
    from lengthgen.tasks import TASKS

    cpvr = RunConfig(task="c-pvr", train_lengths=[1, 2], test_lengths=[4])
    assert cpvr.identity()["task_version"] == TASKS.get("c-pvr").version == 2
    now = cpvr.fingerprint()
    monkeypatch.setattr(TASKS.get("c-pvr"), "version", 1)
    assert cpvr.fingerprint() != now  # a version-1 result or checkpoint is not this run's
    assert "task_version" not in RunConfig(task="parity").identity()  # unchanged tasks keep their fingerprints


def test_a_task_parameter_added_later_keeps_earlier_fingerprints_at_its_default():
    from lengthgen.experiment import RunConfig, validate

    def identity(**params):
        cfg = RunConfig(task="c-pvr", params=params, train_lengths=[0, 1], test_lengths=[2])
        validate(cfg)  # fills every parameter with its default
        return cfg.fingerprint(), cfg.identity()["params"]

    default, params = identity()
    assert "min_cells" not in params and params["cells"] == 12  # late and at its default: left out
    assert identity(min_cells=0)[0] == default
    assert identity(min_cells=4)[0] != default and identity(min_cells=4)[1]["min_cells"] == 4


def test_an_option_added_later_keeps_earlier_fingerprints_at_its_default():
    from lengthgen.experiment import RunConfig, validate

    def fingerprint(**options):
        cfg = RunConfig(task="parity", model="ut", model_options=options, train_lengths=[2], test_lengths=[4])
        validate(cfg)  # resolves every constructor option, act included
        return cfg.fingerprint(), cfg.identity()["model_options"]

    default, options = fingerprint(d_model=16, n_heads=2)
    assert "act" not in options and "position_every_step" in options
    assert fingerprint(d_model=16, n_heads=2, act=True)[0] == default
    assert fingerprint(d_model=16, n_heads=2, act=False)[0] != default
    # halting_start came later still
    assert "halting_start" not in options
    assert fingerprint(d_model=16, n_heads=2, halting_start=0)[0] == default
    assert fingerprint(d_model=16, n_heads=2, halting_start=100)[0] != default


def test_segment_tokens_stay_out_of_transformer_fingerprints_until_set():
    from lengthgen.experiment import RunConfig, validate

    def fingerprint(**options):
        cfg = RunConfig(
            task="addition", model="transformer", model_options=options, train_lengths=[2], test_lengths=[4]
        )
        validate(cfg)
        return cfg.fingerprint(), cfg.identity()["model_options"]

    default, options = fingerprint(pe="rope")
    assert "segment_tokens" not in options
    abacus, options = fingerprint(pe="abacus", segment_tokens=["+", "<sep>"])
    assert abacus != default and options["segment_tokens"] == ["+", "<sep>"] and "abacus_offset" not in options
    assert fingerprint(pe="abacus", segment_tokens=["+", "<sep>"], abacus_offset=0)[0] == abacus
    assert fingerprint(pe="abacus", segment_tokens=["+", "<sep>"], abacus_offset=50)[0] != abacus
    # frozen embeddings came later too: off is every earlier run, on is a new one
    assert "freeze_embeddings" not in options
    assert fingerprint(pe="rope", freeze_embeddings=False)[0] == default
    assert fingerprint(pe="rope", freeze_embeddings=True)[0] != default
