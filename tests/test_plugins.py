"""A researcher's own models and tasks: module paths, trust, entry points, contract errors."""

import json
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from lengthgen import plugins
from lengthgen.cli.main import main
from lengthgen.models import MODELS
from lengthgen.tasks import TASKS

PLUGIN = textwrap.dedent(
    '''
    import numpy as np
    import torch
    from torch import nn

    from lengthgen.models import ModelOutput, SequenceModel
    from lengthgen.tasks import Batch, Param, Task
    from lengthgen.tasks.base import OFFSET


    class PrefixMean(nn.Module):
        """Causal prefix-mean model: a plain nn.Module mapping tokens to logits."""

        def __init__(self, vocab_size, d_model=8):
            super().__init__()
            self.emb = nn.Embedding(vocab_size, d_model)
            self.out = nn.Linear(d_model, vocab_size)

        def forward(self, tokens):
            h = self.emb(tokens)
            steps = torch.arange(1, tokens.shape[1] + 1).view(1, -1, 1)
            return self.out(h.cumsum(1) / steps + h)


    class NativeModel(SequenceModel):
        """Built on SequenceModel: gets the suite's positional encodings."""

        def __init__(self, vocab_size, d_model=8, pe="none", max_positions=64):
            super().__init__(vocab_size, d_model, 1, pe, max_positions)

        def forward(self, tokens, positions=None, cache=None):
            return self.readout(self.embed(tokens, self.resolve_positions(tokens, positions)))

        def flops_per_token(self, context, steps=None):
            return 2.0 * self.num_parameters()


    class LooksAhead(nn.Module):
        """Reads the whole sequence: a suffix mean, not causal."""

        def __init__(self, vocab_size, d_model=8):
            super().__init__()
            self.emb = nn.Embedding(vocab_size, d_model)
            self.out = nn.Linear(d_model, vocab_size)

        def forward(self, tokens):
            return self.out(self.emb(tokens).flip(1).cumsum(1).flip(1))


    class IntegerLogits(nn.Module):
        def __init__(self, vocab_size):
            super().__init__()
            self.vocab_size = vocab_size
            self.lin = nn.Linear(2, 2)

        def forward(self, tokens):
            return tokens.unsqueeze(-1).expand(*tokens.shape, self.vocab_size).clone()


    class WrongShape(nn.Module):
        def __init__(self, vocab_size):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, tokens):
            return tokens.float()


    class EchoLast(Task):
        """Output the last input token."""

        name = "echo-last"
        family = "user"
        length_unit = "items"
        params = {"alphabet": Param(4, "letters", minimum=2)}

        def build_tokens(self):
            return [str(i) for i in range(self.alphabet)]

        def _sample(self, rng, batch_size, length):
            x = rng.integers(0, self.alphabet, size=(batch_size, length))
            return Batch.fixed(x + OFFSET, x[:, -1:] + OFFSET)
    '''
)

