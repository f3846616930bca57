"""Batches, schedule, determinism, checkpoints and exact resume."""

import numpy as np
import pytest
import torch

from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig, build
from lengthgen.experiment import make_trainer as trainer_for
from lengthgen.runconfig import validate
from lengthgen.tasks import EOS, SEP, make_task
from lengthgen.training.checkpoint import load_checkpoint, save_checkpoint
from lengthgen.training.data import sample_mixed_lengths, to_lm_batch
from lengthgen.training.loop import TrainConfig, Trainer
from lengthgen.training.schedule import warmup_cosine, warmup_linear

CPU = torch.device("cpu")


def test_lm_layout_and_loss_mask():
    task = make_task("count")
    batch = task.sample(np.random.default_rng(0), 3, 4)
    lm = to_lm_batch(batch)
    for i in range(3):
        x, y = batch.example(i)
        seq = list(x) + [SEP] + list(y) + [EOS]
        assert list(lm.tokens[i]) == seq[:-1] and list(lm.labels[i]) == seq[1:]
        assert list(lm.labels[i][lm.loss_mask[i]]) == list(y) + [EOS]


def test_mixed_lengths_cover_range_and_are_reproducible():
    task = make_task("copy-unique")
    a = sample_mixed_lengths(task, np.random.default_rng(0), 200, [2, 5, 9])
    b = sample_mixed_lengths(task, np.random.default_rng(0), 200, [2, 5, 9])
    assert set(a.input_lengths) == {2, 5, 9}
    assert np.array_equal(a.inputs, b.inputs)


