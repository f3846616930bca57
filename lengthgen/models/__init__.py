"""Models and their registry.

Each entry maps a name to a plain ``nn.Module`` class plus the constructor
arguments that make it that entry (``transformer-modattn`` is the
transformer with ``modified_heads=True``).  Options are checked against the
constructor's signature, so a typo is a clear error, not a silent default.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lengthgen.errors import LengthgenError
from lengthgen.models.base import KVCache, ModelOutput, SequenceModel
from lengthgen.models.looped import LoopedTransformer
from lengthgen.models.lstm import LSTMModel
from lengthgen.models.positional import PE_KINDS
from lengthgen.models.transformer import Transformer
from lengthgen.models.universal import HyperUT, UniversalTransformer
from lengthgen.registry import Registry, close_matches_hint


@dataclass(frozen=True)
class ModelSpec:
    name: str
    cls: type[SequenceModel]
    description: str
    fixed: dict[str, Any] = field(default_factory=dict)
    signature_of: type | None = None  # a wrapped user module: its own constructor defines the options
    # options derived from the others when a run is configured (a compiled
    # model's program hash), so that they enter the run's identity
    complete: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # False for a model whose weights are written, not learned (a run
    # evaluates it without a training step)
    trainable: bool = True

    def options(self) -> dict[str, Any]:
        """Constructor options a user may set, with their defaults."""
        out: dict[str, Any] = {}
        if self.signature_of is not None:
            for name, param in inspect.signature(self.signature_of.__init__).parameters.items():
                if name in ("self", "vocab_size", "vocabulary") or param.kind in (
                    param.VAR_KEYWORD,
                    param.VAR_POSITIONAL,
                ):
                    continue
                out[name] = None if param.default is param.empty else param.default
            return out
        for klass in self.cls.__mro__:
            if not (isinstance(klass, type) and issubclass(klass, SequenceModel)) or klass is SequenceModel:
                continue
            for name, param in inspect.signature(klass.__init__).parameters.items():
                if name in ("self", "vocab_size") or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                    continue
                out.setdefault(name, param.default)
        for key in self.fixed:
            out.pop(key, None)
        return out


MODELS: Registry[ModelSpec] = Registry("model")
# models registered by a module above this package when first named (the
# compiled RASP-L model needs lengthgen.rasp, which builds on models)
MODEL_PROVIDERS: dict[str, str] = {"compiled": "lengthgen.rasp.tomodel"}


def register_model(spec: ModelSpec) -> ModelSpec:
    return MODELS.register(spec.name)(spec)


def trainable_models() -> list[str]:
    """Registered models that learn (the ones tests train and sweeps compare)."""
    return [n for n in MODELS.names() if MODELS.get(n).trainable]


register_model(ModelSpec("transformer", Transformer, "decoder-only causal transformer (pre-norm)"))
register_model(
    ModelSpec(
        "transformer-modattn",
        Transformer,
        "transformer with abstract-symbols modified heads (W_Q W_K^T + aI, W_V W_O + bI)",
        fixed={"modified_heads": True},
    )
)
register_model(ModelSpec("ut", UniversalTransformer, "Universal Transformer: one shared block with ACT halting"))
register_model(ModelSpec("hyper-ut", HyperUT, "Hyper-UT: hypernetwork mixes weight banks per step, ACT depth"))
register_model(
    ModelSpec("looped", LoopedTransformer, "looped transformer: one shared block run T(n) times, input injected")
)
register_model(ModelSpec("lstm", LSTMModel, "LSTM baseline"))


# sizes that allocate memory up front: refuse what cannot fit before building
SIZE_CAPS = {"d_model": 16_384, "d_ff": 65_536, "n_layers": 256, "n_heads": 256, "max_positions": 1 << 20}


# integer options where 0 means "off" (every other integer option must be >= 1)
NON_NEGATIVE_OPTIONS = ("ponder_warmup", "abacus_offset", "halting_start", "steps_offset", "place_window")


def _check_value(model: str, key: str, value: Any, default: Any) -> Any:
    if key == "pe" and value not in PE_KINDS:
        hint = close_matches_hint(str(value), list(PE_KINDS))
        raise LengthgenError(f"unknown positional encoding {value!r}{hint}; choose from {', '.join(PE_KINDS)}")
    if key in ("segment_tokens", "segment_ends") and value is not None:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]  # one token (`--model-opt segment_ends=+`) is a one-token list
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(t, (str, int)) and not isinstance(t, bool) for t in value
        ):
            raise LengthgenError(f"model {model!r}: option {key!r} expects a list of token names, got {value!r}")
        return list(value)
    if value is None or default is None:
        if (
            key == "d_ff"
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int) or value <= 0)
        ):
            raise LengthgenError(f"model {model!r}: option 'd_ff' must be a positive integer, got {value!r}")
        if (
            key == "identity_scale"
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"))
        ):
            raise LengthgenError(f"model {model!r}: option 'identity_scale' must be a positive number, got {value!r}")
        if key in SIZE_CAPS and isinstance(value, int) and value > SIZE_CAPS[key]:
            raise LengthgenError(f"model {model!r}: option {key!r} must be <= {SIZE_CAPS[key]:,}, got {value}")
        return value
    kind = type(default)
    if kind is bool and not isinstance(value, bool):
        raise LengthgenError(f"model {model!r}: option {key!r} expects true or false, got {value!r}")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise LengthgenError(f"model {model!r}: option {key!r} expects an integer, got {value!r}")
    if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise LengthgenError(f"model {model!r}: option {key!r} expects a number, got {value!r}")
    if kind is int and key != "halting_bias" and key not in NON_NEGATIVE_OPTIONS and value < 1:
        raise LengthgenError(f"model {model!r}: option {key!r} must be >= 1, got {value}")
    if key in NON_NEGATIVE_OPTIONS and value < 0:
        raise LengthgenError(f"model {model!r}: option {key!r} must be >= 0, got {value}")
    if kind is int and value > SIZE_CAPS.get(key, 1_000_000):
        raise LengthgenError(
            f"model {model!r}: option {key!r} must be <= {SIZE_CAPS.get(key, 1_000_000):,}, got {value}"
        )
    if kind is float and not abs(value) < float("inf") or kind is float and value != value:
        raise LengthgenError(f"model {model!r}: option {key!r} must be a finite number, got {value}")
    if key == "identity_scale" and value <= 0:
        raise LengthgenError(f"model {model!r}: option 'identity_scale' must be a positive number, got {value!r}")
    if kind is float and key in ("dropout",) and not 0.0 <= value < 1.0:
        raise LengthgenError(f"model {model!r}: option {key!r} must be in [0, 1), got {value}")
    return kind(value) if kind is float else value


def resolve_model_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Full constructor options of model ``name``: defaults overridden by ``options``."""
    spec = MODELS.get(name)
    allowed = spec.options()
    resolved = dict(allowed)
    for key, value in options.items():
        if key not in allowed:
            hint = close_matches_hint(key, list(allowed))
            raise LengthgenError(f"model {name!r} has no option {key!r}{hint}; options: {', '.join(allowed)}")
        resolved[key] = _check_value(name, key, value, allowed[key])
    if spec.complete is not None:
        resolved = spec.complete(resolved)
    return resolved


