"""The definition-version registry: every committed result rebuilds to its
own fingerprint and to the model it was trained with; an option added
without a registry entry fails here; resume finds records of earlier
versions and never a record today's code cannot rebuild."""

import json
from dataclasses import fields
from pathlib import Path

import pytest

from lengthgen import versions
from lengthgen.experiment import RunConfig, build, config_of_record
from lengthgen.models import MODELS, resolve_model_options
from lengthgen.runconfig import fingerprint_of
from lengthgen.tasks import TASKS
from lengthgen.tasks.base import resolve_task_name
from lengthgen.training.loop import TrainConfig
from lengthgen.versions import LATE_OPTIONS, LATE_TRAIN_OPTIONS, record_versions, unreproducible

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = sorted({p.parent for p in (ROOT / "results").rglob("*.json") if "runs" in p.parts or "pilot" in p.parts})


def task_class(name: str):
    """The registered task of a record's name; a program task (``rasp:FILE``)
    names its file where the cell ran, so the same file under this
    checkout's ``results/`` stands in when that path is not here."""
    if name.startswith("rasp:") and not Path(name[len("rasp:") :]).is_file() and "/results/" in name:
        name = "rasp:" + str(ROOT / "results" / name.split("/results/", 1)[1])
    return TASKS.get(resolve_task_name(name))


def records(folder: Path) -> list[dict]:
    out = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if "fingerprint" in data and "config" in data:
            out.append(data)
    return out


def fingerprint_at_record_versions(record: dict) -> str:
    return fingerprint_of(config_of_record(record).identity(record_versions(record)))


@pytest.mark.skipif(not FOLDERS, reason="needs the checkout's committed results")
@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(ROOT / "results")))
def test_every_committed_result_rebuilds_to_its_fingerprint_and_is_complete(folder):
    for record in records(folder):
        assert fingerprint_at_record_versions(record) == record["fingerprint"], record.get("name")
        cfg = config_of_record(record)
        # every option today's code has is written out: an option added without
        # an entry in lengthgen.versions would take today's default silently
        if cfg.model in MODELS:
            missing = set(resolve_model_options(cfg.model, {})) - set(cfg.model_options) - set(LATE_OPTIONS)
            assert not missing, f"{record['name']}: model options {sorted(missing)} not in the record or the registry"
        missing = (
            {f.name for f in fields(TrainConfig)} - set(record["config"].get("train", {})) - set(LATE_TRAIN_OPTIONS)
        )
        missing -= {c.option for c in versions.CHANGES if c.section == "train"}
        assert not missing, f"{record['name']}: training options {sorted(missing)} not in the record or the registry"
        spec = task_class(cfg.task)
        if record_versions(record).get("task", 1) == spec.version:
            missing = {k for k, p in spec.params.items() if not p.late} - set(cfg.params)
            assert not missing, f"{record['name']}: task parameters {sorted(missing)} not in the record or the registry"


MODATTN = [
    r
    for folder in FOLDERS
    for r in records(folder)
    if (r["config"].get("model_options") or {}).get("modified_heads") or r["config"]["model"] == "transformer-modattn"
]


@pytest.mark.skipif(not MODATTN, reason="needs the checkout's committed results")
def test_modified_head_records_rebuild_with_the_multiplier_they_used():
    old = 0
    for record in MODATTN:
        if unreproducible(record):
            continue
        stored = record["config"]["model_options"].get("identity_scale")
        cfg = config_of_record(record)
        _, _, model = build(cfg)
        d = cfg.model_options["d_model"]
        expected = d**-0.5 if stored is None else stored  # null meant d**-0.5 when those runs were made
        old += stored is None
        for block in model.blocks:
            assert block.attn.identity_scale == pytest.approx(expected), record["name"]
    assert old > 0  # the committed symbols studies hold such records


def test_an_unregistered_change_is_caught(monkeypatch):
    old = next(r for f in FOLDERS for r in records(f) if "stop_when_fitted" not in r["config"].get("train", {}))
    assert fingerprint_at_record_versions(old) == old["fingerprint"]
    monkeypatch.setattr(versions, "CHANGES", tuple(c for c in versions.CHANGES if c.option != "stop_when_fitted"))
    assert fingerprint_at_record_versions(old) != old["fingerprint"]