def test_schedule_shape():
    values = [warmup_cosine(s, 10, 100, 0.1) for s in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert all(x >= y for x, y in zip(values[10:], values[11:]))
    assert values[-1] == pytest.approx(0.1, abs=1e-3)


def test_linear_schedule_is_a_straight_line_to_the_floor_and_keeps_more_rate_late():
    values = [warmup_linear(s, 10, 100, 0.1) for s in range(101)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    steps = np.diff(values[10:])
    assert np.allclose(steps, steps[0]) and steps[0] < 0  # one slope from warmup's end to the floor
    assert values[100] == pytest.approx(0.1)
    late = range(60, 100)
    assert all(warmup_linear(s, 10, 100, 0.0) > warmup_cosine(s, 10, 100, 0.0) for s in late)


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_the_trainer_follows_the_configured_schedule(schedule):
    cfg = tiny_config(schedule=schedule, min_lr_ratio=0.0)
    trainer = make_trainer(cfg)
    rates = []
    for _ in range(cfg.train.steps):
        rates.append(trainer.optimizer.param_groups[0]["lr"] / cfg.train.lr)
        trainer.train_step()
    expected = [(warmup_linear if schedule == "linear" else warmup_cosine)(s, 2, 12, 0.0) for s in range(12)]
    assert rates == pytest.approx(expected)


@pytest.mark.parametrize("decay_embeddings", [False, True])
def test_adam_beta2_and_decay_on_embeddings_reach_the_optimizer(decay_embeddings):
    cfg = tiny_config(adam_beta2=0.999, decay_embeddings=decay_embeddings)
    cfg.model_options["pe"] = "learned"
    trainer = make_trainer(cfg)
    decayed = {id(p) for g in trainer.optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    assert all(g["betas"] == (0.9, 0.999) for g in trainer.optimizer.param_groups)
    tables = [p for n, p in trainer.model.named_parameters() if "embedding" in n or "table" in n]
    assert tables and all((id(p) in decayed) == decay_embeddings for p in tables)
    biases = [p for n, p in trainer.model.named_parameters() if p.dim() < 2]
    assert biases and not any(id(p) in decayed for p in biases)


@pytest.mark.parametrize(
    "train, message",
    [
        ({"schedule": "linea"}, "did you mean: linear"),
        ({"adam_beta2": 1.0}, "adam_beta2"),
        ({"adam_beta2": 0.0}, "adam_beta2"),
    ],
)
def test_bad_schedule_options_are_one_line_errors(train, message):
    with pytest.raises(LengthgenError, match=message) as err:
        TrainConfig(**train).validate()
    assert "\n" not in str(err.value)


def test_the_new_optimizer_options_leave_earlier_identities_unchanged():
    cfg = tiny_config()
    before = cfg.fingerprint()
    assert not {"schedule", "adam_beta2", "decay_embeddings"} & set(cfg.identity()["train"])
    for option, value in [("schedule", "linear"), ("adam_beta2", 0.999), ("decay_embeddings", True)]:
        changed = tiny_config(**{option: value})
        assert changed.fingerprint() != before and changed.identity()["train"][option] == value


def tiny_config(**train):
    cfg = RunConfig(
        task="copy-unique",
        params={"alphabet": 16},
        model="transformer",
        model_options={"d_model": 16, "n_heads": 2, "n_layers": 1},
        train_lengths=[1, 2, 3, 4],
        test_lengths=[6],
        seed=3,
        train=TrainConfig(steps=12, batch_size=8, warmup=2, eval_every=4, eval_examples=8, checkpoint_every=5, **train),
    )
    return cfg


def make_trainer(cfg, path=None, model_name=None):
    if model_name:
        cfg.model = model_name
        cfg.model_options = {"d_model": 16} if model_name == "lstm" else {"d_model": 16, "n_heads": 2}
        if model_name in ("ut", "hyper-ut"):
            cfg.model_options["max_steps"] = 2
        if model_name == "transformer":
            cfg.model_options["pe"] = "randomized"
            cfg.model_options["max_positions"] = 64
    task, test_task, model = build(cfg)
    return trainer_for(cfg, task, test_task, model, CPU, checkpoint_path=path, fingerprint="fp", progress=False)


@pytest.mark.parametrize("model_name", ["transformer", "transformer-modattn", "ut", "hyper-ut", "lstm"])
def test_same_seed_same_training(model_name):
    a = make_trainer(tiny_config(), model_name=model_name)
    b = make_trainer(tiny_config(), model_name=model_name)
    a.run()
    b.run()
    assert a.state.curve == b.state.curve
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_different_seed_differs():
    a = make_trainer(tiny_config())
    cfg = tiny_config()
    cfg.seed = 4
    b = make_trainer(cfg)
    a.run()
    b.run()
    assert a.state.curve != b.state.curve


def first_batch(trainer):
    batch = trainer.next_batch()
    return batch.tokens.clone(), None if batch.positions is None else batch.positions.clone()


def test_data_seed_sets_the_stream_apart_from_the_initial_weights():
    """A run's seed draws its weights and, unless data_seed is given, its
    batches: data_seed equal to the seed trains the same run; another
    data_seed keeps the weights and draws other batches, the very batches
    of the run whose seed it is (with offsets, positions included)."""

    def learned(seed=3, **train):
        cfg = tiny_config(position_offset="example", offset_span=40, **train)
        cfg.model_options = {**cfg.model_options, "pe": "learned", "max_positions": 64}
        cfg.seed = seed
        return make_trainer(cfg)

    base, same, other, stream4 = learned(), learned(data_seed=3), learned(data_seed=4), learned(seed=4)
    for a, b in [(base, same), (base, other)]:
        for va, vb in zip(a.model.state_dict().values(), b.model.state_dict().values()):
            assert torch.equal(va, vb)  # the weights come from the run's seed
    assert not torch.equal(
        next(iter(stream4.model.state_dict().values())), next(iter(base.model.state_dict().values()))
    )
    tokens, positions = first_batch(base)
    tokens_same, positions_same = first_batch(same)
    tokens_other, positions_other = first_batch(other)
    tokens4, positions4 = first_batch(stream4)
    assert torch.equal(tokens, tokens_same) and torch.equal(positions, positions_same)
    assert not torch.equal(tokens, tokens_other) or not torch.equal(positions, positions_other)
    assert torch.equal(tokens_other, tokens4) and torch.equal(positions_other, positions4)
    base.run()
    same.run()
    assert base.state.curve == same.state.curve


def test_data_seed_reaches_a_fixed_training_set_too():
    a = make_trainer(tiny_config(train_examples=16))
    b = make_trainer(tiny_config(train_examples=16, data_seed=9))
    assert not np.array_equal(a.dataset.inputs, b.dataset.inputs)


def test_data_seed_enters_the_identity_only_when_given():
    cfg = tiny_config()
    assert "data_seed" not in cfg.identity()["train"]
    assert tiny_config(data_seed=None).fingerprint() == cfg.fingerprint()
    given = tiny_config(data_seed=4)
    assert given.identity()["train"]["data_seed"] == 4 and given.fingerprint() != cfg.fingerprint()


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, True, "7"])
def test_a_bad_data_seed_is_a_one_line_error(bad):
    with pytest.raises(LengthgenError, match="data_seed") as err:
        TrainConfig(data_seed=bad).validate()
    assert "\n" not in str(err.value)


def test_a_numpy_integer_is_a_seed():
    # sweeps and user scripts often carry seeds as numpy integers
    train = TrainConfig(data_seed=np.int64(3))
    train.validate()
    assert type(train.data_seed) is int  # a result file's JSON takes no numpy integer
    cfg = tiny_config()
    cfg.seed = np.int64(3)
    validate(cfg)
    assert type(cfg.seed) is int and cfg.seed == 3


@pytest.mark.parametrize("model_name", ["transformer", "hyper-ut"])
def test_resume_reproduces_uninterrupted_run(tmp_path, model_name):
    full = make_trainer(tiny_config(track_rank=True, rank_every=3), model_name=model_name)
    full.run()

    path = tmp_path / "run.ckpt.pt"
    first = make_trainer(tiny_config(track_rank=True, rank_every=3), path, model_name=model_name)
    original = first.train_step

    def crash_at_step_7():
        if first.state.step == 7:
            raise RuntimeError("simulated crash")  # the last checkpoint is from step 5
        return original()

    first.train_step = crash_at_step_7
    with pytest.raises(RuntimeError):
        first.run()
    assert load_checkpoint(path)["step"] == 5

    resumed = make_trainer(tiny_config(track_rank=True, rank_every=3), path, model_name=model_name)
    assert resumed.try_resume() and resumed.state.step == 5
    resumed.run()
    assert resumed.state.curve == full.state.curve
    assert resumed.state.rank_curve == full.state.rank_curve and len(full.state.rank_curve) == 4
    for va, vb in zip(resumed.model.state_dict().values(), full.model.state_dict().values()):
        assert torch.equal(va, vb)


def test_sigint_saves_a_checkpoint_at_a_step_boundary(tmp_path):
    import os
    import signal

    path = tmp_path / "run.ckpt.pt"
    trainer = make_trainer(tiny_config(), path)
    original = trainer.train_step

    def interrupt_at_step_3():
        result = original()
        if trainer.state.step == 2:  # counted after this call returns: step 3
            os.kill(os.getpid(), signal.SIGINT)
        return result

    trainer.train_step = interrupt_at_step_3
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    assert load_checkpoint(path)["step"] == 3
    resumed = make_trainer(tiny_config(), path)
    assert resumed.try_resume()
    resumed.run()
    full = make_trainer(tiny_config())
    full.run()
    assert resumed.state.curve == full.state.curve


def test_resume_refuses_other_config(tmp_path):
    path = tmp_path / "run.ckpt.pt"
    trainer = make_trainer(tiny_config(), path)
    trainer.run()
    other = make_trainer(tiny_config(), path)
    other.fingerprint = "different"
    with pytest.raises(LengthgenError, match="different configuration"):
        other.try_resume()


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.ckpt.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(LengthgenError, match="cannot load checkpoint"):
        load_checkpoint(path)


def test_a_checkpoint_path_that_is_no_regular_file_is_refused_not_read(tmp_path):
    import os

    fifo = tmp_path / "fifo.ckpt.pt"
    os.mkfifo(fifo)  # reading it would block for ever
    with pytest.raises(LengthgenError, match="must be a regular file"):
        load_checkpoint(fifo)
    with pytest.raises(LengthgenError, match="must be a regular file"):
        load_checkpoint(tmp_path)


def test_an_archive_claiming_more_than_it_holds_is_not_loaded(tmp_path):
    import zipfile

    path = tmp_path / "bomb.ckpt.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\0" * (8 * 2**20))  # 8 MiB of zeros in a few KiB
    with pytest.raises(LengthgenError, match="claim"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda c: c.pop("step"), "has no 'step'"),
        (lambda c: c.update(step=10**12), "outside 0..12"),
        (lambda c: c.update(step=-1), "outside 0..12"),
        (lambda c: c.update(curve=[{"loss": 1.0}]), "curve is malformed"),
        (lambda c: c.update(window=[0.0]), "running sums"),
    ],
)
def test_a_checkpoint_with_bad_bookkeeping_is_a_clear_error(tmp_path, damage, message):
    path = tmp_path / "run.ckpt.pt"
    make_trainer(tiny_config(), path).run()
    state = load_checkpoint(path)
    damage(state)
    save_checkpoint(path, state)
    with pytest.raises(LengthgenError, match=message) as err:
        make_trainer(tiny_config(), path).try_resume()
    assert "\n" not in str(err.value)


