"""Training and decoding speed at the sizes the suite trains, side by side in one run.

    python benchmarks/model_throughput.py [--quick] [--sections suite,overhead,wide,step,compile,decode]

Sections (targets of the issues that asked for them in brackets):

``suite``   Training tokens/s of every model at the suite's sizes (width 64
            and 128, 2-3 layers, sequences of 16-64 tokens, batch 32-128)
            against a plain PyTorch model of the same size trained the plain
            way: ``nn.TransformerEncoder`` (pre-norm, GELU, causal mask,
            learned positions) or ``nn.LSTM``, stock ``AdamW``.  lengthgen's
            side is trained as the suite trains it (its optimizer, gradient
            clipping); both sides clip.  [transformer >= 1.5x at width 64/128]
``overhead`` The share of a step that is per-operation cost (Python,
            dispatch, launches) rather than arithmetic, for both models: a
            bound on what removing operations (fusion, compilation) can gain.
``wide``    The same at width 256 with 4 layers, and the training FLOP/s as a
            fraction of this machine's fp32 matmul peak.  [>= 1.0x, >= 0.6]
``step``    Where a real training cell's time goes (copy-unique with its
            recipe): batch generation, the model step, the periodic probes,
            the final evaluation; evaluation examples/s per length.
``compile`` ``torch.compile`` of the training forward against eager on the
            same cell: steps/s after warm-up and the compilation time.
``decode``  Greedy decoding with the KV cache against recomputation (same tokens).

Rounds alternate the two sides of every comparison and the median of each
side is kept, so drift in machine load hits both alike.  Set threads with
``--threads`` (default: torch's).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from tabulate import tabulate
from torch import nn

from lengthgen.evaluation.decode import greedy_decode
from lengthgen.evaluation.evaluate import evaluate_length
from lengthgen.experiment import RunConfig, apply_settings, build
from lengthgen.models import build_model
from lengthgen.tasks.base import SEP
from lengthgen.training.loop import TrainConfig, Trainer, build_optimizer


class ReferenceLM(nn.Module):
    """The transformer built from torch's stock encoder layers."""

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


class ReferenceLSTM(nn.Module):
    def __init__(self, vocab: int, d_model: int, n_layers: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.lstm = nn.LSTM(d_model, d_model, n_layers, batch_first=True)
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, tokens):
        return self.head(self.lstm(self.embedding(tokens))[0])


