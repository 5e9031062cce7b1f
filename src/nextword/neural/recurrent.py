"""Recurrent language models: Elman RNN, LSTM and GRU, any number of layers, optional tying.

Elman RNN (the lecture's):   h(t) = tanh(W_h h(t-1) + W_e e(t) + b1)     same W_h at every t
                             ŷ(t) = softmax(U h(t) + b2)
LSTM and GRU replace the tanh update by gated ones (Hochreiter & Schmidhuber 1997; Cho et al.
2014). All three run as PyTorch's fused layers (nn.RNN, nn.LSTM, nn.GRU): no Python loop over
time steps. Dropout (Zaremba et al. 2014) on the embeddings, between layers and before the output.
"""
from __future__ import annotations

import torch
from torch import nn

from nextword.neural.config import RecurrentConfig, get_architecture
from nextword.neural.layers import NeuralNet, init_weights, output_layer

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}       # the names: config.RECURRENT_CELLS


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
    """The network a config describes, by its architecture's registration (config.ARCHITECTURES)."""
    from nextword.model import resolve

    network = get_architecture(config.kind).network
    return (resolve(network) if isinstance(network, str) else network)(config)