def test_versions_read_from_traces_and_from_new_records():
    trace = {"config": {"model": "transformer", "variant": "", "train": {"train_examples": 0}, "model_options": {"identity_scale": None, "tie_embeddings": False}}, "task": {"version": 1}}  # fmt: skip
    v = record_versions(trace)
    assert v["train"] == 2 and v["model:transformer"] == 2 and v["run"] == 2
    new = {**trace, "definitions": {"train": 3, "model:transformer": 3, "run": 2, "task": 1}}
    assert record_versions(new)["train"] == 3
    mup = {
        **trace,
        "config": {
            **trace["config"],
            "model_options": {"identity_scale": None, "tie_embeddings": False, "parametrization": "mup"},
        },
    }
    assert unreproducible(mup) == ["model:transformer 2"]
    assert unreproducible({"config": {"task": "count", "model_options": {"pe": "fire"}}, "task": {"version": 1}}) == [
        "encoding:fire 1"
    ]


def test_upgrade_fills_what_the_earlier_version_implied():
    record = {
        "config": {
            "task": "count",
            "model": "transformer-modattn",
            "model_options": {"d_model": 64, "modified_heads": True, "identity_scale": None},
            "train": {"steps": 5},
        },
        "task": {"version": 1},
    }
    up = versions.upgrade(record)
    assert up["model_options"]["identity_scale"] == pytest.approx(0.125)
    assert up["model_options"]["identity"] == "both" and up["model_options"]["tie_embeddings"] is False
    assert up["train"] == {"steps": 5, "train_examples": 0, "stop_when_fitted": False} and up["variant"] == ""


def test_new_results_record_their_versions_and_resume_finds_an_earlier_record(tmp_path):
    from lengthgen.experiment import run_experiment
    from lengthgen.suites import Suite, load_benchmark
    from lengthgen.sweeps.cells import expand, is_complete

    bench = load_benchmark(ROOT / "tasks" / "count.yaml")
    suite = Suite(
        name="tiny",
        benchmarks=[bench],
        settings={
            "models": ["transformer"],
            "seeds": 1,
            "recipes": False,
            "model_options": {"d_model": 16, "n_layers": 1, "n_heads": 2},
            "training": {"steps": 2, "batch_size": 4, "eval_every": 2, "eval_examples": 4, "warmup": 1},
            "evaluation": {"examples": 4},
        },
    )
    (cell,) = expand(suite, tmp_path)
    result = run_experiment(cell.config, resume=False, progress=False, log=lambda m: None)
    assert result["definitions"] == versions.current_versions("count", "transformer", cell.config.model_options["pe"])
    assert record_versions(result) == result["definitions"]
    # the same run as a record made before stop_when_fitted entered the identity
    path = cell.result_path()
    old = json.loads(path.read_text())
    del old["definitions"], old["config"]["train"]["stop_when_fitted"]
    old["fingerprint"] = fingerprint_at_record_versions(old)
    path.unlink()
    (tmp_path / f"{old['fingerprint'][:16]}.json").write_text(json.dumps(old))
    assert is_complete(cell)
    # a record of an earlier model definition that no option rebuilds is never this cell
    old["config"]["model_options"]["identity_scale"] = None
    old["config"]["model_options"]["parametrization"] = "mup"
    (tmp_path / f"{old['fingerprint'][:16]}.json").write_text(json.dumps(old))
    assert not is_complete(cell)


def test_runconfig_identity_is_the_registry_identity():
    cfg = RunConfig(task="count", model="transformer", model_options={"pe": "fire", "act": True}, train_lengths=[1, 2])
    ident = cfg.identity()
    assert ident["pe_version"] == versions.PE_VERSIONS["fire"] and "act" not in ident["model_options"]
    assert cfg.identity({"encoding:fire": 1}).get("pe_version") is None
