"""One registry for everything that enters a run's identity, with versions.

A run's identity (the configuration hashed into its fingerprint) names the
run, guards its checkpoint and lets a sweep skip finished cells.  Two kinds
of change would break that, and each is declared here, once:

* **late options**: an option added after results existed, with the value
  that reproduces them.  A run at that value leaves the option out of its
  identity, so earlier fingerprints stay valid and no version is needed.
* **versioned changes**: a definition whose identity or meaning changed.
  The definition's version goes up; the change says how records of earlier
  versions hold the option in their identity (absent, or a stored marker
  such as ``None``) and which value reproduces them in today's terms, so an
  old record resolves to the model it was trained with.

Definitions: ``run`` (the record's own keys), ``train`` (the training
loop's options), ``model`` (the transformer family's construction) and one
per positional encoding (``encoding:fire``).  Tasks declare their own
``version`` and ``legacy_params`` on the task class, and late task
parameters with ``Param(late=True)``, so that a plugin's task versions
itself without editing this file; :func:`identity` reads both.

New result files record the versions they were made with (``definitions``);
for older ones :func:`record_versions` reads the traces the changes left in
the stored identity.

>>> cfg = {"variant": "", "train": {"steps": 10, "stop_confident": False}, "model_options": {}, "params": {}}
>>> sorted(identity(cfg, "count")["train"])   # a late option at its earlier value drops out
['steps']
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lengthgen.tasks import TASKS


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT = _Absent()  # how a record of an earlier version holds an option it did not have


@dataclass(frozen=True)
class Late:
    """An option added after results existed; identity omits it at ``before``."""

    section: str  # "model_options" or "train"
    option: str
    before: Any
    note: str


@dataclass(frozen=True)
class Change:
    """A versioned change of ``definition``: from ``version`` on, ``section.option``
    is in the identity; records of earlier versions hold it as ``stored`` and
    are reproduced by ``before`` (a value, or a function of the record's
    configuration for meanings that depend on it)."""

    definition: str
    version: int
    section: str  # "" for a top-level key of the configuration
    option: str
    stored: Any
    before: Any | Callable[[dict[str, Any]], Any]  # a function of the record's configuration
    note: str
    applies: Callable[[dict[str, Any]], bool] = lambda config: True
    # records of earlier versions that no option of today's code rebuilds
    lost: Callable[[dict[str, Any]], bool] = lambda config: False


LATE: tuple[Late, ...] = (
    Late("model_options", "act", True, "UT/Hyper-UT: act=false runs every step (the fixed-depth control)"),
    Late("model_options", "segment_tokens", None, "abacus and abacus-rope: which tokens separate numbers"),
    Late("model_options", "abacus_offset", 0, "abacus: random offset of the place index in training"),
    Late("model_options", "segment_ends", None, "abacus-rope: place index from the segment's end"),
    Late("model_options", "freeze_embeddings", False, "frozen token embeddings (the symbols study)"),
    Late("model_options", "halting_start", 0, "ACT halts only after this many fixed-step training steps"),
    Late("model_options", "abacus_offset_draw", "row", "abacus offsets drawn per row or once per batch"),
    Late("model_options", "place_window", 0, "abacus: attention confined to places at most this far apart"),
    Late(
        "model_options",
        "bos",
        False,
        "transformer: a learned start vector before every sequence (Huang et al.'s <bos>)",
    ),
    Late("model_options", "bos_scored", False, "transformer: the start vector is also a class of the tied readout"),
    Late("model_options", "bos_score_grad", "both", "transformer: which side of the scored start logit learns from it"),
    Late("model_options", "activation", "gelu", "transformer: exact GELU or GPT-2's tanh approximation"),
    Late("train", "stop_confident", False, "stop-when-fitted needs a Wilson bound >= 95% on two probes"),
    Late("train", "stop_on_test_params", False, "the stop rule's probe also reads the test_params inputs"),
    Late("train", "position_offset", "none", "random position offsets per example or batch (conjecture-v3)"),
    Late("train", "offset_span", 0, "how far offsets reach (0: the longest evaluated sequence)"),
    Late("train", "pack_context", 0, "training rows packed with consecutive examples"),
    Late("train", "length_buckets", 0, "a batch run as groups of similar length, each padded to its own longest"),
    Late("train", "pack_examples", False, "whole examples packed into rows, attention confined to each"),
    Late("train", "curriculum_on_fit", False, "training lengths opened one at a time, each when the last fits"),
    Late("train", "init_from", "", "training starts from another run's checkpoint"),
    Late("train", "init_from_sha256", "", "the sha256 of the init_from checkpoint"),
    Late("train", "schedule", "cosine", "the decay after warmup: cosine or linear (Hugging Face's default)"),
    Late("train", "adam_beta2", 0.98, "Adam's second-moment decay (torch's and Hugging Face's default: 0.999)"),
    Late("train", "decay_embeddings", False, "weight decay on embeddings and position tables too"),
    Late("train", "data_seed", None, "the training stream's own seed (None: the run's seed)"),
)

LATE_OPTIONS: dict[str, Any] = {x.option: x.before for x in LATE if x.section == "model_options"}
LATE_TRAIN_OPTIONS: dict[str, Any] = {x.option: x.before for x in LATE if x.section == "train"}


def _modified(config: dict[str, Any]) -> bool:
    # transformer-modattn is the transformer with modified heads fixed on
    return config.get("model") == "transformer-modattn" or bool(
        (config.get("model_options") or {}).get("modified_heads")
    )


TRANSFORMERS = ("transformer", "transformer-modattn")
UNIVERSAL = ("ut", "hyper-ut")
CHANGED_POSITION_KINDS = ("sinusoidal", "randomized", "randomized-rope", "randomized-learned")


def _model_in(names: tuple[str, ...]) -> Callable[[dict[str, Any]], bool]:
    return lambda config: config.get("model") in names


def _task_is(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda config: config.get("task") == name


def _old_scaling(config: dict[str, Any]) -> bool:
    """muP's earlier scaling, the earlier token scale next to sinusoidal and
    randomized positions, and every randomized kind's per-batch draws have
    no option today."""
    options = config.get("model_options") or {}
    return options.get("parametrization") == "mup" or options.get("pe") in CHANGED_POSITION_KINDS


def _old_positions(config: dict[str, Any]) -> bool:
    return (config.get("model_options") or {}).get("pe") in CHANGED_POSITION_KINDS


CHANGES: tuple[Change, ...] = (
    Change("run", 2, "", "variant", ABSENT, "", "a sweep grid's variant, '' outside a grid (0304cf4)"),
    Change(
        "train", 2, "train", "train_examples", ABSENT, 0,
        "finite training sets (0304cf4): 0, a fresh batch every step, is what earlier runs did",
    ),
    Change(
        "train", 3, "train", "stop_when_fitted", ABSENT, False,
        "stop when fitted (eb4ad65): earlier runs always used their whole budget",
    ),
    Change(
        "model:transformer", 2, "model_options", "tie_embeddings", ABSENT, False,
        "tied readout (3fde303): earlier transformers had a separate readout",
        applies=_model_in(TRANSFORMERS), lost=_old_scaling,
    ),
    Change(
        "model:transformer", 3, "model_options", "identity_scale", None,
        lambda config: config["model_options"]["d_model"] ** -0.5 if _modified(config) else 1.0,
        "modified heads (c4983e1): identity_scale null meant d_model**-0.5 until the authors' multiplier 1 "
        "became the default, written out since; the same session made muP keep the standard depth scaling "
        "and scale weight decay with width (a201d24), scaled token embeddings by sqrt(d) next to "
        "sinusoidal and randomized positions (dbb137b) and drew randomized positions per row (ee6a00b): "
        "records with identity_scale null predate all of them",
        applies=_model_in(TRANSFORMERS), lost=_old_scaling,
    ),
    Change(
        "model:transformer", 3, "model_options", "identity", ABSENT, "both",
        "modified heads with +aI and +bI separately (c4983e1): earlier heads had both",
        applies=_model_in(TRANSFORMERS), lost=_old_scaling,
    ),
    Change(
        "model:ut", 2, "model_options", "position_every_step", ABSENT, False,
        "UT/Hyper-UT position signal at every step (2e58e48): earlier, at the input only",
        applies=_model_in(UNIVERSAL), lost=_old_positions,
    ),
    Change(
        "model:ut", 2, "model_options", "ponder_warmup", ABSENT, 0,
        "ponder-cost warm-up (2e58e48): earlier, the full cost from step 0",
        applies=_model_in(UNIVERSAL), lost=_old_positions,
    ),
    Change(
        "model:ut", 3, "model_options", "mixture_bias_decay", ABSENT, True,
        "Hyper-UT banks' biases exempt from weight decay like the UT's biases: earlier, as [banks, d_out] "
        "matrices, they were decayed",
        applies=_model_in(("hyper-ut",)),
    ),
    Change(
        "params:parity", 2, "params", "scratchpad", ABSENT, False,
        "parity's scratchpad variant (192fbfa): earlier parity targeted the answer only",
        applies=_task_is("parity"),
    ),
)  # fmt: skip

# current version of each definition
VERSIONS: dict[str, int] = {}
for _c in CHANGES:
    VERSIONS[_c.definition] = max(VERSIONS.get(_c.definition, 1), _c.version)
PE_VERSIONS: dict[str, int] = {"fire": 2}  # fire 2: the paper's threshold parametrisation
for _pe, _v in PE_VERSIONS.items():
    VERSIONS[f"encoding:{_pe}"] = _v


def _get(config: dict[str, Any], change: Change) -> Any:
    holder = config.get(change.section) if change.section else config
    return holder.get(change.option, ABSENT) if isinstance(holder, dict) else ABSENT


def _set(config: dict[str, Any], change: Change, value: Any) -> None:
    holder = config.setdefault(change.section, {}) if change.section else config
    if value is ABSENT:
        holder.pop(change.option, None)
    else:
        holder[change.option] = value


def identity(config: dict[str, Any], task: str, versions: dict[str, int] | None = None) -> dict[str, Any]:
    """The identity of a resolved configuration (a plain dict of RunConfig's
    identity fields) at ``versions`` (default: today's).  Late options at
    their earlier value drop out; a task or encoding past version 1 is named
    with its version; an earlier version's changes are undone the way its
    records stored them."""
    data = copy.deepcopy(config)
    late = {(x.section, x.option): x.before for x in LATE}
    for section in ("model_options", "train"):
        data[section] = {
            k: v for k, v in (data.get(section) or {}).items() if not ((section, k) in late and v == late[section, k])
        }
    spec = TASKS.get(task) if task in TASKS else None
    params = spec.params if spec is not None else {}
    data["params"] = {
        k: v
        for k, v in (data.get("params") or {}).items()
        if not (k in params and params[k].late and v == params[k].default)
    }
    versions = dict(versions or {})
    task_version = versions.get("task", spec.version if spec is not None else 1)
    if task_version > 1:
        data["task_version"] = task_version
    elif spec is not None and spec.version > 1:
        # a record of the task's version 1: the parameters today's generator needs to reproduce it were not in it
        for key in spec.legacy_params.get(1, {}):
            data["params"].pop(key, None)
    pe = (data.get("model_options") or {}).get("pe")
    pe_version = versions.get(f"encoding:{pe}", PE_VERSIONS.get(pe, 1))
    if pe_version > 1:
        data["pe_version"] = pe_version
    for change in CHANGES:
        if versions.get(change.definition, VERSIONS[change.definition]) < change.version and change.applies(config):
            _set(data, change, change.stored)
    return data


def record_versions(record: dict[str, Any]) -> dict[str, int]:
    """The definition versions a result file was made with: recorded since
    this registry exists, read from the traces in its stored identity before."""
    stored = record.get("definitions")
    if isinstance(stored, dict):
        return {k: v for k, v in stored.items() if isinstance(v, int)}
    config = record.get("config") or {}
    versions = {c.definition: VERSIONS[c.definition] for c in CHANGES if c.applies(config)}
    for change in CHANGES:
        # ABSENT is a singleton, so == is identity for it
        if change.applies(config) and _get(config, change) == change.stored:
            versions[change.definition] = min(versions[change.definition], change.version - 1)
    task = record.get("task") or {}
    versions["task"] = int(task.get("version", 1))
    pe = (config.get("model_options") or {}).get("pe")
    if pe in PE_VERSIONS:
        versions[f"encoding:{pe}"] = int(config.get("pe_version", 1))
    return versions


def unreproducible(record: dict[str, Any]) -> list[str]:
    """Definitions of the record that today's code cannot build again: a task
    version without legacy parameters, an encoding whose earlier version no
    option reproduces.  Such a record is kept and reported, never resumed.

    >>> unreproducible({"config": {"task": "count", "model_options": {"pe": "fire"}}, "task": {"version": 1}})
    ['encoding:fire 1']
    """
    versions = record_versions(record)
    config = record.get("config") or {}
    out = []
    task = config.get("task")
    if task in TASKS:
        spec = TASKS.get(task)
        version = versions.get("task", 1)
        if version != spec.version and version not in spec.legacy_params:
            out.append(f"task:{task} {version}")
    pe = (config.get("model_options") or {}).get("pe")
    if pe in PE_VERSIONS and versions.get(f"encoding:{pe}", 1) != PE_VERSIONS[pe]:
        out.append(f"encoding:{pe} {versions.get(f'encoding:{pe}', 1)}")
    for change in CHANGES:
        version = versions.get(change.definition, VERSIONS[change.definition])
        label = f"{change.definition} {version}"
        if version < change.version and change.applies(config) and change.lost(config) and label not in out:
            out.append(label)
    return out


def current_versions(task: str, model: str, pe: str | None) -> dict[str, int]:
    """What a new result file records under ``definitions``."""
    config = {"task": task, "model": model}
    out = {c.definition: VERSIONS[c.definition] for c in CHANGES if c.applies(config)}
    out["task"] = TASKS.get(task).version if task in TASKS else 1
    if pe in PE_VERSIONS:
        out[f"encoding:{pe}"] = PE_VERSIONS[pe]
    return out


def upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """A stored configuration in today's terms: every option an earlier
    version did not write out gets the value that reproduces the run, so the
    model and training built from it are the ones the record was made with.
    Lengths stay as stored (strings); ``task_version``/``pe_version`` go."""
    versions = record_versions(record)
    config = copy.deepcopy(record.get("config") or {})
    applies = {c: c.applies(config) for c in CHANGES}
    for key in ("task_version", "pe_version"):
        config.pop(key, None)
    for change in CHANGES:
        if versions.get(change.definition, VERSIONS[change.definition]) < change.version and applies[change]:
            before = change.before(config) if callable(change.before) else change.before
            _set(config, change, before)
    task = config.get("task")
    if task in TASKS and versions.get("task", 1) != TASKS.get(task).version:
        legacy = TASKS.get(task).legacy_params.get(versions["task"])
        if legacy is not None:
            config["params"] = {**(config.get("params") or {}), **legacy}
    return config
