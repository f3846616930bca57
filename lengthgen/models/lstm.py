"""LSTM baseline: recurrence solves the regular tasks that transformers miss."""

from __future__ import annotations

import torch
from torch import nn

from lengthgen.models.base import ModelOutput, SequenceModel, init_weights


class LSTMModel(SequenceModel):
    """Token embedding, a stacked LSTM, a linear readout.  It has no positions.

    >>> LSTMModel(vocab_size=10, d_model=16)(torch.zeros(2, 4, dtype=torch.long)).logits.shape
    torch.Size([2, 4, 10])
    """

    def __init__(self, vocab_size: int, d_model: int = 128, n_layers: int = 1, dropout: float = 0.0):
        super().__init__(vocab_size, d_model, n_heads=1, pe="none", max_positions=1)
        self.n_layers = n_layers
        self.lstm = nn.LSTM(
            d_model, d_model, num_layers=n_layers, batch_first=True, dropout=dropout if n_layers > 1 else 0.0
        )
        init_weights(self)

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor | None = None, cache=None) -> ModelOutput:
        out, _ = self.lstm(self.embedding(tokens))
        return self.readout(out)

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        return self.n_layers * 2 * 4 * (2 * self.d_model * self.d_model) + 2 * self.d_model * self.vocab_size
