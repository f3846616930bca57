"""Training and decoding speed of the transformer, side by side in one run.

    python benchmarks/model_throughput.py [--quick]

Three measurements (issue 3 targets in brackets):

1. Training tokens/s of ``lengthgen``'s transformer vs a plain
   ``torch.nn.TransformerEncoder`` of the same size (pre-norm, GELU, causal
   mask, learned positions, same optimiser), same batches  [>= 1.0x].
2. The same training throughput in FLOP/s (3 x forward FLOPs per token) as
   a fraction of this machine's measured fp32 matmul FLOP/s at width 256
   [>= 0.5].
3. Greedy decoding of a 256-token sequence with the KV cache vs full
   recomputation at every step  [>= 5x].
"""

from __future__ import annotations

import argparse
import time

import torch
from tabulate import tabulate
from torch import nn

from lengthgen.evaluation.decode import greedy_decode
from lengthgen.models import build_model


class ReferenceLM(nn.Module):
    """The same architecture built from torch's stock encoder layers."""

    def __init__(self, vocab: int, d_model: int, n_layers: int, n_heads: int, max_len: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.positions = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, 4 * d_model, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, tokens):
        length = tokens.shape[1]
        h = self.embedding(tokens) + self.positions(torch.arange(length))
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        return self.head(self.norm(self.encoder(h, mask=mask, is_causal=True)))


def train_tokens_per_second(model, logits_of, batch, length, vocab, seconds, seed=0):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    data = [torch.randint(0, vocab, (batch, length + 1), generator=gen) for _ in range(4)]

    def step(i):
        seq = data[i % len(data)]
        logits = logits_of(model, seq[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), seq[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(3):
        step(i)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(steps)
        steps += 1
    return steps * batch * length / (time.perf_counter() - start)


def matmul_flops(size=1024, seconds=1.0):
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return count * 2 * size**3 / (time.perf_counter() - start)


def compare_training(d_model, n_layers, n_heads, batch, length, vocab, seconds):
    torch.manual_seed(0)
    ours = build_model(
        "transformer", vocab, d_model=d_model, n_layers=n_layers, n_heads=n_heads, pe="learned", max_positions=length
    )
    ref = ReferenceLM(vocab, d_model, n_layers, n_heads, length)
    # interleave two rounds so drift in machine load hits both equally
    results = {"lengthgen": [], "torch.nn.TransformerEncoder": []}
    for _ in range(2):
        results["lengthgen"].append(
            train_tokens_per_second(ours, lambda m, x: m(x).logits, batch, length, vocab, seconds)
        )
        results["torch.nn.TransformerEncoder"].append(
            train_tokens_per_second(ref, lambda m, x: m(x), batch, length, vocab, seconds)
        )
    return {k: max(v) for k, v in results.items()}, ours


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter timing windows")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 3.0
    vocab = 64
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")

    rows = []
    for d_model, n_layers, batch, length in [(128, 2, 64, 64), (256, 4, 32, 128)]:
        speeds, ours = compare_training(d_model, n_layers, 4, batch, length, vocab, seconds)
        ratio = speeds["lengthgen"] / speeds["torch.nn.TransformerEncoder"]
        rows.append(
            [
                f"d={d_model} L={n_layers} B={batch} T={length}",
                f"{speeds['lengthgen']:,.0f}",
                f"{speeds['torch.nn.TransformerEncoder']:,.0f}",
                f"{ratio:.2f}x",
            ]
        )
        if d_model == 256:
            wide_speed, wide_model, wide_len = speeds["lengthgen"], ours, length
    print("1. training tokens/s (target >= 1.0x)")
    print(tabulate(rows, headers=["config", "lengthgen", "nn.TransformerEncoder", "ratio"], tablefmt="github"))

    peak = matmul_flops(seconds=seconds)
    # forward FLOPs at the average causal context (half the sequence), backward ~ 2x forward
    achieved = 3 * wide_model.flops_per_token(wide_len // 2) * wide_speed
    print("\n2. training FLOP/s at width 256 (target >= 0.5 of matmul peak)")
    print(
        tabulate(
            [[f"{peak / 1e9:,.1f}", f"{achieved / 1e9:,.1f}", f"{achieved / peak:.2f}"]],
            headers=["fp32 matmul GFLOP/s (1024^3)", "training GFLOP/s", "fraction"],
            tablefmt="github",
        )
    )

    torch.manual_seed(0)
    model = build_model("transformer", vocab, d_model=128, n_layers=2, n_heads=4, pe="rope").eval()
    prompts = torch.randint(3, vocab, (32, 128))
    timings = {}
    for use_cache in (True, False, True):
        start = time.perf_counter()
        tokens, _ = greedy_decode(model, prompts, 128, use_cache=use_cache)
        timings.setdefault(use_cache, []).append(time.perf_counter() - start)
        if use_cache:
            cached_tokens = tokens
        else:
            full_tokens = tokens
    assert torch.equal(cached_tokens, full_tokens), "cache and recomputation disagree"
    with_cache, without = min(timings[True]), min(timings[False])
    print("\n3. greedy decoding to length 256 (128 prompt + 128 new, batch 32; target >= 5x)")
    print(
        tabulate(
            [[f"{with_cache:.2f}", f"{without:.2f}", f"{without / with_cache:.1f}x", "identical"]],
            headers=["KV cache (s)", "recompute (s)", "speed-up", "tokens"],
            tablefmt="github",
        )
    )


if __name__ == "__main__":
    main()
