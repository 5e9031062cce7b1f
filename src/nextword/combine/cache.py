"""The continuous cache of Grave, Joulin & Usunier (2017): recent hidden states point at the
words that followed them.

    p_cache(w | h(t)) ∝ Σ_{i in the last L positions before t, x(i+1) = w} exp(θ h(t)·h(i))
    P(w | history)    = (1 - λ) p_model(w | history) + λ p_cache(w | h(t))

h(i) is the top-layer feature the softmax reads at position i and x(i+1) the word it had to
predict, known once position i+1 is read: position t only ever sees pairs (h(i), x(i+1)) with
i < t, never its own word. Nothing is trained; L, θ and λ are tuned on validation text. Before
any history exists (the first position of a text) the model is used alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nextword.errors import NextwordError


@dataclass(frozen=True)
class CacheConfig:
    size: int = 500          # L: how many past positions the cache holds
    theta: float = 0.3       # θ: how sharply it prefers similar states
    lam: float = 0.1         # λ: weight of the cache in the interpolation

    def __post_init__(self):
        if self.size < 1:
            raise NextwordError(f"cache size must be >= 1, got {self.size}")
        if not 0 <= self.lam <= 1:
            raise NextwordError(f"cache weight λ must be in [0, 1], got {self.lam}")


def cache_weights(queries: torch.Tensor, keys: torch.Tensor, first: int, size: int,
                  theta: float) -> torch.Tensor:
    """Softmax weights of each query over the keys it may see: (T, H + T).

    keys = the H carried keys followed by the T queries' own positions; query t (position
    first + t of the keys) sees keys j with first + t - size <= j < first + t. A row with no
    key it may see is all zero."""
    T, J = queries.size(0), keys.size(0)
    scores = theta * (queries @ keys.T)                                    # (T, H + T)
    t = torch.arange(T, device=keys.device)[:, None] + first
    j = torch.arange(J, device=keys.device)[None, :]
    allowed = (j < t) & (j >= t - size)                                    # causal window
    scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=1)
    return torch.nan_to_num(weights, nan=0.0)                              # rows with no history


class ContinuousCache:
    """The cache over one text: carries its last L (h(i), x(i+1)) pairs from chunk to chunk."""

    def __init__(self, config: CacheConfig, vocab_size: int):
        self.config = config
        self.vocab_size = vocab_size
        self.keys: torch.Tensor | None = None                  # (H, d) h(i)
        self.labels = torch.empty(0, dtype=torch.int64)       # (H,)   x(i+1)

    def __call__(self, features: torch.Tensor, targets: torch.Tensor,
                 logprobs: torch.Tensor) -> torch.Tensor:
        """(T, d) features, (T,) targets, (T, V) model ln P -> (T, V) ln P of the mixture.
        The targets enter the cache only for later positions."""
        c = self.config
        features = features.detach().float()
        keys = features if self.keys is None else torch.cat([self.keys, features])
        labels = torch.cat([self.labels.to(targets.device), targets])
        first = len(labels) - len(targets)
        weights = cache_weights(features, keys, first, c.size, c.theta)          # (T, H + T)
        p_cache = torch.zeros(len(targets), self.vocab_size, dtype=weights.dtype, device=weights.device)
        p_cache.scatter_add_(1, labels.expand(len(targets), -1), weights)         # (T, V)
        with np.errstate(divide="ignore"):
            mixed = torch.logaddexp(logprobs + np.log1p(-c.lam), torch.log(p_cache) + np.log(c.lam))
        has_history = weights.sum(dim=1) > 0
        self.keys, self.labels = keys[-c.size:], labels[-c.size:]
        return torch.where(has_history[:, None], mixed, logprobs)


def cache_target_probs(features: torch.Tensor, targets: torch.Tensor, sizes, thetas,
                       chunk: int = 512) -> dict:
    """p_cache(x(t+1)) at every position of a text for every (L, θ) of a grid, one dot product
    per chunk shared by the whole grid: {(L, θ): (N,) float64 array} (0 where no history)."""
    N = len(targets)
    longest = max(sizes)
    out = {(L, th): np.zeros(N) for L in sizes for th in thetas}
    for start in range(0, N, chunk):
        stop = min(N, start + chunk)
        first = min(start, longest)                       # carried keys before this chunk
        keys = features[start - first: stop]
        labels = targets[start - first: stop]
        queries = features[start: stop]
        same = (labels[None, :] == targets[start: stop, None])           # (T, H + T)
        dots = queries @ keys.T
        t = torch.arange(stop - start, device=features.device)[:, None] + first
        j = torch.arange(len(keys), device=features.device)[None, :]
        for L in sizes:
            allowed = (j < t) & (j >= t - L)
            for th in thetas:
                scores = (th * dots).masked_fill(~allowed, float("-inf"))
                weights = torch.nan_to_num(torch.softmax(scores, dim=1), nan=0.0)
                out[(L, th)][start: stop] = (weights * same).sum(dim=1).double().cpu().numpy()
    return out