def token_ids(names: list[str | int], vocabulary: Sequence[str] | None, option: str) -> list[int]:
    """Token names (or ids) of a model option as ids in the task's vocabulary."""
    ids = []
    for name in names:
        if isinstance(name, int):
            ids.append(name)
            continue
        if vocabulary is None:
            raise LengthgenError(f"option {option!r} names tokens ({name!r}); build the model for a task")
        if name not in vocabulary:
            hint = close_matches_hint(name, list(vocabulary)) or f"; tokens: {' '.join(vocabulary)}"
            raise LengthgenError(f"option {option!r}: token {name!r} is not in the task's vocabulary{hint}")
        ids.append(list(vocabulary).index(name))
    return ids


# Each size option is capped alone (SIZE_CAPS); their product is capped here,
# before anything is allocated, so an impossible model is a one-line error
# instead of an allocation failure or the OOM killer.
MAX_PARAMETERS = 1_000_000_000


def estimated_parameters(options: dict[str, Any], vocab_size: int) -> float:
    """A generous estimate from the common size options (attention 4d^2 and
    MLP 2 d d_ff per block, ``n_layers`` blocks, times ``banks`` where a
    hypernetwork keeps banks of them; embeddings, readout and a position
    table).  Models without ``d_model`` are not estimated (0).

    >>> estimated_parameters({"d_model": 64, "n_layers": 2}, 16)
    100352.0
    """
    d = options.get("d_model")
    if not isinstance(d, int) or isinstance(d, bool):
        return 0.0
    d_ff = options.get("d_ff") or 4 * d
    blocks = (options.get("n_layers") or 1) * (options.get("banks") or 1)
    table = (
        (options.get("max_positions") or 0) if options.get("pe") in ("learned", "randomized-learned", "abacus") else 0
    )
    return float(blocks * (4 * d * d + 2 * d * d_ff) + 2 * vocab_size * d + table * d)


def build_model(name: str, vocab_size: int, vocabulary: Sequence[str] | None = None, **options: Any) -> SequenceModel:
    """Instantiate a registered model.  ``vocabulary`` (the task's tokens, id
    order) turns token names in options such as ``segment_tokens`` into ids.

    >>> build_model("transformer", vocab_size=12, d_model=32, pe="alibi").pe.kind
    'alibi'
    >>> vocab = ["<pad>", "<sep>", "<eos>", "0", "1", "+"]
    >>> build_model("transformer", 6, vocab, pe="abacus", segment_tokens=["+", "<sep>"]).segment_ids.tolist()
    [1, 5]
    """
    spec = MODELS.get(name)
    resolved = resolve_model_options(name, options)
    estimate = estimated_parameters(resolved, vocab_size)
    if estimate > MAX_PARAMETERS:
        raise LengthgenError(
            f"model {name!r} with these options has about {estimate:,.0f} parameters (~{16 * estimate / 2**30:,.0f} GiB "
            f"with gradients and Adam's state), above the cap of {MAX_PARAMETERS:,}: use smaller d_model, d_ff, "
            "n_layers or banks"
        )
    for key in ("segment_tokens", "segment_ends"):
        if resolved.get(key):
            resolved[key] = token_ids(resolved[key], vocabulary, key)
    if "vocabulary" in inspect.signature(spec.cls.__init__).parameters:
        resolved["vocabulary"] = None if vocabulary is None else tuple(vocabulary)
    return spec.cls(vocab_size, **resolved, **spec.fixed)


__all__ = [
    "MODELS",
    "MODEL_PROVIDERS",
    "KVCache",
    "ModelOutput",
    "ModelSpec",
    "SequenceModel",
    "build_model",
    "register_model",
    "trainable_models",
    "resolve_model_options",
]
