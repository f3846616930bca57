"""A run's configuration: its fields, how settings are merged into it (built-in
defaults, a benchmark file and its recipe, a run file, a suite, command-line
flags, each later one winning), where each value came from, the checks it
must pass, and how a result file's stored configuration is read back.

The resolved configuration is hashed (:meth:`RunConfig.fingerprint`); the
hash names the run and guards its checkpoint, so a resumed run is the same
run.  What enters the hash is declared in :mod:`lengthgen.versions`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from lengthgen.config import PRECISIONS, check_keys, parse_lengths
from lengthgen.data import find_benchmark
from lengthgen.errors import LengthgenError, check_seed
from lengthgen.evaluation.outcomes import check_longest_training_length
from lengthgen.models import MODELS, resolve_model_options
from lengthgen.models.positional import ENCODING_OPTIONS
from lengthgen.plugins import add_plugin_paths_from, ensure_model, ensure_task
from lengthgen.registry import close_matches_hint
from lengthgen.results import check_name
from lengthgen.suites import METRICS, load_benchmark
from lengthgen.tasks import make_task
from lengthgen.tasks.base import task_identity
from lengthgen.training.loop import TrainConfig, packing_obstacle
from lengthgen.versions import identity as identity_at
from lengthgen.versions import unreproducible, upgrade


@dataclass
class RunConfig:
    task: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    test_params: dict[str, Any] = field(default_factory=dict)
    model: str = "transformer"
    model_options: dict[str, Any] = field(default_factory=dict)
    train_lengths: list[int] = field(default_factory=list)
    test_lengths: list[int] = field(default_factory=list)
    metric: str = "exact"
    seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    eval_examples: int = 500
    eval_batch_size: int = 256
    representation_rank: bool = False  # RankMe and LiDAR at every evaluated length
    benchmark: str = ""
    variant: str = ""  # a sweep's "vary" setting for this run, e.g. "d_model=64"
    # where and how to run: not part of the run's identity
    device: str = "auto"
    # "auto": bf16 autocast on CUDA, float32 on the CPU; "float32" makes a GPU
    # run train in the CPU's precision (lengthgen.runconfig.uses_autocast)
    precision: str = "auto"
    out: str = "results/runs"
    name: str = ""
    compile: bool = False
    track: str = ""  # "csv", "tensorboard" or "wandb": the training curve as it happens (lengthgen.training.tracking)  # torch.compile the training forward (see benchmarks/model_throughput.py)
    # the benchmark recipe whose values were merged in (so a later change of
    # model can take them out again); its values are in the fields above, and
    # a run's identity must not change with how they got there
    applied_recipe: dict[str, Any] | None = field(default=None, repr=False)
    # where each value came from ("params.max_value" -> "benchmark tasks/count.yaml");
    # a key not named here is the built-in default
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    IDENTITY_EXCLUDES = ("device", "precision", "out", "name", "compile", "track", "applied_recipe", "sources")

    def identity(self, versions: dict[str, int] | None = None) -> dict[str, Any]:
        """What names this run: every setting that changes what is trained, at
        today's definition versions unless ``versions`` says otherwise
        (:mod:`lengthgen.versions` declares every late option and change)."""
        data = asdict(self)
        for key in self.IDENTITY_EXCLUDES:
            data.pop(key)
        return identity_at(data, self.task, versions)

    def fingerprint(self) -> str:
        return fingerprint_of(self.identity())

    def run_name(self) -> str:
        if self.name:
            return check_name(self.name)
        pe = self.model_options.get("pe")
        parts = (
            [_name_part(self.benchmark or self.task), _name_part(self.model)]
            + ([pe] if pe else [])
            + [f"s{self.seed}", self.fingerprint()[:8]]
        )
        return check_name("-".join(parts))


def fingerprint_of(identity: dict[str, Any]) -> str:
    """The hash that names a run with this identity (as :meth:`RunConfig.identity`
    gives it, and a result file stores it as its ``config``).  A program
    task (``rasp:FILE``) enters by its program's content, not the file's
    path, so the same cell run from another folder or clone keeps its name;
    the stored configuration keeps the path, to run it again."""
    task, params = task_identity(identity.get("task"), identity.get("params"))
    if task != identity.get("task"):
        identity = {**identity, "task": task, "params": params}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def _name_part(name: str) -> str:
    """A task or model name as part of a file name: ``module:Class`` and
    ``rasp:path/to/file.rasp`` keep their last readable piece.

    >>> _name_part("rasp:tasks/my progs/first.rasp"), _name_part("pkg.mod:MyModel"), _name_part("count")
    ('rasp-first', 'pkg.mod-MyModel', 'count')
    """
    if name.startswith("rasp:"):
        name = "rasp-" + Path(name[len("rasp:") :]).stem
    return re.sub(r"\.\.+", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", name)).strip("-.") or "task"


RUN_KEYS: dict[str, Any] = {
    "benchmark": str,
    "task": str,
    "params": dict,
    "test_params": dict,
    "model": str,
    "pe": str,
    "model_options": dict,
    "train_lengths": (str, int, list),
    "test_lengths": (str, int, list),
    "metric": str,
    "seed": int,
    "training": dict,
    "eval_examples": int,
    "eval_batch_size": int,
    "representation_rank": bool,
    "device": str,
    "precision": str,
    "out": str,
    "name": str,
    "compile": bool,
    "track": str,
    "recipe": bool,
    "plugin_path": (str, list),  # folders for module:Class names (--trust-config); not part of the run
}


def _train_types() -> dict[str, Any]:
    out = {}
    for f in fields(TrainConfig):
        kind = type(f.default)
        out[f.name] = (int, float) if kind is float else kind
    out["pack_examples"] = (bool, str)  # true, false or "auto" (resolved by validate)
    out["data_seed"] = (int, type(None))  # None: the run's seed
    return out


def apply_settings(
    cfg: RunConfig, data: dict[str, Any], source: str, base_dir: Path | None = None, allow_code: bool = False
) -> RunConfig:
    """Merge a mapping of run settings (from YAML or flags) into ``cfg``.

    ``allow_code``: a model or task given as ``package.module:Class`` may be
    imported (command-line flags, or a config the user trusts)."""
    check_keys(data, RUN_KEYS, source)
    if data.get("recipe") is False:
        drop_recipe(cfg)
    if data.get("plugin_path") is not None:
        add_plugin_paths_from(data["plugin_path"], source, base_dir, allow_code)
    for key, ensure in (("model", ensure_model), ("task", ensure_task)):
        if isinstance(data.get(key), str):
            try:
                ensure(data[key], allow_code)
            except LengthgenError as exc:
                raise LengthgenError(f"{source}: {exc}") from None
    if data.get("benchmark"):
        path = Path(data["benchmark"])
        if base_dir is not None and not path.is_absolute() and not path.exists() and (base_dir / path).is_file():
            path = base_dir / path
        elif not path.exists():
            path = find_benchmark(data["benchmark"])
        bench = load_benchmark(path)
        cfg.benchmark, cfg.task, cfg.params, cfg.test_params = (
            bench.name,
            bench.task,
            dict(bench.params),
            dict(bench.test_params),
        )
        cfg.train_lengths, cfg.test_lengths, cfg.metric = bench.train_lengths, bench.test_lengths, bench.metric
        _forget(cfg, "params.", "test_params.")
        where = f"benchmark {bench.source}"
        _mark(cfg, ["benchmark", "task", "train_lengths", "test_lengths", "metric"], where)
        _mark(cfg, [f"params.{k}" for k in bench.params] + [f"test_params.{k}" for k in bench.test_params], where)
        model = data.get("model") or cfg.model
        if bench.recipe and data.get("recipe", True) and model == bench.recipe["model"]:
            apply_recipe(cfg, bench.recipe, f"{source}: recipe of {bench.source}")
    if data.get("task") is not None:
        if data["task"] != cfg.task:
            cfg.params, cfg.test_params = {}, {}
            _forget(cfg, "params.", "test_params.")
        cfg.task = data["task"]
        _mark(cfg, ["task"], source)
    for key in ("params", "test_params", "model_options"):
        if data.get(key) is not None:
            setattr(cfg, key, {**getattr(cfg, key), **data[key]})
            _mark(cfg, [f"{key}.{k}" for k in data[key]], source)
    if data.get("model") is not None:
        if data["model"] != cfg.model:
            drop_recipe(cfg)
        cfg.model = data["model"]
        _mark(cfg, ["model"], source)
    if data.get("pe") is not None:
        cfg.model_options = {**cfg.model_options, "pe": data["pe"]}
        _mark(cfg, ["model_options.pe"], source)
    if cfg.applied_recipe is not None:
        # options the recipe set for its encoding: a run that overrides the
        # encoding drops them instead of failing on them
        pe = cfg.model_options.get("pe")
        for key, kinds in ENCODING_OPTIONS.items():
            recipe_value = cfg.applied_recipe["model_options"].get(key)
            if pe not in kinds and key in cfg.model_options and cfg.model_options[key] == recipe_value:
                cfg.model_options.pop(key)
                cfg.sources.pop(f"model_options.{key}", None)
    for key in ("train_lengths", "test_lengths"):
        if data.get(key) is not None:
            # 0 parses (c-pvr's zero hops); each task checks its own minimum in validate()
            setattr(cfg, key, parse_lengths(data[key], f"{source}: {key}", minimum=0))
            _mark(cfg, [key], source)
    for key in (
        "metric", "seed", "eval_examples", "eval_batch_size", "representation_rank", "device", "precision", "out", "name",
        "compile", "track",
    ):  # fmt: skip
        if data.get(key) is not None:
            setattr(cfg, key, data[key])
            _mark(cfg, [key], source)
    if data.get("training"):
        check_keys(data["training"], _train_types(), f"{source}: training")
        for key, value in data["training"].items():
            kind = type(getattr(TrainConfig, key))
            setattr(cfg.train, key, kind(value) if kind is float else value)
        _mark(cfg, [f"train.{k}" for k in data["training"]], source)
    return cfg


def _mark(cfg: RunConfig, keys: list[str], source: str) -> None:
    for key in keys:
        cfg.sources[key] = source


def _forget(cfg: RunConfig, *prefixes: str) -> None:
    for key in [k for k in cfg.sources if k.startswith(prefixes)]:
        del cfg.sources[key]


def provenance(cfg: RunConfig) -> list[tuple[str, Any, str]]:
    """Every setting of the run's identity with its value and where it came
    from (a key no file or flag set is the built-in default, or the model's
    default once :func:`validate` resolved the options).

    >>> cfg = apply_settings(RunConfig(), {"task": "count", "training": {"steps": 7}}, "command line")
    >>> [row for row in provenance(cfg) if row[0] in ("task", "train.steps", "train.lr")]
    [('task', 'count', 'command line'), ('train.lr', 0.001, 'default'), ('train.steps', 7, 'command line')]
    """
    rows: list[tuple[str, Any, str]] = []
    for key, value in cfg.identity().items():
        if isinstance(value, dict):
            rows += [(f"{key}.{k}", v, cfg.sources.get(f"{key}.{k}", "default")) for k, v in value.items()]
        else:
            rows.append((key, value, cfg.sources.get(key, "default")))
    return sorted(rows)


def apply_recipe(cfg: RunConfig, recipe: dict[str, Any], source: str) -> None:
    """A benchmark's recipe, under whatever the same settings or later ones give."""
    check_keys(recipe["training"], _train_types(), f"{source}: training")
    cfg.model_options = {**cfg.model_options, **recipe["model_options"]}
    for key, value in recipe["training"].items():
        kind = type(getattr(TrainConfig, key))
        setattr(cfg.train, key, kind(value) if kind is float else value)
    cfg.applied_recipe = recipe
    _mark(cfg, [f"model_options.{k}" for k in recipe["model_options"]], source)
    _mark(cfg, [f"train.{k}" for k in recipe["training"]], source)