def test_checkpoint_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": object()}, path)  # needs full unpickling to load
    with pytest.raises(LengthgenError):
        load_checkpoint(path)
    save_checkpoint(tmp_path / "ok.pt", {"w": torch.ones(2)})
    assert torch.equal(load_checkpoint(tmp_path / "ok.pt")["w"], torch.ones(2))


@pytest.mark.parametrize(
    "bad", [{"steps": 0}, {"lr": -1.0}, {"batch_size": 0}, {"min_lr_ratio": 2.0}, {"grad_clip": -1.0}]
)
def test_bad_training_options(bad):
    with pytest.raises(LengthgenError):
        TrainConfig(**bad).validate()


def test_loss_decreases_on_easy_task():
    cfg = tiny_config()
    cfg.train.steps = 60
    cfg.train.eval_every = 20
    cfg.train.lr = 3e-3
    trainer = make_trainer(cfg)
    trainer.run()
    assert trainer.state.curve[-1]["loss"] < trainer.state.curve[0]["loss"]


def test_finite_training_set_reuses_the_same_examples():
    trainer = make_trainer(tiny_config(train_examples=5))
    dataset = trainer.dataset
    rows_used = []
    original = dataset.select

    def recording_select(rows):
        rows_used.extend(int(r) for r in rows)
        return original(rows)

    dataset.select = recording_select
    for _ in range(6):
        trainer.train_step()
    assert len(dataset) == 5 and len(rows_used) == 6 * 8 and set(rows_used) <= set(range(5))
    again = make_trainer(tiny_config(train_examples=5))
    assert (again.dataset.inputs == dataset.inputs).all()
    with pytest.raises(LengthgenError):
        TrainConfig(train_examples=-1).validate()


