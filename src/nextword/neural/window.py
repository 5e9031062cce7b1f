"""The fixed-window neural language model (Bengio et al. 2003).

    e = [e(w_{t-n+1}); ...; e(w_{t-1})]      the n-1 previous words' embeddings, oldest first
    h = f(W e + b1)                          f = tanh (or relu)
    ŷ = softmax(U h + b2)

Its "state" is just the last n-1 tokens read, so it trains in the same (T, B) segments as the
recurrent models: the window at the start of a segment reaches into the previous one.
"""
from __future__ import annotations

import torch
from torch import nn

from nextword.neural.config import WindowConfig
from nextword.neural.layers import NeuralNet, init_weights, output_layer
from nextword.text.vocabulary import EOS_ID

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}      # the names: config.ACTIVATIONS


class WindowNet(NeuralNet):
    def __init__(self, config: WindowConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)
        self.drop = nn.Dropout(c.dropout)
        self.hidden = nn.Linear(c.window * c.embedding_dim, c.hidden_dim)        # W, b1
        self.activation = ACTIVATIONS[c.activation]()
        self.projection, self.decoder = output_layer(c.hidden_dim, self.embedding, c.tie)  # U, b2
        init_weights(self, c.init)

    def initial_state(self, batch_size: int, device=None) -> torch.Tensor:
        """n-1 tokens of </s>: before the stream, as if a line had just ended."""
        return torch.full((self.config.window, batch_size), EOS_ID, dtype=torch.long, device=device)

    @staticmethod
    def detach(state: torch.Tensor) -> torch.Tensor:
        return state                          # token ids: nothing to truncate

    def forward(self, inputs: torch.Tensor, state: torch.Tensor):
        """inputs (T, B) ids, state (n-1, B) ids -> features (T, B, d), new state (n-1, B)."""
        n1 = self.config.window
        tokens = torch.cat([state, inputs], dim=0)                  # (n-1+T, B)
        windows = tokens.unfold(0, n1, 1)[1:]                       # (T, B, n-1), oldest first
        e = self.embedding(windows).flatten(2)                      # (T, B, (n-1)·m)
        h = self.activation(self.hidden(self.drop(e)))              # (T, B, H)
        features = self.projection(self.drop(h))                   # (T, B, d)
        return features, tokens[-n1:]
