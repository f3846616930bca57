"""The tools that run Huang et al.'s own script (results/studies/replication-huang/their_script/):
the readers of H-R19's and H-R21's rules, written before their runs, and the
map between their GPT-2's weights and ours, both ways."""

import torch

from tests.studies.scripts import study_script

load_reader, pytestmark = study_script("results/studies/replication-huang/their_script/read_seeds.py")
load_their_init, _ = study_script("results/studies/replication-huang/their_script/their_init.py")
load_our_init, _ = study_script("results/studies/replication-huang/their_script/our_init.py")


def log(evals, finished=True):
    """Their Trainer's printed dicts: a loss every 3,000 steps, then one dict per test range."""
    lines = ["# header", "<bos> 1 2 <sep> 1 2 <eos>"]
    for i, (in_range, a, b) in enumerate(evals, 1):
        epoch = round(0.1 * i, 1)
        lines.append(str({"loss": 3.0 / i, "grad_norm": 1.0, "learning_rate": 1e-3, "epoch": epoch}))
        for name, acc in (("0-50", in_range), ("51-100", a), ("101-150", b)):
            lines.append(str({f"eval_len{name}_loss": 0.1, f"eval_len{name}_acc": acc, "epoch": epoch}))
    if finished:
        lines.append("# finished 2026-12-06T20:15:16Z, wall 3598 s")
    return "\n".join(lines)


def test_a_seed_that_stops_early_and_copies_beyond_is_their_outcome():
    reader = load_reader()
    o = reader.outcome(reader.parse_log(log([(0.5, 0.1, 0.0), (0.99, 0.9, 0.5), (1.0, 0.95, 0.9)])))
    assert (o["status"], o["step"], o["theirs"]) == ("early stop", 9000, True)
    # an early stop that does not copy beyond the range is not their outcome
    assert reader.outcome(reader.parse_log(log([(1.0, 0.89, 0.5)])))["theirs"] is False
    # nor is the end of the budget short of 100% in range, however good beyond
    assert reader.outcome(reader.parse_log(log([(0.999, 0.99, 0.99)] * 10)))["theirs"] is False
    assert reader.outcome(reader.parse_log(log([(1.0, 1.0, 1.0)], finished=False)))["theirs"] is None


def test_h_r19_is_decided_as_soon_as_the_count_fixes_it():
    verdict = load_reader().verdict
    assert verdict([True, True, True, True, None]) == "holds"
    assert verdict([False, False, False, None, None]) == "refuted"
    assert verdict([True, True, True, False, False]) == "inconclusive"
    assert verdict([True, False, None, None, None]).startswith("open")


def test_h_r21_holds_on_two_pointers_and_its_rival_on_three_coverage_rules():
    reader = load_reader()
    pointer = {"theirs": True, "status": "early stop", "bin_a": 0.99}
    cover = {"theirs": False, "status": "reach max step", "bin_a": 0.0}
    between = {"theirs": False, "status": "reach max step", "bin_a": 0.3}
    assert reader.verdict_h_r21([pointer, pointer, None]) == "holds"
    assert reader.verdict_h_r21([cover, cover, cover]).startswith("refuted")
    assert reader.verdict_h_r21([pointer, cover, cover]) == "inconclusive"
    assert reader.verdict_h_r21([between, cover, cover]) == "inconclusive"
    assert reader.verdict_h_r21([cover, cover, None]).startswith("open")


def test_the_weight_map_is_one_map_both_ways():
    their_init, our_init = load_their_init(), load_our_init()
    gen = torch.Generator().manual_seed(0)
    shapes = {"transformer.wte.weight": (154, 64), "transformer.wpe.weight": (303, 64),
              "transformer.ln_f.weight": (64,), "transformer.ln_f.bias": (64,)}  # fmt: skip
    for i in range(2):
        t = f"transformer.h.{i}."
        shapes |= {t + "ln_1.weight": (64,), t + "ln_1.bias": (64,), t + "ln_2.weight": (64,), t + "ln_2.bias": (64,),
                   t + "attn.c_attn.weight": (64, 192), t + "attn.c_attn.bias": (192,),
                   t + "attn.c_proj.weight": (64, 64), t + "attn.c_proj.bias": (64,),
                   t + "mlp.c_fc.weight": (64, 256), t + "mlp.c_fc.bias": (256,),
                   t + "mlp.c_proj.weight": (256, 64), t + "mlp.c_proj.bias": (64,)}  # fmt: skip
    theirs = {k: torch.randn(shape, generator=gen) for k, shape in shapes.items()}
    model = their_init.our_model(bos_scored=False, activation="gelu")
    ours = their_init.convert(theirs, model)
    model.load_state_dict(ours)
    # their <bos> row is our start vector, their <sep> our <sep>, their symbol k our class k + 3
    assert torch.equal(ours["start"], theirs["transformer.wte.weight"][150])
    assert torch.equal(ours["embedding.weight"][1], theirs["transformer.wte.weight"][151])
    assert torch.equal(ours["embedding.weight"][3 + 7], theirs["transformer.wte.weight"][7])
    back = our_init.to_theirs(model.state_dict(), n_layers=2)
    assert back.keys() == theirs.keys() | {"lm_head.weight"}
    for key, value in theirs.items():
        assert torch.equal(back[key], value), key
