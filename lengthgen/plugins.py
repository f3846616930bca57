"""A researcher's own models and tasks, without editing this package.

Three ways in:

- ``--model package.module:Class`` on the command line (or ``--task
  package.module:Class``): the person running the command chose that code;
- the same in a run config or suite YAML, only with ``--trust-config``: a
  shared YAML file must not import code on its own;
- an installed package that declares entry points in the groups
  ``lengthgen.models`` and ``lengthgen.tasks``; they show up in
  ``models list`` and ``tasks list``.

The model contract (checked when the model is loaded, one-line errors):

- the class is constructed as ``Class(vocab_size, **options)``; its keyword
  arguments with defaults are its options (``--model-opt key=value``);
- ``forward(tokens)`` takes a LongTensor ``[batch, length]`` and returns
  next-token logits ``[batch, length, vocab_size]`` (or a
  :class:`~lengthgen.models.ModelOutput`), causally: position ``i`` sees
  tokens ``<= i`` only;
- a subclass of :class:`~lengthgen.models.SequenceModel` gets everything the
  built-in models have (positional encodings, KV-cache decoding when it
  sets ``supports_cache``); any other ``nn.Module`` is wrapped: it decodes by
  recomputing the sequence each step and its FLOPs are estimated as
  2 x parameters per token.

A task is a :class:`~lengthgen.tasks.Task` subclass (see ``lengthgen/tasks/``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

from lengthgen.errors import LengthgenError

ENTRY_GROUPS = {"models": "lengthgen.models", "tasks": "lengthgen.tasks"}
MODULE_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_loaded_entry_points = False


def is_module_path(name: str) -> bool:
    return isinstance(name, str) and bool(MODULE_PATH.match(name))


_plugin_paths: list[str] = []


def add_plugin_path(folder: str) -> None:
    """Make ``folder`` importable for ``module:Class`` names, after every
    installed package (a file there named like a dependency is never picked
    up instead of it).  The current folder is never added implicitly."""
    import os

    path = os.path.abspath(os.path.expanduser(folder))
    if not os.path.isdir(path):
        raise LengthgenError(f"--plugin-path {folder}: no such folder")
    if path not in sys.path:
        sys.path.append(path)
    if path not in _plugin_paths:
        _plugin_paths.append(path)


def add_plugin_paths_from(value: Any, source: str, base_dir: Path | None, allow_code: bool) -> None:
    """A run file's or suite's ``plugin_path`` (a folder or a list; relative
    to the file's folder): importable only when the user trusts the file,
    since it lets the file import code from there."""
    folders = [value] if isinstance(value, str) else value
    if not isinstance(folders, list) or not folders or not all(isinstance(f, str) and f for f in folders):
        raise LengthgenError(f"{source}: plugin_path must be a folder or a list of folders, got {value!r}")
    if not allow_code:
        raise LengthgenError(
            f"{source}: plugin_path makes a folder's Python code importable; pass --trust-config if you trust this file"
        )
    for folder in folders:
        path = Path(folder).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            add_plugin_path(str(path))
        except LengthgenError:
            raise LengthgenError(f"{source}: plugin_path {folder}: no such folder ({path})") from None


def plugin_paths() -> list[str]:
    """The folders added with :func:`add_plugin_path` (sweep workers add them too)."""
    return list(_plugin_paths)


def load_object(spec: str) -> Any:
    """``package.module:Name`` -> the object (imports the module)."""
    if not is_module_path(spec):
        raise LengthgenError(f"{spec!r} is not a module path of the form package.module:Name")
    module_name, attr = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LengthgenError(
            f"cannot import {module_name!r} for {spec!r}: {exc} (lengthgen does not import from the current "
            "folder on its own: name the folder with --plugin-path DIR, or install the package)"
        ) from None
    except (Exception, SystemExit) as exc:  # the user's module failed (or exited) while importing
        raise LengthgenError(f"importing {module_name!r} for {spec!r} failed: {type(exc).__name__}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise LengthgenError(f"module {module_name!r} has no attribute {attr!r}") from None


class PluginModel:
    """Mixin marker; the wrapper class is built per user class in :func:`wrap_module`."""


def wrap_module(user_cls: type[nn.Module]):
    """A SequenceModel around a plain ``nn.Module`` that maps tokens to logits."""
    import torch
    from torch import nn

    from lengthgen.models.base import ModelOutput, SequenceModel
    from lengthgen.models.positional import PositionalEncoding

    class Wrapped(SequenceModel, PluginModel):
        supports_cache = False

        def __init__(self, vocab_size: int, **options: Any):
            nn.Module.__init__(self)
            self.vocab_size = vocab_size
            self.inner = user_cls(vocab_size, **options)
            self.n_heads = int(getattr(self.inner, "n_heads", 1))
            self.d_model = int(getattr(self.inner, "d_model", 0))
            self.pe = PositionalEncoding("none", max(self.n_heads, 1), max(self.n_heads, 1), 1)

        @property
        def embedding(self):  # where sample_positions puts its tensors
            return next(self.inner.parameters())

        def sample_positions(self, rng, batch, length, row_lengths=None, training=False):
            return None

        def forward(self, tokens: torch.Tensor, positions=None, cache=None) -> ModelOutput:
            out = self.inner(tokens)
            return out if isinstance(out, ModelOutput) else ModelOutput(out)

        def flops_per_token(self, context: int, steps: float | None = None) -> float:
            return 2.0 * self.num_parameters()

    Wrapped.__name__ = Wrapped.__qualname__ = f"Wrapped{user_cls.__name__}"
    return Wrapped


def spec_for(name: str, obj: Any):
    """A ModelSpec for a user class (or the ModelSpec itself)."""
    from torch import nn

    from lengthgen.models import ModelSpec, SequenceModel

    if isinstance(obj, ModelSpec):
        return ModelSpec(name, obj.cls, obj.description, dict(obj.fixed), obj.signature_of)
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)):
        raise LengthgenError(f"model {name!r} must be an nn.Module subclass (or a ModelSpec), got {obj!r}")
    doc = (inspect.getdoc(obj) or "user model").splitlines()[0]
    if issubclass(obj, SequenceModel):
        return ModelSpec(name, obj, doc)
    params = inspect.signature(obj.__init__).parameters
    if "vocab_size" not in params and len(params) < 2:
        raise LengthgenError(f"model {name!r}: __init__ must take vocab_size as its first argument")
    return ModelSpec(name, wrap_module(obj), doc, signature_of=obj)


def check_contract(name: str, vocab_size: int = 8) -> None:
    """Build the model with its defaults and run one forward pass."""
    import torch

    from lengthgen.models import build_model

    try:
        model = build_model(name, vocab_size)
    except LengthgenError:
        raise
    except Exception as exc:
        raise LengthgenError(f"model {name!r}: constructing it with vocab_size={vocab_size} failed: {exc}") from None
    tokens = torch.zeros(2, 5, dtype=torch.long)
    try:
        with torch.no_grad():
            out = model(tokens)
    except Exception as exc:
        raise LengthgenError(f"model {name!r}: forward(tokens [2, 5]) failed: {type(exc).__name__}: {exc}") from None
    logits = getattr(out, "logits", None)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, 5, vocab_size):
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(out).__name__
        raise LengthgenError(
            f"model {name!r}: forward(tokens) must return logits of shape [batch, length, vocab_size] = "
            f"[2, 5, {vocab_size}] (a tensor or a ModelOutput); got {got}"
        )
    if not logits.is_floating_point():
        raise LengthgenError(f"model {name!r}: logits must be floating point, got {logits.dtype}")
    if not sum(p.numel() for p in model.parameters()):
        raise LengthgenError(f"model {name!r} has no trainable parameters")
    # causal: a later token must not change what earlier positions predict
    changed = tokens.clone()
    changed[:, -1] = (changed[:, -1] + 1) % vocab_size
    model.eval()
    with torch.no_grad():
        first, second = model(tokens), model(changed)
    first = getattr(first, "logits", first)[:, :-1]
    second = getattr(second, "logits", second)[:, :-1]
    if not torch.allclose(first, second, atol=1e-5, rtol=1e-4):
        raise LengthgenError(
            f"model {name!r} is not causal: changing the last token changed the predictions at earlier positions"
        )


def register_user_model(spec: str) -> str:
    """Import ``package.module:Class``, check its contract, register it under that name."""
    from lengthgen.models import MODELS, register_model

    if spec in MODELS:
        return spec
    register_model(spec_for(spec, load_object(spec)))
    try:
        check_contract(spec)
    except LengthgenError:
        MODELS.unregister(spec)
        raise
    return spec


def register_user_task(spec: str) -> str:
    """Import ``package.module:Class`` (a Task subclass) and register it under
    that module path, so a sweep's worker processes can import it again."""
    from lengthgen.tasks import TASKS, Task

    if spec in TASKS:
        return spec
    obj = load_object(spec)
    if not (isinstance(obj, type) and issubclass(obj, Task)):
        raise LengthgenError(f"task {spec!r} must be a subclass of lengthgen.tasks.Task, got {obj!r}")
    for attr in ("name", "family", "length_unit"):
        if not isinstance(getattr(obj, attr, None), str):
            raise LengthgenError(f"task {spec!r} must set the class attribute {attr!r} (a string)")
    TASKS.register(spec)(obj)
    return spec


def ensure_model(name: str, allow_code: bool = True) -> None:
    """Make ``name`` resolvable: registered already, or a module path that
    may be imported (``allow_code``)."""
    from lengthgen.models import MODEL_PROVIDERS, MODELS

    if name in MODEL_PROVIDERS and name not in MODELS:
        import importlib

        importlib.import_module(MODEL_PROVIDERS[name])
    if name not in MODELS and not is_module_path(name):
        load_entry_points()  # a worker process has not loaded the installed plugins yet
    if name in MODELS or not is_module_path(name):
        return
    if not allow_code:
        raise LengthgenError(
            f"model {name!r} names Python code; a config file may load code only with --trust-config "
            "(or pass --model on the command line)"
        )
    register_user_model(name)


def ensure_task(name: str, allow_code: bool = True) -> str:
    from lengthgen.tasks import TASKS
    from lengthgen.tasks.base import TASK_RESOLVERS, resolve_task_name

    if isinstance(name, str) and name.startswith(tuple(TASK_RESOLVERS)):  # rasp:FILE: interpreted, not imported
        return resolve_task_name(name)
    if name not in TASKS and not is_module_path(name):
        load_entry_points()
    if name in TASKS or not is_module_path(name):
        return name
    if not allow_code:
        raise LengthgenError(
            f"task {name!r} names Python code; a config file may load code only with --trust-config "
            "(or pass --task on the command line)"
        )
    return register_user_task(name)


def _entry_points(group: str):
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


def load_entry_points(warn=None) -> list[str]:
    """Register the models and tasks that installed packages declare; a
    broken plugin is skipped with a warning, never fatal.  Runs once."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return []
    _loaded_entry_points = True
    from lengthgen.tasks import TASKS, register_task

    warn = warn or (lambda m: print(f"lengthgen: warning: {m}", file=sys.stderr))
    loaded = []
    model_points = _entry_points(ENTRY_GROUPS["models"])
    if model_points:  # the model registry (and torch) only when a plugin declares a model
        from lengthgen.models import MODELS, register_model
    for ep in model_points:
        try:
            if ep.name in MODELS:
                continue
            register_model(spec_for(ep.name, ep.load()))
            loaded.append(ep.name)
        except (Exception, SystemExit) as exc:  # a plugin that exits on import must not silence every command
            warn(f"skipping model plugin {ep.name!r} ({ep.value}): {exc}")
    for ep in _entry_points(ENTRY_GROUPS["tasks"]):
        try:
            obj = ep.load()
            if obj.name not in TASKS:
                register_task(obj)
                loaded.append(obj.name)
        except (Exception, SystemExit) as exc:
            warn(f"skipping task plugin {ep.name!r} ({ep.value}): {exc}")
    return loaded
