"""Choosing the cache's L, θ, λ and dynamic evaluation's η, λ on validation text.

Cache: the network reads the validation text once (static or dynamic), keeping each position's
feature h(t), target and ln p_model; every (L, θ) of the grid then costs one pass of dot
products over those features, and its λ is fitted by EM on the two-column matrix
[ln p_model, ln p_cache] (the cache is a component of a linear mixture).
Dynamic evaluation: one pass over the validation text per (η, λ) of the grid.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from nextword.combine.cache import CacheConfig, cache_target_probs
from nextword.combine.dynamic import DynamicConfig
from nextword.combine.mixture import fit_linear, linear_logprobs, perplexity

SIZES = (100, 500, 1000, 2000)
THETAS = (0.1, 0.3, 0.6, 1.0)
LEARNING_RATES = (0.1, 0.3, 1.0, 3.0)      # SGD on a segment's mean loss (PTB LSTM: 1 won)
DECAYS = (0.0, 0.001, 0.01)


def tune_cache(model, sentences: list, sizes=SIZES, thetas=THETAS,
               report: Callable[[dict], None] | None = None) -> tuple[CacheConfig, list]:
    """The (L, θ, λ) of lowest validation perplexity for `model` (an AdaptedLM without cache);
    returns it and the grid's rows {size, theta, lam, perplexity}."""
    return tune_cache_on_trace(*model.trace(sentences), sizes, thetas, report)


def tune_cache_on_trace(features, targets, logprobs, sizes=SIZES, thetas=THETAS,
                        report: Callable[[dict], None] | None = None) -> tuple[CacheConfig, list]:
    """tune_cache on a text already read: (N, d) features, (N,) targets, (N,) ln p_model."""
    p_cache = cache_target_probs(features, targets, sizes, thetas)
    rows = [{"size": 0, "theta": 0.0, "lam": 0.0, "perplexity": perplexity(logprobs)}]
    if report is not None:
        report(rows[0])
    for (L, theta), probs in p_cache.items():
        fit = fit_linear(_columns(logprobs, probs), weights=[0.9, 0.1])[-1]
        rows.append({"size": L, "theta": theta, "lam": fit.weights[1], "perplexity": fit.perplexity})
        if report is not None:
            report(rows[-1])
    best = min(rows[1:], key=lambda r: r["perplexity"])
    return CacheConfig(best["size"], best["theta"], best["lam"]), rows


def cache_logprobs_on_trace(features, targets, logprobs, config: CacheConfig) -> np.ndarray:
    """ln P of the targets of a text already read, with the cache: what AdaptedLM scores."""
    probs = cache_target_probs(features, targets, [config.size], [config.theta])[
        (config.size, config.theta)]
    mixed = linear_logprobs(_columns(logprobs, probs), [1 - config.lam, config.lam])
    no_history = np.arange(len(targets)) == 0                  # the model alone at the start
    return np.where(no_history, logprobs, mixed)


def _columns(logprobs, cache_probs) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.stack([logprobs, np.log(cache_probs)], axis=1)          # (N, 2)


def tune_dynamic(base, sentences: list, learning_rates=LEARNING_RATES, decays=DECAYS,
                 segment: int = 20, report: Callable[[dict], None] | None = None
                 ) -> tuple[DynamicConfig, list]:
    """The (η, λ) of lowest validation perplexity for dynamic evaluation of `base` (a NeuralLM)."""
    from nextword.combine.adapted import AdaptedLM

    rows = []
    for lr in learning_rates:
        for decay in decays:
            config = DynamicConfig(lr, decay, segment)
            scores = np.concatenate(list(AdaptedLM(base, dynamic=config).sentence_logprobs(sentences)))
            ppl = perplexity(scores) if np.isfinite(scores).all() else math.inf
            rows.append({"lr": lr, "decay": decay, "segment": segment, "perplexity": ppl})
            if report is not None:
                report(rows[-1])
    best = min(rows, key=lambda r: r["perplexity"])
    return DynamicConfig(best["lr"], best["decay"], segment), rows
