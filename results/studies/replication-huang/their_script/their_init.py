"""Their GPT-2's initial weights in our transformer, and a check that the
two compute the same function.

    python their_init.py DUMP.pt [--out INIT.pt] [--bos-scored] [--activation gelu_tanh]

DUMP.pt comes from `dump_their_init.py` (their run's model at step 0 and
their logits on a fixed batch).  Maps their rows onto ours (their vocabulary
is 150 symbols, <bos>, <sep>, <eos>, <pad>; ours <pad>, <sep>, <eos>, then
the symbols, with <bos> as the start vector), transposes their Conv1D
weights, and compares our logits with theirs at every place after <bos>.
With `--bos-scored --activation gelu_tanh` (their <bos> scored by the tied
readout, their GELU) the two should agree to float rounding; without, the
difference says how far apart the two functions start.  `--out` writes
the weights as a checkpoint that the training option `init_from` reads
(rows of our position table past their 303 are drawn under seed 0: no
sequence reaches them).
"""

from __future__ import annotations

import argparse

import torch

from lengthgen.models import build_model

SYMBOLS, BOS, SEP, EOS, PAD = 150, 150, 151, 152, 153
# our class c is their class ORDER[c]; the start vector (bos_scored) is class 153
ORDER = [PAD, SEP, EOS, *range(SYMBOLS)]


def our_model(bos_scored: bool, activation: str):
    # H-R13's model (suite-learned-1h-bos-50.yaml, copy-unique-50.yaml); the
    # fixed seed makes the rows past their table (never read) reproducible
    torch.manual_seed(0)
    return build_model(
        "transformer", 153, d_model=64, n_layers=2, n_heads=1, pe="learned", max_positions=320,
        tie_embeddings=True, bos=True, bos_scored=bos_scored, activation=activation,
    )  # fmt: skip


def convert(theirs: dict[str, torch.Tensor], model) -> dict[str, torch.Tensor]:
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    wte = theirs["transformer.wte.weight"]
    sd["embedding.weight"] = wte[ORDER].clone()
    sd["head.weight"] = sd["embedding.weight"]
    sd["start"] = wte[BOS].clone()
    wpe = theirs["transformer.wpe.weight"]
    sd["pe.table.weight"][: len(wpe)] = wpe
    for i in range(len(model.blocks)):
        t, o = f"transformer.h.{i}.", f"blocks.{i}."
        for mine, their in (("norm1", "ln_1"), ("norm2", "ln_2")):
            sd[o + mine + ".weight"] = theirs[t + their + ".weight"].clone()
            sd[o + mine + ".bias"] = theirs[t + their + ".bias"].clone()
        for mine, their in (("attn.qkv", "attn.c_attn"), ("attn.proj", "attn.c_proj"),
                            ("mlp.0", "mlp.c_fc"), ("mlp.2", "mlp.c_proj")):  # fmt: skip
            sd[o + mine + ".weight"] = theirs[t + their + ".weight"].t().contiguous()  # Conv1D is x @ W
            sd[o + mine + ".bias"] = theirs[t + their + ".bias"].clone()
    sd["norm_out.weight"] = theirs["transformer.ln_f.weight"].clone()
    sd["norm_out.bias"] = theirs["transformer.ln_f.bias"].clone()
    return sd


def compare(dump: dict, bos_scored: bool, activation: str, out: str | None = None) -> float:
    model = our_model(bos_scored, activation).eval()
    weights = convert(dump["state_dict"], model)
    model.load_state_dict(weights)
    ids, pos = dump["input_ids"], dump["position_ids"]
    assert (ids[:, 0] == BOS).all()
    inverse = {their: ours for ours, their in enumerate(ORDER)}
    tokens = ids[:, 1:].clone().apply_(lambda t: inverse[t])
    with torch.no_grad():
        # our positions are the tokens' minus one: the start vector sits just before them
        mine = model(tokens, pos[:, 1:] - 1).logits
    theirs = dump["logits"][:, 1:][..., ORDER + ([BOS] if bos_scored else [])]
    if out:
        torch.save({"model": weights, "source": f"Huang et al.'s GPT-2 at step 0, their seed {dump['seed']}"}, out)
    return (mine - theirs).abs().max().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump")
    parser.add_argument("--out")
    parser.add_argument("--bos-scored", action="store_true")
    parser.add_argument("--activation", default="gelu")
    args = parser.parse_args()
    dump = torch.load(args.dump, weights_only=False)
    diff = compare(dump, args.bos_scored, args.activation, args.out)
    scale = dump["logits"].abs().max().item()
    print(
        f"their seed {dump['seed']}: bos_scored={args.bos_scored} activation={args.activation}: "
        f"largest logit difference {diff:.3g} (their largest logit {scale:.3g})"
    )


if __name__ == "__main__":
    main()
