"""Pieces every neural LM shares: initialisation schemes, dropout, the output layer.

Dropout, two ways that give the same expected activations:
    lecture (Srivastava et al.):  training  y = m ⊙ x,           m_i ~ Bernoulli(1 - p)
                                  test      y = (1 - p) · x       (scaled at test time)
    PyTorch ("inverted"):         training  y = m ⊙ x / (1 - p)
                                  test      y = x                 (nothing to do at test time)
In both, E[y] during training equals y at test time (lecture: (1 - p)·x; PyTorch: x). A network
with weights W after lecture dropout computes exactly what the same network with weights
W·(1 - p) computes after PyTorch dropout, at training and at test time; so the two are the
same model, parametrised differently (tests/neural/test_layers.py checks it).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nextword.errors import NextwordError
from nextword.neural.config import INIT_SCHEMES
from nextword.text.vocabulary import BOS_ID



def lecture_dropout(x: torch.Tensor, p: float, training: bool,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Dropout as the lecture writes it: keep with probability 1 - p, scale by (1 - p) at test."""
    if not training:
        return x * (1 - p)
    keep = torch.rand(x.shape, generator=generator) >= p          # m ~ Bernoulli(1 - p)
    return x * keep


def init_weights(module: nn.Module, scheme: str = "xavier") -> None:
    """Initialise every weight matrix by `scheme`; biases to zero.

    xavier (Glorot & Bengio 2010), the default: W ~ U(-a, a), a = sqrt(6 / (n_in + n_out)), so
    Var(W) = a² / 3 = 2 / (n_in + n_out). Recurrent layers stack their gates ((4H, n_in) for an
    LSTM); each gate's (H, n_in) block is initialised as the matrix it is.
    xavier-normal: N(0, 2 / (n_in + n_out)); uniform: U(-0.1, 0.1) (Zaremba et al. 2014);
    kaiming: N(0, 2 / n_in); pytorch: leave PyTorch's own defaults.
    """
    if scheme not in INIT_SCHEMES:
        raise NextwordError(f"unknown init scheme {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}")
    if scheme == "pytorch":
        return
    for name, param in module.named_parameters():
        if param.dim() < 2:
            nn.init.zeros_(param)
            continue
        gates = _gates_of(module, name, param)
        with torch.no_grad():
            for block in param.chunk(gates, dim=0):        # views: init writes into param
                _init_matrix(block, scheme)


def _gates_of(module: nn.Module, name: str, param: torch.Tensor) -> int:
    owner = module.get_submodule(name.rsplit(".", 1)[0]) if "." in name else module
    if name.rsplit(".", 1)[-1].startswith(("weight_ih", "weight_hh")):
        return {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}.get(type(owner), 1)
    return 1


def _init_matrix(w: torch.Tensor, scheme: str) -> None:
    n_out, n_in = w.shape        # nn.Linear and recurrent weights are (out, in)
    if scheme == "xavier":
        a = math.sqrt(6.0 / (n_in + n_out))          # Var = a² / 3 = 2 / (n_in + n_out)
        w.uniform_(-a, a)
    elif scheme == "xavier-normal":
        w.normal_(0.0, math.sqrt(2.0 / (n_in + n_out)))
    elif scheme == "uniform":
        w.uniform_(-0.1, 0.1)
    elif scheme == "kaiming":
        w.normal_(0.0, math.sqrt(2.0 / n_in))


class NeuralNet(nn.Module):
    """A network that reads (T, B) input ids and a carried state and returns (T, B, d)
    features; `decoder` (d -> V) turns features into logits. Subclasses define `forward`,
    `initial_state` and `detach`."""

    decoder: nn.Linear

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """U h + b, with <s> at -inf: it is never predicted, so it gets no probability mass."""
        out = self.decoder(features)                               # (..., V)
        out[..., BOS_ID] = float("-inf")       # decoder's backward needs its input, not out
        return out

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def output_layer(input_dim: int, embedding: nn.Embedding, tie: bool) -> tuple[nn.Module, nn.Linear]:
    """(projection, decoder). Tied: U = E (the input embeddings, Press & Wolf 2017; Inan et al.
    2017), so features are first projected to the embedding size when it differs."""
    vocab_size, embedding_dim = embedding.weight.shape
    if not tie:
        return nn.Identity(), nn.Linear(input_dim, vocab_size)
    projection = nn.Identity() if input_dim == embedding_dim else nn.Linear(input_dim, embedding_dim)
    decoder = nn.Linear(embedding_dim, vocab_size)
    decoder.weight = embedding.weight
    return projection, decoder
