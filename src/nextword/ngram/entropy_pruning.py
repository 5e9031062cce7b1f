"""Relative-entropy pruning of a backoff model to a target size (Stolcke 1998).

Removing the stored n-gram (h, w) makes w back off: P'(w | h) = α'(h) P(w | h'), with the
backoff weight recomputed so the distribution still sums to 1. With

    num(h) = 1 - Σ_{w stored after h} P(w | h)       den(h) = 1 - Σ_{w stored after h} P(w | h')
    α(h)   = num(h) / den(h)                          α'(h)  = (num(h) + P(w|h)) / (den(h) + P(w|h'))

the increase in relative entropy (Stolcke's eq. 8, natural log) is

    ΔH(h, w) = -P(h) [ P(w|h) (ln α'(h) + ln P(w|h') - ln P(w|h)) + num(h) (ln α'(h) - ln α(h)) ]

P(h) = P(h1) P(h2 | h1) ... from the model itself (P(<s>) taken as P(</s>): each sentence starts
once and ends once), as Stolcke does; for Kneser–Ney models, whose lower orders are continuation
distributions and poor estimates of how often a history occurs, the relative frequency c(h)/N
is used instead when the counts are at hand (Chelba et al. 2010; on the PTB 5-gram pruned to
246k n-grams: 157.1 against 166.8 test perplexity). `history` forces either choice. Every ΔH is computed on the original model, as in Stolcke's paper; the
threshold θ is found by bisection so that the pruned model has at most the target number of
n-grams; an n-gram that is still the context of a kept longer n-gram stays. Unigrams are never
pruned. The backoff weights are then recomputed order by order on the pruned model.
"""
from __future__ import annotations

import numpy as np

from nextword.errors import NextwordError
from nextword.ngram.backoff import backoff_logprobs, ngram_ids
from nextword.ngram.tables import Tables
from nextword.ngram.interpolated import prune_rows
from nextword.text.vocabulary import BOS_ID, EOS_ID

TINY = 1e-300
MIN_LEFT_OVER = 1e-12      # as Katz: a context whose stored words take all the mass keeps this


