"""The curriculum that moves on only on fit (training option curriculum_on_fit):
lengths open one at a time, the next when the current longest fits."""

import pytest
import torch

from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig, build, make_trainer
from lengthgen.training.loop import TrainConfig


def trainer(tmp_path, steps=8, **train):
    cfg = RunConfig(
        task="c-pvr",
        model="transformer",
        model_options={"d_model": 16, "n_heads": 2, "n_layers": 1},
        train_lengths=[0, 1, 2, 3],
        test_lengths=[4],
        seed=3,
        train=TrainConfig(steps=steps, batch_size=8, warmup=1, eval_every=2, eval_examples=8, **train),
    )
    task, test_task, model = build(cfg)
    return make_trainer(
        cfg,
        task,
        test_task,
        model,
        torch.device("cpu"),
        fingerprint="fp",
        progress=False,
        checkpoint_path=tmp_path / "ckpt.pt",
    )


def scripted(t, values):
    """Replace the probe by one whose current-level exact match follows ``values``."""
    seen = []
    real = t.probe

    def probe():
        point = real()
        assert point["curriculum_length"] == t.lengths_for_step(t.state.step)[-1]
        seen.append(point["curriculum_length"])
        point["curriculum_exact"] = values[len(seen) - 1]
        return point

    t.probe = probe
    return seen


def test_the_next_length_opens_only_when_the_current_one_fits(tmp_path):
    t = trainer(tmp_path, curriculum_on_fit=True)
    assert t.lengths_for_step(0) == [0]
    seen = scripted(t, [0.5, 0.96, 0.90, 0.99])
    t.run()
    # probed levels: 0 (not fitted), 0 (fitted: 1 opens), 1 (not fitted), 1 (fitted: 2 opens)
    assert seen == [0, 0, 1, 1]
    assert t.state.curriculum_level == 3 and t.lengths_for_step(t.state.step) == [0, 1, 2]
    assert [p["curriculum_length"] for p in t.state.curve] == [0, 0, 1, 1]


def test_batches_hold_only_the_open_lengths(tmp_path, monkeypatch):
    import lengthgen.training.loop as loop

    asked = []
    real = loop.sample_mixed_lengths

    def recording(task, rng, n, lengths):
        asked.append(list(lengths))
        return real(task, rng, n, lengths)

    monkeypatch.setattr(loop, "sample_mixed_lengths", recording)
    t = trainer(tmp_path, curriculum_on_fit=True)
    t.next_batch()
    t.state.curriculum_level = 2
    t.next_batch()
    assert asked == [[0], [0, 1]]


def test_the_level_survives_a_resume(tmp_path):
    t = trainer(tmp_path, steps=4, curriculum_on_fit=True)
    scripted(t, [0.99, 0.99])
    t.run()
    assert t.state.curriculum_level == 3
    again = trainer(tmp_path, steps=8, curriculum_on_fit=True)
    assert again.try_resume() and again.state.step == 4 and again.state.curriculum_level == 3


def test_two_curricula_are_refused():
    with pytest.raises(LengthgenError, match="two curricula"):
        TrainConfig(curriculum=True, curriculum_on_fit=True).validate()
