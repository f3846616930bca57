"""Training precision: bf16 autocast on CUDA by default, float32 on request
(so that GPU cells compare with CPU cells), never part of a run's identity,
and recorded in every result."""

import json

import pytest
import torch

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.runconfig import RunConfig, apply_settings, uses_autocast

CUDA, CPU = torch.device("cuda"), torch.device("cpu")


@pytest.mark.parametrize(
    "precision,device,expected",
    [
        ("auto", CUDA, True),
        ("auto", CPU, False),
        ("float32", CUDA, False),
        ("float32", CPU, False),
        ("bf16", CUDA, True),
        ("bf16", CPU, True),
    ],
)
def test_autocast_follows_the_precision_and_the_device(precision, device, expected):
    assert uses_autocast(precision, device) is expected


def test_an_unknown_precision_names_the_close_one():
    with pytest.raises(LengthgenError, match=r"unknown precision 'float'.*float32"):
        uses_autocast("float", CPU)


def test_precision_is_not_part_of_a_runs_identity():
    settings = {"task": "parity", "train_lengths": "1-4", "test_lengths": "6"}
    auto = apply_settings(RunConfig(), settings, "test")
    float32 = apply_settings(RunConfig(), {**settings, "precision": "float32"}, "test")
    assert float32.precision == "float32" and auto.precision == "auto"
    assert auto.fingerprint() == float32.fingerprint()


TINY = ["--model-opt", "d_model=16", "--model-opt", "n_heads=2", "--model-opt", "n_layers=1", "--steps", "4",
        "--batch-size", "8", "--eval-every", "2", "--eval-examples", "8", "--warmup", "1"]  # fmt: skip


@pytest.mark.parametrize("flag,recorded", [([], "float32"), (["--precision", "bf16"], "bf16-autocast")])
def test_a_result_records_the_precision_it_trained_in(capsys, tmp_path, flag, recorded):
    argv = ["run", "--task", "parity", "--train-lengths", "1-4", "--test-lengths", "6", "--out", str(tmp_path)]
    assert main([*argv, *TINY, *flag]) == 0, capsys.readouterr().err
    (path,) = tmp_path.glob("*.json")
    assert json.loads(path.read_text())["environment"]["precision"] == recorded