def _scripted_probe(trainer, values):
    """Replace the probe with a script of in-range accuracies, one per evaluation."""
    script = iter(values)

    def probe():
        value = next(script)
        return {"train_exact": value, "train_longest_exact": value}

    trainer.probe = probe


@pytest.mark.parametrize(
    "stop, script, steps",
    [
        (True, [1.0, 1.0, 1.0], 8),  # two consecutive fitted evaluations: stop at the second
        (True, [1.0, 0.5, 1.0], 12),  # the streak resets; the run reaches its last step
        (True, [0.96, 0.99, 1.0], 8),  # at or above the 95% threshold counts
        (True, [0.94, 0.94, 1.0], 12),
        (False, [1.0, 1.0, 1.0], 12),  # off: the full schedule
    ],
)
def test_stop_when_fitted(tmp_path, stop, script, steps):
    trainer = make_trainer(tiny_config(stop_when_fitted=stop), tmp_path / "run.ckpt.pt")
    _scripted_probe(trainer, script)
    state = trainer.run()
    assert state.step == steps and state.stopped_early == (steps < 12)
    assert state.cpu_seconds > 0 and state.tokens_seen > 0
    # the decision is checkpointed: resuming a stopped run trains no further
    again = make_trainer(tiny_config(stop_when_fitted=stop), tmp_path / "run.ckpt.pt")
    assert again.try_resume() and again.run().step == steps


@pytest.mark.parametrize(
    "script, steps",
    [
        ([1.0, 1.0, 1.0], 8),  # 256 of 256: the lower bound (98.5%) clears 95%
        ([0.96, 0.96, 1.0], 12),  # two probes above 95%, but 246 of 256 bounds it at 93%: keep training
        ([0.99, 0.99, 1.0], 8),  # 254 of 256: lower bound 97.2%
    ],
)
def test_stop_confident_needs_the_lower_bound_above_the_threshold(tmp_path, script, steps):
    cfg = tiny_config(stop_when_fitted=True, stop_confident=True)
    cfg.train.eval_examples = 128
    trainer = make_trainer(cfg, tmp_path / "run.ckpt.pt")
    _scripted_probe(trainer, script)
    assert trainer.run().step == steps


@pytest.mark.parametrize("halting_start, steps", [(0, 8), (4, 12), (7, 12), (8, 16)])
def test_a_ut_is_not_stopped_before_its_halting_starts(tmp_path, halting_start, steps):
    """Probes of the fixed-step phase measure another model: the fitted
    streak counts only probes taken after halting has trained a step."""
    cfg = tiny_config(stop_when_fitted=True)
    cfg.train.steps = 20
    trainer = make_trainer(cfg, tmp_path / "run.ckpt.pt", model_name="ut")
    trainer.model.halting_start = halting_start
    phases = []
    real = trainer.model.set_training_step

    def spy(step):
        real(step)
        phases.append(trainer.model.fixed_phase)

    trainer.model.set_training_step = spy
    _scripted_probe(trainer, [1.0] * 5)
    assert trainer.run().step == steps
    assert phases == [step < halting_start for step in range(steps)]
    assert not trainer.model.fixed_phase  # what the run's evaluation then measures halts


