"""Recurrent language models: Elman RNN, LSTM and GRU, any number of layers, optional tying.

Elman RNN (the lecture's):   h(t) = tanh(W_h h(t-1) + W_e e(t) + b1)     same W_h at every t
                             ŷ(t) = softmax(U h(t) + b2)
LSTM and GRU replace the tanh update by gated ones (Hochreiter & Schmidhuber 1997; Cho et al.
2014). All three run as PyTorch's fused layers (nn.RNN, nn.LSTM, nn.GRU): no Python loop over
time steps. Dropout (Zaremba et al. 2014) on the embeddings, between layers and before the output.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nextword.errors import NextwordError
from nextword.neural.layers import NeuralNet, init_weights, output_layer
from nextword.neural.window import _check_common

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass(frozen=True)
class RecurrentConfig:
    """Sizes of a recurrent LM; `cell` is its model type: rnn (Elman, tanh), lstm or gru."""

    cell: str
    vocab_size: int
    embedding_dim: int = 200
    hidden_dim: int = 200
    num_layers: int = 2
    dropout: float = 0.2
    tie: bool = True
    init: str = "xavier"

    @property
    def kind(self) -> str:
        return self.cell

    def __post_init__(self):
        if self.cell not in CELLS:
            raise NextwordError(f"unknown recurrent cell {self.cell!r}; choose rnn, lstm or gru")
        if self.num_layers < 1:
            raise NextwordError(f"layers must be >= 1, got {self.num_layers}")
        _check_common(self)


class RecurrentNet(NeuralNet):
    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)                 # E
        self.drop = nn.Dropout(c.dropout)
        extra = {"nonlinearity": "tanh"} if c.cell == "rnn" else {}
        self.rnn = CELLS[c.cell](c.embedding_dim, c.hidden_dim, c.num_layers,
                                 dropout=c.dropout if c.num_layers > 1 else 0.0, **extra)
        self.projection, self.decoder = output_layer(c.hidden_dim, self.embedding, c.tie)  # U, b2
        init_weights(self, c.init)

    def initial_state(self, batch_size: int, device=None):
        """h(0) = 0 (and c(0) = 0 for an LSTM): (layers, B, H) each."""
        c = self.config
        zeros = torch.zeros(c.num_layers, batch_size, c.hidden_dim, device=device)
        return (zeros, zeros.clone()) if c.cell == "lstm" else zeros

    @staticmethod
    def detach(state):
        # truncate: no gradient flows into the previous segment
        return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    def forward(self, inputs: torch.Tensor, state):
        """inputs (T, B) ids, state (layers, B, H) -> features (T, B, d), new state."""
        e = self.drop(self.embedding(inputs))                       # (T, B, m)
        h, state = self.rnn(e, state)                               # (T, B, H)
        return self.projection(self.drop(h)), state                 # (T, B, d)


def build_net(config) -> NeuralNet:
    """The network a config describes (WindowConfig or RecurrentConfig)."""
    from nextword.neural.window import WindowConfig, WindowNet

    if isinstance(config, WindowConfig):
        return WindowNet(config)
    if isinstance(config, RecurrentConfig):
        return RecurrentNet(config)
    raise TypeError(f"not a model config: {config!r}")
