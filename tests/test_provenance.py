"""Settings provenance: every value of a run's configuration says where it
came from (flag, run file, benchmark, its recipe, a suite, a default), and
an override removes what it replaced, sources included."""

import json
from pathlib import Path

from lengthgen.cli.main import main
from lengthgen.runconfig import RunConfig, apply_settings, provenance, validate

ROOT = Path(__file__).resolve().parents[1]


def sources(cfg: RunConfig) -> dict[str, str]:
    return {key: source for key, _, source in provenance(cfg)}


def test_later_settings_win_and_say_so(tmp_path):
    run_file = tmp_path / "run.yaml"
    run_file.write_text("benchmark: count\nseed: 3\ntraining: {lr: 0.003}\n")
    cfg = apply_settings(RunConfig(), {"benchmark": "count", "seed": 3, "training": {"lr": 0.003}}, str(run_file))
    cfg = apply_settings(cfg, {"seed": 4, "training": {"steps": 11}}, "command line")
    validate(cfg)
    src = sources(cfg)
    assert src["seed"] == "command line" and cfg.seed == 4
    assert src["train.steps"] == "command line"
    assert src["train.lr"] == str(run_file)  # the run file beat the recipe's 0.001
    assert src["train.warmup"].endswith("recipe of " + str(ROOT / "tasks" / "count.yaml"))
    assert src["params.max_value"] == f"benchmark {ROOT / 'tasks' / 'count.yaml'}"
    assert src["params.direction"] in (f"benchmark {ROOT / 'tasks' / 'count.yaml'}", "task count's default")
    assert src["train.grad_clip"] == "default"
    assert src["model_options.dropout"] == "model transformer's default"


def test_changing_the_model_drops_the_recipe_and_its_sources():
    cfg = apply_settings(RunConfig(), {"benchmark": "count"}, "command line")
    assert "recipe of" in sources(cfg)["model_options.n_layers"]
    cfg = apply_settings(cfg, {"model": "lstm"}, "command line")
    validate(cfg)
    src = sources(cfg)
    assert not any("recipe of" in s for s in src.values()), src
    assert src["model"] == "command line"


def test_overriding_the_encoding_drops_the_options_only_the_recipe_encoding_reads():
    cfg = apply_settings(RunConfig(), {"benchmark": "addition-reversed"}, "command line")
    recipe_options = cfg.applied_recipe["model_options"]
    owned = [k for k in ("segment_tokens", "segment_ends", "abacus_offset") if k in recipe_options]
    assert owned, "the addition-reversed recipe uses an encoding with options of its own"
    cfg = apply_settings(cfg, {"pe": "rope"}, "command line")
    validate(cfg)
    for key in owned:
        assert key not in cfg.model_options or cfg.model_options[key] in (None, 0)
        assert sources(cfg).get(f"model_options.{key}", "") != "command line: recipe of"


def test_print_config_commands_and_the_result_file(capsys, tmp_path):
    assert main(["run", "--benchmark", "sort", "--pe", "learned", "--steps", "9", "--print-config"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert "command line" in rows["model_options.pe"] and "'learned'" in rows["model_options.pe"]
    assert "recipe of" in rows["train.lr"] and "| 9 " in rows["train.steps"]
    assert not list(tmp_path.iterdir())  # nothing ran, nothing written
    assert main(["bench", "--suite", "quick", "--tasks", "mode,sort", "--seeds", "0", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert out.count("## mode/") == 1 and out.count("## sort/") == 1 and "quick.yaml" in out
    code = main(
        ["run", "--task", "count", "--train-lengths", "1-3", "--test-lengths", "4", "--model-opt", "d_model=16",
         "--model-opt", "n_layers=1", "--model-opt", "n_heads=2", "--steps", "2", "--batch-size", "4",
         "--eval-every", "2", "--eval-examples", "4", "--warmup", "1", "--out", str(tmp_path), "--name", "p"]
    )  # fmt: skip
    assert code == 0
    result = json.loads((tmp_path / "p.json").read_text())
    assert result["provenance"]["train.steps"] == "command line"
    assert result["provenance"]["task"] == "command line"
    assert "train.grad_clip" not in result["provenance"]  # defaults are not listed


def test_data_seed_flag_reaches_the_run_and_is_said(capsys):
    assert main(["run", "--benchmark", "sort", "--seed", "2", "--data-seed", "5", "--print-config"]) == 0
    rows = {line.split("|")[1].strip(): line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")}
    assert "command line" in rows["train.data_seed"] and "| 5 " in rows["train.data_seed"]
    assert "| 2 " in rows["seed"]