def test_halting_start_must_leave_steps_for_halting(tmp_path):
    cfg = tiny_config()
    cfg.model, cfg.model_options = "ut", {"d_model": 16, "n_heads": 2, "max_steps": 2, "halting_start": 12}
    with pytest.raises(LengthgenError, match="halting_start .12. must be below the training steps .12."):
        make_trainer(cfg)


def test_ponder_ramp_counts_from_halting_start():
    cfg = tiny_config()
    cfg.model = "ut"
    losses = {}
    for start in (0, 5):
        cfg.model_options = {
            "d_model": 16, "n_heads": 2, "max_steps": 3, "ponder_weight": 10.0, "ponder_warmup": 1000,
            "halting_start": start,
        }  # fmt: skip
        trainer = make_trainer(cfg)
        trainer.state.step = 5  # the first step that halts when halting starts at 5
        losses[start] = trainer.train_step()[0]
    # at step 5 the ramp is 6/1000 from step 0 but 1/1000 from step 5 (ponder N + R >= 1, weight 10)
    assert losses[0] - losses[5] > 10.0 * 5 / 1000 * 0.9


def test_stop_on_test_params_probes_the_gate_inputs_and_needs_them_fitted(tmp_path):
    cfg = tiny_config(stop_when_fitted=True, stop_on_test_params=True)
    cfg.task, cfg.params = "c-pvr", {"cells": 8, "min_cells": 2, "show_chain": True}
    cfg.test_params, cfg.train_lengths, cfg.test_lengths = {"min_cells": 8}, [0, 1], [2]
    trainer = make_trainer(cfg)
    assert trainer.probe_task is not trainer.task
    assert set(trainer.probe()) == {"train_exact", "train_longest_exact", "exact@2", "test_longest_exact"}
    cfg.train.stop_on_test_params = False
    assert "test_longest_exact" not in make_trainer(cfg).probe()
    # the training mix is fitted at every probe; the gate's inputs only from the third
    cfg.train.stop_on_test_params, cfg.train.steps = True, 24
    trainer = make_trainer(cfg, tmp_path / "run.ckpt.pt")
    script = iter([0.9, 0.9, 1.0, 1.0])
    trainer.probe = lambda: {"train_exact": 1.0, "train_longest_exact": 1.0, "test_longest_exact": next(script)}
    state = trainer.run()
    assert state.step == 16 and state.stopped_early
    assert [p["test_longest_exact"] for p in state.curve] == [0.9, 0.9, 1.0, 1.0]


def test_stop_on_test_params_stays_out_of_earlier_fingerprints():
    assert tiny_config().fingerprint() == tiny_config(stop_on_test_params=False).fingerprint()
    assert tiny_config().fingerprint() != tiny_config(stop_on_test_params=True).fingerprint()


def test_stop_confident_stays_out_of_earlier_fingerprints():
    assert tiny_config().fingerprint() == tiny_config(stop_confident=False).fingerprint()
    assert tiny_config().fingerprint() != tiny_config(stop_confident=True).fingerprint()
    assert "stop_confident" not in tiny_config().identity()["train"]


def test_probe_measures_the_longest_training_length():
    trainer = make_trainer(tiny_config())
    point = trainer.probe()
    assert 0.0 <= point["train_longest_exact"] <= 1.0 and "train_exact" in point and "exact@6" in point


def test_a_model_with_the_older_sample_positions_signature_still_trains():
    from lengthgen.models.transformer import Transformer

    class OlderModel(Transformer):
        def sample_positions(self, rng, batch, length, row_lengths=None):  # no `training`
            return super().sample_positions(rng, batch, length, row_lengths)

    cfg = tiny_config()
    task = make_task(cfg.task, **cfg.params)
    model = OlderModel(task.vocab_size, d_model=16, n_heads=2, n_layers=1)
    trainer = Trainer(model, task, cfg.train_lengths, cfg.train, 0, torch.device("cpu"))
    assert trainer.run().step == cfg.train.steps