def drop_recipe(cfg: RunConfig) -> None:
    """A later setting changed the model: the recipe's options were for
    another model; drop those still at the recipe's value."""
    recipe = cfg.applied_recipe
    if recipe is None:
        return
    for key, value in recipe["model_options"].items():
        if cfg.model_options.get(key) == value:
            cfg.model_options.pop(key)
            cfg.sources.pop(f"model_options.{key}", None)
    defaults = TrainConfig()
    for key, value in recipe["training"].items():
        if getattr(cfg.train, key) == value:
            setattr(cfg.train, key, getattr(defaults, key))
            cfg.sources.pop(f"train.{key}", None)
    cfg.applied_recipe = None


def validate(cfg: RunConfig) -> None:
    if not cfg.task:
        raise LengthgenError("no task given (use --task, --benchmark or a config file)")
    # a RunConfig already passed the trust check where it was read; a worker
    # process re-imports the user's code here
    ensure_model(cfg.model)
    ensure_task(cfg.task)
    if not cfg.train_lengths or not cfg.test_lengths:
        raise LengthgenError("both training lengths and test lengths are needed (--train-lengths, --test-lengths)")
    check_longest_training_length(cfg.train_lengths)
    if cfg.metric not in METRICS:
        raise LengthgenError(f"metric must be one of {', '.join(METRICS)}, got {cfg.metric!r}")
    cfg.seed = check_seed(cfg.seed, "seed")
    if not 1 <= cfg.eval_examples <= 1_000_000 or not 1 <= cfg.eval_batch_size <= 100_000:
        raise LengthgenError("eval_examples must be in 1..1,000,000 and eval_batch_size in 1..100,000")
    task = make_task(cfg.task, **cfg.params)
    test_task = make_task(cfg.task, **{**cfg.params, **cfg.test_params})
    for length in cfg.train_lengths:
        task.check_length(length)
    for length in cfg.test_lengths:
        test_task.check_length(length)
    MODELS.get(cfg.model)
    _mark(cfg, [f"params.{k}" for k in task.config if k not in cfg.params], f"task {cfg.task}'s default")
    cfg.params = dict(task.config)
    cfg.test_params = {k: test_task.config[k] for k in cfg.test_params}
    options = MODELS.get(cfg.model).options()
    if (
        task.symbolic_answers
        and "tie_embeddings" in options
        and "tie_embeddings" not in cfg.model_options
        and cfg.model_options.get("parametrization", options.get("parametrization")) != "mup"
    ):
        # unseen symbols can only be emitted through the tied embedding rows;
        # an explicit tie_embeddings=false still gets the untied readout
        cfg.model_options = {**cfg.model_options, "tie_embeddings": True}
        _mark(
            cfg,
            ["model_options.tie_embeddings"],
            "the task's symbolic answers (only a tied readout emits unseen symbols)",
        )
    given = set(cfg.model_options)
    cfg.model_options = resolve_model_options(cfg.model, cfg.model_options)
    _mark(cfg, [f"model_options.{k}" for k in cfg.model_options if k not in given], f"model {cfg.model}'s default")
    resolve_packing(cfg)
    cfg.train.validate()
    resolve_device(cfg.device)
    check_precision(cfg.precision)
    cfg.run_name()


