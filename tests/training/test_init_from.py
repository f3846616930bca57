"""Training option init_from: a run starts from another run's weights
(a two-phase design: a scratchpad target first, then the answer alone)."""

import pytest
import torch

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig, build, make_trainer
from lengthgen.runconfig import validate
from lengthgen.training.loop import TrainConfig


def config(tmp_path, d_model=16, **train):
    return RunConfig(
        task="c-pvr",
        model="transformer",
        model_options={"d_model": d_model, "n_heads": 2, "n_layers": 1},
        train_lengths=[0, 1],
        test_lengths=[2],
        seed=3,
        out=str(tmp_path),
        train=TrainConfig(steps=4, batch_size=8, warmup=1, eval_every=2, eval_examples=8, **train),
    )


def trainer(tmp_path, cfg, name="ckpt.pt"):
    task, test_task, model = build(cfg)
    return make_trainer(
        cfg, task, test_task, model, torch.device("cpu"), fingerprint=name, progress=False,
        checkpoint_path=tmp_path / name,
    )  # fmt: skip


def test_a_run_starts_from_the_weights_of_another_runs_checkpoint(tmp_path):
    first = trainer(tmp_path, config(tmp_path))
    first.run()
    trained = {k: v.clone() for k, v in first.model.state_dict().items()}
    cfg = config(tmp_path, init_from=str(tmp_path / "ckpt.pt"))
    second = trainer(tmp_path, cfg, "second.pt")
    assert all(torch.equal(trained[k], v) for k, v in second.model.state_dict().items())
    assert second.state.step == 0  # the optimizer, schedule and step start afresh
    fresh = trainer(tmp_path, config(tmp_path), "fresh.pt")
    assert not all(torch.equal(trained[k], v) for k, v in fresh.model.state_dict().items())


def test_the_checkpoints_text_enters_the_identity_and_a_changed_one_is_refused(tmp_path):
    trainer(tmp_path, config(tmp_path)).run()
    cfg = config(tmp_path, init_from=str(tmp_path / "ckpt.pt"))
    validate(cfg)
    assert len(cfg.train.init_from_sha256) == 64
    assert cfg.fingerprint() != config(tmp_path).fingerprint()
    trainer(tmp_path, config(tmp_path, d_model=16, lr=0.01)).run()  # rewrites ckpt.pt with other weights
    with pytest.raises(LengthgenError, match="changed since"):
        cfg.train.validate()


def test_weights_of_another_architecture_are_a_one_line_error(tmp_path):
    trainer(tmp_path, config(tmp_path)).run()
    with pytest.raises(LengthgenError, match="same architecture"):
        trainer(tmp_path, config(tmp_path, d_model=32, init_from=str(tmp_path / "ckpt.pt")), "other.pt")
    with pytest.raises(LengthgenError, match="cannot read"):
        config(tmp_path, init_from=str(tmp_path / "missing.pt")).train.validate()


def test_cli_flag(tmp_path, capsys):
    base = ["run", "--task", "c-pvr", "--train-lengths", "0-1", "--test-lengths", "2", "--steps", "4"]
    base += ["--model-opt", "d_model=16", "--model-opt", "n_layers=1", "--eval-examples", "8"]
    assert main([*base, "--out", str(tmp_path / "a"), "--name", "a", "--keep-checkpoint"]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--name", "b", "--init-from", str(tmp_path / "a/a.ckpt.pt")]) == 0
    assert (tmp_path / "b/b.json").exists()