class Side:
    """One side of a comparison: a model, how to get its logits, its optimizer."""

    def __init__(self, model, logits_of, optimizer):
        self.model, self.logits_of, self.optimizer = model, logits_of, optimizer

    @classmethod
    def lengthgen(cls, model):
        # the suite's own optimizer (parameter groups, multi-tensor AdamW)
        return cls(model, lambda m, x: m(x).logits, build_optimizer(model, TrainConfig()))

    @classmethod
    def plain(cls, model):
        return cls(model, lambda m, x: m(x), torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98)))

    def step(self, seq, vocab):
        logits = self.logits_of(self.model, seq[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), seq[:, 1:].reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()


def tokens_per_second(sides: dict[str, Side], batch, length, vocab, seconds, rounds) -> dict[str, float]:
    """Training tokens/s of each side: ``rounds`` alternating windows, median per side."""
    gen = torch.Generator().manual_seed(0)
    data = [torch.randint(0, vocab, (batch, length + 1), generator=gen) for _ in range(4)]
    for side in sides.values():
        for i in range(3):
            side.step(data[i % 4], vocab)
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, side in sides.items():
            steps, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                side.step(data[steps % 4], vocab)
                steps += 1
            rates[name].append(steps * batch * length / (time.perf_counter() - start))
    return {name: statistics.median(r) for name, r in rates.items()}


def matmul_flops(size=1024, seconds=1.0):
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return count * 2 * size**3 / (time.perf_counter() - start)


def ours(name, vocab, d, layers, length, **extra):
    torch.manual_seed(0)
    if name in ("ut", "hyper-ut"):
        return build_model(name, vocab, d_model=d, n_heads=4, max_steps=layers, pe="rope", **extra)
    if name == "lstm":
        return build_model(name, vocab, d_model=d, n_layers=layers)
    return build_model(name, vocab, d_model=d, n_layers=layers, n_heads=4, max_positions=length, **extra)


# (label, lengthgen model and options); all compared with the same-size plain model
SUITE_MODELS = [
    ("transformer (learned)", "transformer", {"pe": "learned"}),
    ("transformer (rope)", "transformer", {"pe": "rope"}),
    ("transformer (alibi)", "transformer", {"pe": "alibi"}),
    ("modified heads (rope)", "transformer", {"pe": "rope", "modified_heads": True}),
    ("ut (rope, ACT)", "ut", {}),
    ("hyper-ut (rope, ACT)", "hyper-ut", {}),
    ("lstm", "lstm", {}),
]
SUITE_SIZES = [(64, 2, 64, 16), (64, 2, 64, 32), (64, 3, 32, 64), (128, 2, 64, 32), (128, 3, 128, 16), (128, 3, 32, 64)]
# every model at two sizes; the transformer variants that the suites train most at all of them
BROAD_SIZES = {(64, 2, 64, 32), (128, 3, 32, 64)}


def section_suite(args, vocab=32):
    rows = []
    for d, layers, batch, length in SUITE_SIZES:
        for label, name, extra in SUITE_MODELS:
            if (d, layers, batch, length) not in BROAD_SIZES and label not in (
                "transformer (rope)",
                "transformer (learned)",
            ):
                continue
            if args.models and not any(m in label for m in args.models.split(",")):
                continue
            model = ours(name, vocab, d, layers, length, **extra)
            torch.manual_seed(0)
            ref = ReferenceLSTM(vocab, d, layers) if name == "lstm" else ReferenceLM(vocab, d, layers, 4, length)
            speeds = tokens_per_second(
                {"ours": Side.lengthgen(model), "plain": Side.plain(ref)},
                batch,
                length,
                vocab,
                args.seconds,
                args.rounds,
            )
            rows.append(
                [
                    f"d={d} L={layers} B={batch} T={length}",
                    label,
                    "nn.LSTM" if name == "lstm" else "nn.TransformerEncoder",
                    f"{speeds['ours']:,.0f}",
                    f"{speeds['plain']:,.0f}",
                    f"{speeds['ours'] / speeds['plain']:.2f}x",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    print("\nsuite sizes: training tokens/s (target: transformer >= 1.5x at width 64 and 128)")
    print(
        tabulate(
            rows, headers=["size", "lengthgen model", "plain model", "lengthgen", "plain", "ratio"], tablefmt="github"
        )
    )


def section_overhead(args, vocab=32):
    """How much of a step is per-operation cost (Python, dispatch, kernel
    launch) rather than arithmetic: the same step on a batch of one
    two-token sequence runs every operation with almost no data."""
    rows = []
    for d, layers, batch, length in sorted(BROAD_SIZES):
        for label in ("lengthgen transformer (rope)", "nn.TransformerEncoder"):
            if label.startswith("lengthgen"):
                side = Side.lengthgen(ours("transformer", vocab, d, layers, length, pe="rope"))
            else:
                side = Side.plain(ReferenceLM(vocab, d, layers, 4, length))
            times = {}
            for b, t in ((1, 2), (batch, length)):
                seq = torch.randint(0, vocab, (b, t + 1))
                for _ in range(3):
                    side.step(seq, vocab)
                steps, start = 0, time.perf_counter()
                while time.perf_counter() - start < args.seconds * args.rounds:
                    side.step(seq, vocab)
                    steps += 1
                times[b] = (time.perf_counter() - start) / steps
            rows.append(
                [f"d={d} L={layers} B={batch} T={length}", label, f"{1e3 * times[1]:.2f}", f"{1e3 * times[batch]:.2f}"]
                + [f"{times[1] / times[batch]:.1%}"]
            )
    print("\nper-operation cost: a step on 1 sequence of 2 tokens against the full step")
    print(tabulate(rows, headers=["size", "model", "tiny step ms", "full step ms", "share"], tablefmt="github"))


def section_wide(args, vocab=64):
    d, layers, batch, length = 256, 4, 32, 128
    model = ours("transformer", vocab, d, layers, length, pe="learned")
    torch.manual_seed(0)
    ref = ReferenceLM(vocab, d, layers, 4, length)
    speeds = tokens_per_second(
        {"ours": Side.lengthgen(model), "plain": Side.plain(ref)}, batch, length, vocab, args.seconds, args.rounds
    )
    peak = matmul_flops(seconds=args.seconds)
    # forward FLOPs at the average causal context (half the sequence), backward ~ 2x forward
    achieved = 3 * model.flops_per_token(length // 2) * speeds["ours"]
    print(f"\nwidth 256, 4 layers, batch {batch}, {length} tokens (target >= 1.0x, >= 0.6 of the matmul peak)")
    print(
        tabulate(
            [
                [
                    f"{speeds['ours']:,.0f}",
                    f"{speeds['plain']:,.0f}",
                    f"{speeds['ours'] / speeds['plain']:.2f}x",
                    f"{peak / 1e9:,.1f}",
                    f"{achieved / 1e9:,.1f}",
                    f"{achieved / peak:.2f}",
                ]
            ],
            headers=["lengthgen tok/s", "plain tok/s", "ratio", "matmul GFLOP/s", "training GFLOP/s", "fraction"],
            tablefmt="github",
        )
    )


def cell_trainer(benchmark: str, compile: bool = False) -> tuple[Trainer, RunConfig]:
    cfg = apply_settings(RunConfig(), {"benchmark": benchmark}, "benchmark")
    task, test_task, model = build(cfg)
    trainer = Trainer(
        model, task, cfg.train_lengths, cfg.train, 0, torch.device("cpu"), progress=False, compile=compile
    )
    return trainer, cfg


def section_step(args, benchmark="copy-unique"):
    trainer, cfg = cell_trainer(benchmark)
    steps = 30 if args.quick else 100
    for _ in range(3):
        trainer.train_step()
    data = model = 0.0
    for _ in range(steps):
        start = time.perf_counter()
        batch = trainer.next_batch()
        mid = time.perf_counter()
        trainer.learn(batch)
        data, model = data + mid - start, model + time.perf_counter() - mid
    start = time.perf_counter()
    trainer.probe()
    probe = (time.perf_counter() - start) / cfg.train.eval_every  # one probe every eval_every steps
    rows, eval_total = [], 0.0
    task = build(cfg)[1]
    for length in cfg.test_lengths:
        start = time.perf_counter()
        evaluate_length(trainer.model, task, length, cfg.eval_examples, np.random.default_rng(0), torch.device("cpu"))
        seconds = time.perf_counter() - start
        eval_total += seconds
        rows.append([length, f"{cfg.eval_examples / seconds:,.0f}"])
    per_step = (data + model) / steps + probe
    train_total = per_step * cfg.train.steps
    opts = cfg.model_options
    print(
        f"\none training cell: {benchmark} with its recipe (d={opts.get('d_model')} L={opts.get('n_layers')} "
        f"pe={opts.get('pe')}, batch {cfg.train.batch_size}, {cfg.train.steps} steps, "
        f"{cfg.eval_examples} evaluation examples per length)"
    )
    share = [
        [
            "batch generation (numpy sampling, layout, positions)",
            f"{1e3 * data / steps:.2f}",
            f"{data / steps / per_step:.1%}",
        ],
        [
            "model step (forward, loss, backward, clip, AdamW)",
            f"{1e3 * model / steps:.2f}",
            f"{model / steps / per_step:.1%}",
        ],
        [f"probes (every {cfg.train.eval_every} steps), amortised", f"{1e3 * probe:.2f}", f"{probe / per_step:.1%}"],
    ]
    print(tabulate(share, headers=["part of a training step", "ms/step", "share"], tablefmt="github"))
    print(
        f"final evaluation: {eval_total:.1f} s, {eval_total / (train_total + eval_total):.1%} of the cell "
        f"(training at this rate: {train_total:.0f} s)"
    )
    print(tabulate(rows, headers=["length", "evaluation examples/s (greedy, KV cache)"], tablefmt="github"))


def section_compile(args, benchmark="copy-unique"):
    steps = 40 if args.quick else 150
    rows = []
    for compile in (False, True):
        trainer, _ = cell_trainer(benchmark, compile=compile)
        start = time.perf_counter()
        for _ in range(5):
            trainer.train_step()
        warm = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        rows.append(
            ["torch.compile" if compile else "eager", f"{steps / (time.perf_counter() - start):.1f}", f"{warm:.1f}"]
        )
    print(f"\ntorch.compile of the training forward ({benchmark}, mixed lengths: dynamic shapes)")
    print(tabulate(rows, headers=["forward", "steps/s after warm-up", "first 5 steps (s)"], tablefmt="github"))


def _time_decode(model, prompts, new):
    """Best of two cached decodes against one recomputed decode, and whether the tokens agree."""
    timings, tokens = {}, {}
    for use_cache in (True, False, True):
        start = time.perf_counter()
        tokens[use_cache], _ = greedy_decode(model, prompts, new, use_cache=use_cache)
        timings.setdefault(use_cache, []).append(time.perf_counter() - start)
    return min(timings[True]), min(timings[False]), torch.equal(tokens[True], tokens[False])


def section_decode(args, vocab=64):
    torch.manual_seed(0)
    transformer = build_model("transformer", vocab, d_model=128, n_layers=2, n_heads=4, pe="rope").eval()
    # the looped model runs T(n) = n / 2 iterations for an n-token input, fixed by the prompt's <sep>
    looped = build_model("looped", vocab, d_model=64, n_layers=1, n_heads=4, steps_per_length=0.5).eval()
    long_prompts = torch.randint(3, vocab, (32, 128))
    short_prompts = torch.randint(3, vocab, (32, 33))
    short_prompts[:, -1] = SEP
    cases = [
        ("transformer, width 128, 2 layers", transformer, long_prompts, 128),
        ("looped, width 64, 16 iterations", looped, short_prompts, 32),
    ]
    rows, differ = [], []
    for name, model, prompts, new in cases:
        with_cache, without, same = _time_decode(model, prompts, new)
        rows.append(
            [
                name,
                f"{prompts.shape[1]} + {new}",
                f"{with_cache:.2f}",
                f"{without:.2f}",
                f"{without / with_cache:.1f}x",
                "identical" if same else "DIFFER",
            ]
        )
        if not same:
            differ.append(name)
    print("\ngreedy decoding, batch 32 (target >= 5x for the transformer at 128 + 128 tokens)")
    print(
        tabulate(
            rows,
            headers=["model", "prompt + new tokens", "KV cache (s)", "recompute (s)", "speed-up", "tokens"],
            tablefmt="github",
        )
    )
    if differ:
        raise SystemExit(f"the KV cache and recomputation decode different tokens: {', '.join(differ)}")


SECTIONS = {
    "suite": section_suite,
    "overhead": section_overhead,
    "wide": section_wide,
    "step": section_step,
    "compile": section_compile,
    "decode": section_decode,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter timing windows, fewer rounds")
    parser.add_argument(
        "--sections", default="suite,overhead,wide,step,decode", help=f"comma-separated: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument(
        "--models", help="suite section: only models whose label contains one of these (comma-separated)"
    )
    args = parser.parse_args()
    args.seconds, args.rounds = (0.5, 3) if args.quick else (1.5, 5)
    if args.threads:
        torch.set_num_threads(args.threads)
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in chosen:
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
