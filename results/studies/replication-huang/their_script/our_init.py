"""One of our full-scale cells' initial weights, in their GPT-2's names.

    python our_init.py SEED OUT.pt

Builds H-R13b's cell for SEED (`suite-learned-1h-bos-50-hf.yaml`; its result
file must be committed, so the weights are the ones that cell started
from: H-R13's seed SEED starts from the same) and maps our rows onto theirs
(the inverse of `their_init.py`'s map; their <bos> row is our start vector,
their <pad> row our <pad> row).  Also saves our logits on a fixed batch,
computed with their <bos> scored and their GELU, so that their driver can
check, before it trains, that their GPT-2 given these weights computes our
function (`run_their_driver.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from lengthgen.experiment import build
from lengthgen.models import build_model
from lengthgen.suites import load_suite
from lengthgen.sweeps.cells import expand

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from their_init import BOS, EOS, ORDER, SEP  # noqa: E402  (the one map between the two vocabularies)

STUDY = HERE.parent
SUITE = STUDY / "suite-learned-1h-bos-50-hf.yaml"


def cell_model(seed: int):
    cells = [c for c in expand(load_suite(SUITE), STUDY / "runs") if c.seed == seed]
    assert len(cells) == 1, cells
    cell = cells[0]
    result = STUDY / "runs" / "replication-huang-learned-1h-bos-50-hf" / f"{cell.key}.json"
    if not result.exists():
        raise SystemExit(f"{result} is not there: the cell's key changed or it has not run")
    _, _, model = build(cell.config)
    return cell, model


def to_theirs(sd: dict[str, torch.Tensor], n_layers: int, n_positions: int = 303) -> dict[str, torch.Tensor]:
    emb = sd["embedding.weight"]
    wte = torch.empty(len(ORDER) + 1, emb.shape[1])
    for ours, their in enumerate(ORDER):
        wte[their] = emb[ours]
    wte[BOS] = sd["start"]
    out = {"transformer.wte.weight": wte, "lm_head.weight": wte,
           "transformer.wpe.weight": sd["pe.table.weight"][:n_positions].clone(),
           "transformer.ln_f.weight": sd["norm_out.weight"], "transformer.ln_f.bias": sd["norm_out.bias"]}  # fmt: skip
    for i in range(n_layers):
        t, o = f"transformer.h.{i}.", f"blocks.{i}."
        for mine, their in (("norm1", "ln_1"), ("norm2", "ln_2")):
            out[t + their + ".weight"] = sd[o + mine + ".weight"]
            out[t + their + ".bias"] = sd[o + mine + ".bias"]
        for mine, their in (("attn.qkv", "attn.c_attn"), ("attn.proj", "attn.c_proj"),
                            ("mlp.0", "mlp.c_fc"), ("mlp.2", "mlp.c_proj")):  # fmt: skip
            out[t + their + ".weight"] = sd[o + mine + ".weight"].t().contiguous()
            out[t + their + ".bias"] = sd[o + mine + ".bias"]
    return {k: v.detach().clone() for k, v in out.items()}


def main(seed: int, out: Path) -> None:
    cell, model = cell_model(seed)
    sd = model.state_dict()
    # our function with their head and GELU, to be matched by their GPT-2
    options = {**cell.config.model_options, "bos_scored": True, "activation": "gelu_tanh"}
    twin = build_model(cell.config.model, 153, **options).eval()
    twin.load_state_dict(sd)
    gen = torch.Generator().manual_seed(1234)
    batch, n = 6, 40
    symbols = torch.stack([torch.randperm(150, generator=gen)[:n] for _ in range(batch)])
    ids = torch.cat([torch.full((batch, 1), BOS), symbols, torch.full((batch, 1), SEP), symbols,
                     torch.full((batch, 1), EOS)], 1)  # fmt: skip
    offsets = torch.randint(0, 2 * (150 - n) + 1, (batch, 1), generator=gen)
    pos = offsets + torch.arange(ids.shape[1])
    inverse = {their: ours for ours, their in enumerate(ORDER)}
    tokens = ids[:, 1:].clone().apply_(lambda t: inverse[t])
    with torch.no_grad():
        logits = twin(tokens, pos[:, 1:] - 1).logits  # our classes, then the start vector's
    torch.save(
        {"seed": seed, "cell": cell.key, "state_dict": to_theirs(sd, len(model.blocks)),
         "input_ids": ids, "position_ids": pos, "logits": logits, "their_order": ORDER + [BOS]},
        out,
    )  # fmt: skip
    print(f"cell {cell.key} (seed {seed}) -> {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
