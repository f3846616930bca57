"""Batched greedy decoding, with a KV cache where the model has one."""

from __future__ import annotations

import torch

from lengthgen.models.base import SequenceModel


@torch.no_grad()
def greedy_decode(
    model: SequenceModel,
    prompts: torch.Tensor,
    steps: int,
    positions: torch.Tensor | None = None,
    use_cache: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Generate ``steps`` tokens after each prompt [B, Lp] (all the same length).

    ``positions`` [B, Lp + steps] gives position ids for the whole sequence
    (randomized encodings); None means 0, 1, 2, ...  Returns the generated
    tokens [B, steps] and, for adaptive-depth models, the computation steps
    used at each predicting position [B, steps] (else None).

    With ``use_cache`` and a model that supports it, the prompt is encoded
    once and each new token costs one position's worth of work; otherwise
    the whole sequence is recomputed every step.
    """
    prompt_len = prompts.shape[1]

    def pos(start: int, end: int):
        return None if positions is None else positions[:, start:end]

    generated, used_steps = [], []
    if use_cache and model.supports_cache:
        cache = model.new_cache()
        out = model(prompts, pos(0, prompt_len), cache)
        for t in range(steps):
            nxt = out.logits[:, -1].argmax(-1)
            generated.append(nxt)
            if out.steps is not None:
                used_steps.append(out.steps[:, -1])
            if t + 1 < steps:
                start = prompt_len + t
                out = model(nxt.unsqueeze(1), pos(start, start + 1), cache)
    else:
        seq = prompts
        for _ in range(steps):
            out = model(seq, pos(0, seq.shape[1]))
            nxt = out.logits[:, -1].argmax(-1)
            generated.append(nxt)
            if out.steps is not None:
                used_steps.append(out.steps[:, -1])
            seq = torch.cat([seq, nxt.unsqueeze(1)], dim=1)
    tokens = torch.stack(generated, dim=1)
    return tokens, (torch.stack(used_steps, dim=1) if used_steps else None)