def resolve_packing(cfg: RunConfig) -> None:
    """``pack_examples: auto`` becomes true where whole examples can be
    packed (the model confines attention, the encoding takes positions from
    0, no other padding removal) and false elsewhere, so that the run's
    identity names the layout it trained with."""
    if cfg.train.pack_examples != "auto":
        return
    spec = MODELS.get(cfg.model)
    pe = cfg.model_options.get("pe")
    obstacle = packing_obstacle(
        pe, spec.cls, cfg.train.pack_context, cfg.train.length_buckets, bool(cfg.model_options.get("bos"))
    )
    cfg.train.pack_examples = obstacle is None
    why = "packed" if obstacle is None else f"padded: {obstacle}"
    cfg.sources["train.pack_examples"] = f"{cfg.sources.get('train.pack_examples', 'auto')} (auto: {why})"


def resolve_device(spec: str) -> torch.device:
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise LengthgenError(f"unknown device {spec!r} (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise LengthgenError("--device cuda requested but CUDA is not available (use --device auto or cpu)")
    if device.type not in ("cpu", "cuda"):
        raise LengthgenError(f"unsupported device {spec!r} (use auto, cpu, cuda or cuda:N)")
    if device.type == "cpu" and device.index not in (None, 0):
        raise LengthgenError(f"unsupported device {spec!r}: the CPU is 'cpu'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise LengthgenError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) present")
    return device


def check_precision(spec: str) -> str:
    if spec not in PRECISIONS:
        hint = close_matches_hint(str(spec), list(PRECISIONS))
        raise LengthgenError(f"unknown precision {spec!r}{hint}: use auto, float32 or bf16")
    return spec


def uses_autocast(precision: str, device: torch.device) -> bool:
    """Whether training runs under bf16 autocast: by default on CUDA only
    (where it is fast), never with "float32", on any device with "bf16".
    Evaluation always runs in float32."""
    check_precision(precision)
    if precision == "auto":
        return device.type == "cuda"
    return precision == "bf16"


def config_of_record(record: dict[str, Any]) -> RunConfig:
    """The configuration a result file was made with, in today's terms
    (:func:`lengthgen.versions.upgrade`): building it builds that model."""
    data = upgrade(record)
    train = data.pop("train", {}) or {}
    known = {f.name for f in fields(RunConfig)}
    cfg = RunConfig(**{k: v for k, v in data.items() if k in known and k not in ("train_lengths", "test_lengths")})
    cfg.train = TrainConfig(**train)
    cfg.train_lengths = parse_lengths(data.get("train_lengths", []), "train_lengths", minimum=0)
    cfg.test_lengths = parse_lengths(data.get("test_lengths", []), "test_lengths", minimum=0)
    return cfg


def record_matches(record: dict[str, Any], fingerprint: str) -> bool:
    """Whether a result file is the run with this fingerprint: made by
    today's definitions, or by earlier ones that today's code rebuilds into
    the same configuration (an option added since, at the value the record
    implied).  A record that no option of today's code rebuilds never is."""
    if record.get("fingerprint") == fingerprint:
        return True
    if unreproducible(record):
        return False
    try:
        return config_of_record(record).fingerprint() == fingerprint
    except (LengthgenError, TypeError, ValueError, KeyError):
        return False


def render_provenance(cfg: RunConfig) -> str:
    """The resolved configuration as a table: setting, value, where it came from."""
    from lengthgen.config import format_lengths
    from lengthgen.tables import render_table

    rows = [
        [key, format_lengths(value) if key.endswith("_lengths") else repr(value), source]
        for key, value, source in provenance(cfg)
    ]
    return render_table(["setting", "value", "from"], rows, "github")
