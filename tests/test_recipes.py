"""Benchmark recipes: the default model and training of a benchmark, used by
`run --benchmark` and suites unless something more specific overrides them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig, apply_settings, build
from lengthgen.suites import load_benchmark, load_suite
from lengthgen.sweeps.cells import expand as suite_cells
from lengthgen.training.loop import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
WITH_RECIPES = [p for p in sorted((ROOT / "tasks").glob("*.yaml")) if load_benchmark(p).recipe]


@pytest.mark.parametrize("path", WITH_RECIPES, ids=lambda p: p.stem)
def test_every_shipped_recipe_builds_its_model(path):
    bench = load_benchmark(path)
    assert len(bench.recipe["reason"]) > 20  # says what was tried
    cfg = apply_settings(RunConfig(), {"benchmark": str(path)}, "test")
    for key, value in bench.recipe["model_options"].items():
        assert cfg.model_options[key] == value
    _, _, model = build(cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_recipe_is_applied_and_overridden():
    cfg = apply_settings(RunConfig(), {"benchmark": "count"}, "test")
    assert cfg.model_options["pe"] == "rope" and cfg.train.steps == 4000 and cfg.train.stop_when_fitted
    # settings given with the benchmark, or later, win
    cfg = apply_settings(RunConfig(), {"benchmark": "count", "pe": "alibi", "training": {"steps": 7}}, "test")
    assert cfg.model_options["pe"] == "alibi" and cfg.model_options["n_layers"] == 3 and cfg.train.steps == 7
    cfg = apply_settings(cfg, {"training": {"lr": 0.01}}, "flags")
    assert cfg.train.lr == 0.01 and cfg.train.steps == 7


def test_no_recipe_and_another_model_drop_it():
    plain = apply_settings(RunConfig(), {"benchmark": "count", "recipe": False}, "test")
    assert plain.model_options == {} and plain.train.steps == TrainConfig().steps
    # a config file read the benchmark with its recipe; the command line then chose another model
    cfg = apply_settings(RunConfig(), {"benchmark": "count"}, "config")
    cfg = apply_settings(cfg, {"model": "ut"}, "flags")
    assert cfg.model_options == {} and cfg.train.steps == TrainConfig().steps
    build(cfg)  # the UT does not receive the transformer's n_layers
    cfg = apply_settings(RunConfig(), {"benchmark": "count"}, "config")
    assert apply_settings(cfg, {"recipe": False}, "flags").model_options == {}


def test_the_run_identity_does_not_depend_on_how_settings_arrived():
    via_recipe = apply_settings(RunConfig(), {"benchmark": "count"}, "test")
    spelled_out = apply_settings(
        RunConfig(),
        {
            "benchmark": "count",
            "recipe": False,
            "model_options": {"pe": "rope", "d_model": 64, "n_layers": 3, "n_heads": 4},
            "training": {
                "steps": 4000,
                "batch_size": 64,
                "lr": 0.001,
                "warmup": 200,
                "eval_every": 250,
                "checkpoint_every": 250,
                "stop_when_fitted": True,
            },
        },
        "test",
    )
    assert via_recipe.fingerprint() == spelled_out.fingerprint()


def test_suites_use_recipes_unless_they_say_not_to(tmp_path):
    tasks = tmp_path / "tasks"
    (tasks / "suites").mkdir(parents=True)
    (tasks / "count.yaml").write_text((ROOT / "tasks" / "count.yaml").read_text())
    body = "benchmarks: [count]\nmodels: [transformer]\nseeds: 1\n"
    (tasks / "suites" / "on.yaml").write_text("name: with-recipes\n" + body)
    (tasks / "suites" / "off.yaml").write_text("name: without\n" + body + "recipes: false\n")
    (tasks / "suites" / "over.yaml").write_text("name: over\n" + body + "training: {steps: 9}\npe: [none]\n")
    on = suite_cells(load_suite(tasks / "suites" / "on.yaml"), tmp_path / "out")[0].config
    off = suite_cells(load_suite(tasks / "suites" / "off.yaml"), tmp_path / "out")[0].config
    over = suite_cells(load_suite(tasks / "suites" / "over.yaml"), tmp_path / "out")[0].config
    assert on.model_options["pe"] == "rope" and on.train.steps == 4000
    assert off.model_options["n_layers"] != 3 and off.train.steps == TrainConfig().steps
    assert over.model_options["pe"] == "none" and over.model_options["n_layers"] == 3 and over.train.steps == 9


@pytest.mark.parametrize(
    "recipe, fragment",
    [
        ("{model: transformer}", "'reason'"),
        ("{reason: ' '}", "must say why"),
        ("{reason: x, colour: red}", "colour"),
        ("{reason: x, training: {stepz: 3}}", "stepz"),
    ],
)
def test_bad_recipes_are_clear_errors(tmp_path, recipe, fragment):
    path = tmp_path / "b.yaml"
    path.write_text(f"task: count\ntrain_lengths: 1-4\ntest_lengths: 8\nrecipe: {recipe}\n")
    with pytest.raises(LengthgenError, match=fragment):
        apply_settings(RunConfig(), {"benchmark": str(path)}, "test")


def test_overriding_an_abacus_recipes_encoding_drops_its_segment_tokens():
    from lengthgen.experiment import RunConfig, apply_settings, validate
    from lengthgen.models.positional import SEGMENT_KINDS

    cfg = apply_settings(RunConfig(), {"benchmark": "addition-reversed"}, "test")
    assert cfg.model_options["pe"] in SEGMENT_KINDS and cfg.model_options["segment_tokens"] == ["+", "<sep>"]
    other = apply_settings(RunConfig(), {"benchmark": "addition-reversed", "pe": "rope"}, "test")
    assert other.model_options["pe"] == "rope"
    assert not {"segment_tokens", "segment_ends", "abacus_offset"} & set(other.model_options)
    validate(other)  # builds: no abacus option left behind
    assert other.model_options["n_layers"] == cfg.model_options["n_layers"]  # the rest of the recipe stays
    for kind in SEGMENT_KINDS:  # the other abacus kind keeps the segments it also uses
        same = apply_settings(RunConfig(), {"benchmark": "addition-reversed", "pe": kind}, "test")
        assert same.model_options["segment_tokens"] == ["+", "<sep>"]
        validate(same)