def _history_logprobs(model, history: str = "model") -> list:
    """ln P(h) for every row of tables 1..n-1: chain rule along the trie, or c(h) / N."""
    if history == "counts":
        c = model.counts
        N = float(c[1].sum() - c[1][BOS_ID])
        return [None] + [np.log(np.maximum(c[j], 1) / N) for j in range(1, model.order)]
    t, V = model.tables, model.vocab_size
    unigram = np.array(t.logprob[1], dtype=np.float64)
    unigram[BOS_ID] = unigram[EOS_ID]
    out = [None, unigram]
    for j in range(2, model.order):
        out.append(out[j - 1][model.keys[j] // V] + np.asarray(t.logprob[j]))
    return out


def _delta_entropy(model, history: str = "model") -> list:
    """ΔH[k][row] for every stored k-gram, k = 2..n (see the module docstring)."""
    t, V = model.tables, model.vocab_size
    history = _history_logprobs(model, history)
    delta: list = [None, None]
    for k in range(2, model.order + 1):
        parents = model.keys[k] // V
        size = len(t.logprob[k - 1])
        p = np.exp(np.asarray(t.logprob[k], dtype=np.float64))
        p_lower = np.exp(backoff_logprobs(model, k, ngram_ids(model.keys, V, k)))
        num = np.maximum(1.0 - np.bincount(parents, weights=p, minlength=size), 0.0)[parents]
        den = np.maximum(1.0 - np.bincount(parents, weights=p_lower, minlength=size), 0.0)[parents]
        ln_alpha = np.log(np.maximum(num, TINY)) - np.log(np.maximum(den, TINY))
        ln_alpha_new = np.log(num + p) - np.log(den + p_lower)
        dH = -np.exp(history[k - 1][parents]) * (
            p * (ln_alpha_new + np.log(np.maximum(p_lower, TINY)) - np.log(p))
            + num * (ln_alpha_new - ln_alpha))
        delta.append(dH)
    return delta


def _keep_masks(model, delta: list, theta: float) -> list:
    """Which rows stay at threshold θ: ΔH >= θ, or a context of a kept longer n-gram."""
    V = model.vocab_size
    keep: list = [None] * (model.order + 1)
    children = None
    for k in range(model.order, 1, -1):
        mask = delta[k] >= theta
        if children is not None:
            mask |= children > 0
        keep[k] = mask
        children = np.bincount((model.keys[k] // V)[mask], minlength=len(model.tables.logprob[k - 1]))
    return keep


def entropy_prune(model, target_size: int, history: str = "auto"):
    """A new model with at most `target_size` n-grams (all orders, unigrams included).

    history: how P(h) is estimated: "model" (Stolcke), "counts" (c(h)/N, needs a model fitted
    in this process), "auto" (counts for Kneser–Ney models when available, else model)."""
    from nextword.ngram.model import NgramModel

    if history == "auto":
        history = "counts" if model.kneser_ney_like and model.counts is not None else "model"
    if history not in ("model", "counts"):
        raise NextwordError(f"history must be 'model', 'counts' or 'auto', got {history!r}")
    if history == "counts" and model.counts is None:
        raise NextwordError("history='counts' needs the raw counts: fit the model in this process")

    t = model.tables
    if t.fallback != "backoff" or t.unseen_context_logbackoff != 0.0 or not model.normalised:
        raise NextwordError(f"relative-entropy pruning needs a normalised backoff model; "
                            f"{model.estimator.get('name')} is not one")
    V = model.vocab_size
    size = V + sum(len(model.keys[k]) for k in range(2, model.order + 1))
    if target_size < V:
        raise NextwordError(f"cannot prune to {target_size:,} n-grams: unigrams alone are {V:,}")
    if model.order < 2 or target_size >= size:
        return model
    delta = _delta_entropy(model, history)
    values = np.concatenate([d for d in delta[2:]])
    lo, hi = float(values.min()) - 1.0, float(values.max()) + 1.0
    for _ in range(60):                           # bisection on θ: size falls as θ grows
        theta = 0.5 * (lo + hi)
        kept = V + sum(int(m.sum()) for m in _keep_masks(model, delta, theta)[2:])
        if kept > target_size:
            lo = theta
        else:
            hi = theta
    keep = _keep_masks(model, delta, hi)
    pruned = prune_rows(model.keys, V, t, keep)
    logbackoff = _renormalise(model, pruned)
    tables = Tables(pruned.logprob, logbackoff, "backoff", 0.0, notes=list(t.notes),
                    details=dict(t.details))
    description = dict(model.estimator, entropy_pruned_to=int(target_size),
                       entropy_threshold=float(hi), entropy_history=history)
    return NgramModel(model.vocab, model.order, pruned.keys, tables, description)


def _renormalise(model, pruned: Tables) -> list:
    """α(h) = (1 - Σ_kept P(w|h)) / (1 - Σ_kept P(w|h')), lower orders first."""
    from nextword.ngram.model import NgramModel

    V, n = model.vocab_size, model.order
    logbackoff = [None] + [np.array(b, dtype=np.float64) for b in pruned.logbackoff[1:]]
    for k in range(2, n + 1):
        keys = pruned.keys[:k + 1]
        view = NgramModel(model.vocab, k, keys, Tables(pruned.logprob[:k + 1], logbackoff[:k],
                                                       "backoff", 0.0))
        parents = keys[k] // V
        size = len(pruned.logprob[k - 1])
        p = np.exp(np.asarray(pruned.logprob[k], dtype=np.float64))
        p_lower = np.exp(backoff_logprobs(view, k, ngram_ids(keys, V, k)))
        num = 1.0 - np.bincount(parents, weights=p, minlength=size)
        den = 1.0 - np.bincount(parents, weights=p_lower, minlength=size)
        has_words = np.bincount(parents, minlength=size) > 0
        alpha = np.maximum(num, MIN_LEFT_OVER) / np.maximum(den, MIN_LEFT_OVER)
        logbackoff[k - 1] = np.where(has_words, np.log(alpha), 0.0)   # no word left: α = 1
    return logbackoff