TINY = ["--steps", "4", "--eval-every", "2", "--eval-examples", "8", "--batch-size", "4"]


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    (tmp_path / "lg_user_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lg_user_plugin"
    for name in [n for n in MODELS.names() if n.startswith("lg_user_plugin")] + ["my-model"]:
        MODELS.unregister(name)
    for name in [n for n in TASKS.names() if n.startswith("lg_user_plugin")] + ["echo-last"]:
        TASKS.unregister(name)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("cls", ["PrefixMean", "NativeModel"])
def test_command_line_model(plugin_module, tmp_path, capsys, cls):
    code, out, err = run(
        capsys, "run", "--model", f"{plugin_module}:{cls}", "--benchmark", "count", "--model-opt", "d_model=4",
        "--out", tmp_path / "runs", *TINY,
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())
    assert result["config"]["model"] == f"{plugin_module}:{cls}" and result["model"]["options"]["d_model"] == 4
    assert "fitted" in out


def test_contract_errors_are_one_line(plugin_module, capsys):
    code, _, err = run(capsys, "run", "--model", f"{plugin_module}:WrongShape", "--benchmark", "count", *TINY)
    assert code == 2 and "logits of shape [batch, length, vocab_size]" in err and err.count("\n") == 1
    code, _, err = run(capsys, "run", "--model", f"{plugin_module}:Missing", "--benchmark", "count", *TINY)
    assert code == 2 and "has no attribute 'Missing'" in err
    code, _, err = run(capsys, "run", "--model", "no_such_module_xyz:M", "--benchmark", "count", *TINY)
    assert code == 2 and "cannot import" in err
    assert f"{plugin_module}:WrongShape" not in MODELS  # a failed contract leaves nothing registered


def test_contract_checks_causality_and_floating_logits(plugin_module, capsys):
    code, _, err = run(capsys, "run", "--model", f"{plugin_module}:LooksAhead", "--benchmark", "count", *TINY)
    assert code == 2 and "not causal" in err and err.count("\n") == 1
    code, _, err = run(capsys, "run", "--model", f"{plugin_module}:IntegerLogits", "--benchmark", "count", *TINY)
    assert code == 2 and "floating point" in err


def test_a_plugin_that_exits_on_import_is_an_error_not_silence(tmp_path, monkeypatch, capsys):
    (tmp_path / "lg_exits_on_import.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, _, err = run(capsys, "run", "--model", "lg_exits_on_import:M", "--benchmark", "count", *TINY)
    assert code == 2 and "SystemExit" in err


def test_yaml_needs_trust_to_load_code(plugin_module, tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(f"model: {plugin_module}:PrefixMean\nbenchmark: count\n")
    code, _, err = run(capsys, "run", "--config", config, "--out", tmp_path / "runs", *TINY)
    assert code == 2 and "--trust-config" in err
    code, _, err = run(capsys, "run", "--config", config, "--trust-config", "--out", tmp_path / "runs", *TINY)
    assert code == 0, err


def test_suite_with_a_user_model_needs_trust(plugin_module, tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"benchmarks: [count]\nmodels: ['{plugin_module}:PrefixMean']\nseeds: 1\n"
        "training: {steps: 2, batch_size: 4, eval_every: 1}\nevaluation: {examples: 4}\n"
    )
    code, _, err = run(capsys, "bench", "--suite", suite, "--out", tmp_path / "runs", "--dry-run")
    assert code == 2 and "--trust-config" in err
    code, _, err = run(
        capsys, "bench", "--suite", suite, "--out", tmp_path / "runs", "--trust-config", "--workers", "1"
    )
    assert code == 0, err


def test_user_task_by_module_path(plugin_module, tmp_path, capsys):
    code, out, err = run(
        capsys, "run", "--task", f"{plugin_module}:EchoLast", "--train-lengths", "1-3", "--test-lengths", "5",
        "--out", tmp_path / "runs", *TINY,
    )  # fmt: skip
    assert code == 0, err


def test_entry_points_register_models_and_tasks(plugin_module, monkeypatch, capsys):
    eps = {
        "lengthgen.models": [
            EntryPoint("my-model", f"{plugin_module}:PrefixMean", "lengthgen.models"),
            EntryPoint("broken", "no_such_module_xyz:X", "lengthgen.models"),
        ],
        "lengthgen.tasks": [EntryPoint("echo-last", f"{plugin_module}:EchoLast", "lengthgen.tasks")],
    }
    monkeypatch.setattr(plugins, "_entry_points", lambda group: eps[group])
    monkeypatch.setattr(plugins, "_loaded_entry_points", False)
    code, out, err = run(capsys, "models", "list")
    assert code == 0 and "my-model" in out and "skipping model plugin 'broken'" in err
    code, out, _ = run(capsys, "tasks", "list", "echo-*")
    assert code == 0 and "echo-last" in out


@pytest.mark.parametrize("command", [["tasks", "show"], ["tasks", "sample", "--length", "3"], ["tasks", "baselines"]])
def test_module_path_tasks_work_in_the_tasks_commands(plugin_module, capsys, command):
    code, out, err = run(capsys, *command[:2], f"{plugin_module}:EchoLast", *command[2:])
    assert code == 0, err
    assert out.strip()


def test_plugin_path_names_the_folder_and_reaches_sweep_workers(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "lg_pp_plugin.py").write_text(PLUGIN)
    monkeypatch.chdir(folder)  # the current folder alone is not on the import path
    code, _, err = run(capsys, "tasks", "show", "lg_pp_plugin:EchoLast")
    assert code == 2 and "--plugin-path" in err
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "name: pp\nbenchmarks: [count]\nmodels: [lg_pp_plugin:PrefixMean]\nseeds: 2\n"
        "training: {steps: 2, batch_size: 4, eval_every: 2, eval_examples: 4}\nevaluation: {examples: 4}\n"
    )
    try:
        code, out, err = run(
            capsys, "--plugin-path", folder, "bench", "--suite", suite, "--trust-config",
            "--out", tmp_path / "runs", "--workers", "2", "--threads", "1",
        )  # fmt: skip
        assert code == 0, err
        assert len(list((tmp_path / "runs" / "pp").glob("*.json"))) == 2  # both cells, each in a spawned worker
    finally:
        import sys

        sys.path[:] = [p for p in sys.path if p != str(folder)]
        plugins._plugin_paths.clear()
        for name in [n for n in MODELS.names() if n.startswith("lg_pp_plugin")]:
            MODELS.unregister(name)
        for name in [n for n in TASKS.names() if n.startswith("lg_pp_plugin")] + ["echo-last"]:
            if name in TASKS:
                TASKS.unregister(name)


@pytest.mark.parametrize("kind", ["run file", "suite"])
def test_plugin_path_in_a_file_is_honoured_only_when_trusted(tmp_path, capsys, kind):
    folder = tmp_path / "plugins"
    folder.mkdir()
    module = f"lg_file_pp_{kind.replace(' ', '_')}"
    (folder / f"{module}.py").write_text(PLUGIN)
    tiny = "training: {steps: 2, batch_size: 4, eval_every: 2, eval_examples: 4}\n"
    if kind == "run file":
        path = tmp_path / "run.yaml"  # relative to the file's folder
        path.write_text(
            f"plugin_path: plugins\ntask: count\nmodel: {module}:PrefixMean\ntrain_lengths: 1-3\ntest_lengths: 4\n"
            f"out: {tmp_path / 'runs'}\n{tiny}"
        )
        argv = ["run", "--config", path]
    else:
        path = tmp_path / "suite.yaml"
        path.write_text(
            f"name: pps\nplugin_path: [plugins]\nbenchmarks: [count]\nmodels: [{module}:PrefixMean]\nseeds: 1\n"
            f"{tiny}evaluation: {{examples: 4}}\n"
        )
        argv = ["bench", "--suite", path, "--out", tmp_path / "runs"]
    try:
        code, _, err = run(capsys, *argv)
        assert code == 2 and "plugin_path" in err and "--trust-config" in err and err.count("\n") == 1
        assert str(folder) not in sys.path  # refused before anything became importable
        code, _, err = run(capsys, *argv, "--trust-config")
        assert code == 0, err
        assert list((tmp_path / "runs").rglob("*.json"))
    finally:
        sys.path[:] = [p for p in sys.path if p != str(folder)]
        plugins._plugin_paths.clear()
        for name in [n for n in MODELS.names() if n.startswith(module)]:
            MODELS.unregister(name)
        for name in ["echo-last"]:
            if name in TASKS:
                TASKS.unregister(name)
