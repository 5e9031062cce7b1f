"""The recursion every interpolated estimator shares, written once (as NLTK `lm` does).

An interpolated estimator supplies, per order k, the discounted part u(w | h) of each stored
k-gram and the interpolation weight γ(h) of each context; the recursion is then

    P(w | h) = u(w | h) + γ(h) · P(w | h')        h' = h without its oldest word
    P(w)     = u(w)     + γ(ε) / |V|               the unigram level meets the uniform distribution

Stored as an ARPA-style backoff table: logprob = ln P(w | h) of each stored k-gram and
logbackoff = ln γ(h); a word not stored after h gets γ(h) · P(w | h') at query time, which is
the same number. Contexts that are never followed by a word (n-grams ending in </s>) get
γ = 1 (ln 0), as in KenLM.

Count cut-offs (KenLM's `--prune`): a pruned k-gram leaves the table and its share u moves to
γ(h), so every distribution still sums to 1 (Σ_kept u + γ' = Σ_all u + γ = 1).
"""
from __future__ import annotations

import numpy as np

from nextword.errors import NextwordError
from nextword.ngram.counts import NgramCounts
from nextword.ngram.tables import Tables
from nextword.text.vocabulary import BOS_ID


def check_cutoffs(cutoffs, order: int) -> tuple:
    """KenLM's rules: one threshold per order, unigrams never pruned, never decreasing."""
    if cutoffs is None:
        return (0,) * order
    cutoffs = tuple(int(c) for c in cutoffs)
    if any(c < 0 for c in cutoffs):
        raise NextwordError(f"prune thresholds must be >= 0, got {' '.join(map(str, cutoffs))}")
    if len(cutoffs) > order:
        raise NextwordError(f"{len(cutoffs)} prune thresholds given for an order-{order} model")
    cutoffs = cutoffs + (cutoffs[-1] if cutoffs else 0,) * (order - len(cutoffs))
    if cutoffs[0] != 0:
        raise NextwordError("unigrams cannot be pruned: the first prune threshold must be 0")
    if any(a > b for a, b in zip(cutoffs, cutoffs[1:])):
        raise NextwordError("prune thresholds must not decrease with the order (a pruned "
                            "n-gram's extensions must go too), got " + " ".join(map(str, cutoffs)))
    return cutoffs


def cutoff_masks(counts: NgramCounts, cutoffs: tuple) -> list:
    """keep[k][row]: raw count above the order's threshold (None: keep all)."""
    keep: list = [None, None]
    for k in range(2, counts.order + 1):
        keep.append(counts.counts[k] > cutoffs[k - 1] if cutoffs[k - 1] > 0 else None)
    return keep


def interpolate(counts: NgramCounts, u: list, gamma: list, num_outcomes: int,
                keep: list | None = None, suffix: list | None = None) -> Tables:
    """Tables of P(w | h) = u(w | h) + γ(h) P(w | h') for u[k][row], γ[0] (a float) and
    γ[k][context row of table k]; `keep` (cut-offs) drops rows and moves their u into γ.

    The arrays of `u` and `gamma` are consumed: each becomes a table in place (P(w | h), then its
    log; γ, then its log), so the estimate needs no second copy of the model."""
    n, V = counts.order, counts.vocab_size
    keep = keep or [None] * (n + 1)
    gamma = list(gamma)
    for k in range(2, n + 1):
        if keep[k] is not None:                  # pruned share joins the interpolation weight
            gone = ~keep[k]
            gamma[k - 1] = gamma[k - 1] + np.bincount(counts.parents(k)[gone], weights=u[k][gone],
                                                      minlength=counts.size(k - 1))
    suffix = suffix if suffix is not None else counts.suffix_rows()
    p = u[1] + gamma[0] / num_outcomes                               # (V,)
    p[BOS_ID] = 0.0                                                  # <s> is context only
    logprob: list = [None, p]
    with np.errstate(divide="ignore"):
        for k in range(2, n + 1):                                    # (N_k,); u[k] is consumed
            p_lower, p = p, u[k]
            u[k] = None
            for rows in _blocks(len(p)):           # γ(h) · P(w | h'), a block of rows at a time
                weight = gamma[k - 1].take(counts.keys[k][rows] // V)
                weight *= p_lower.take(suffix[k][rows])
                p[rows] += weight
            np.log(p_lower, out=p_lower)                             # order k-1 is done
            logprob.append(p)
        np.log(p, out=p)
        logbackoff = [None] + [log_gamma(gamma[k], in_place=True) for k in range(1, n)]
    tables = Tables(logprob, logbackoff, "backoff", 0.0)
    if any(m is not None for m in keep):
        tables = prune_rows(counts.keys, V, tables, keep)
    return tables


def log_gamma(gamma: np.ndarray, in_place: bool = False) -> np.ndarray:
    """ln γ(h), the ARPA backoff; 0 (γ = 1) where γ is not positive: a context never followed
    by a word, as in KenLM. `in_place` overwrites `gamma` with the result."""
    g = gamma if in_place else np.array(gamma, dtype=np.float64)
    g[~(g > 0)] = 1.0
    return np.log(g, out=g)


BLOCK_ROWS = 1 << 18        # rows whose temporaries (a few MB) exist at once


def _blocks(size: int):
    """Slices of at most BLOCK_ROWS rows covering range(size)."""
    return (slice(start, start + BLOCK_ROWS) for start in range(0, size, BLOCK_ROWS))


def prune_rows(keys: list, vocab_size: int, tables: Tables, keep: list) -> Tables:
    """Drop rows of tables 2..n; parents in the next table are renumbered (order preserved)."""
    n = len(keys) - 1
    new_keys: list = [None, None]
    logprob, logbackoff = list(tables.logprob), list(tables.logbackoff)
    new_row_of = None                      # old row of table k-1 -> new row
    for k in range(2, n + 1):
        mask = keep[k] if keep[k] is not None else np.ones(len(keys[k]), dtype=bool)
        parents, words = keys[k] // vocab_size, keys[k] % vocab_size
        if new_row_of is not None:
            if (new_row_of[parents[mask]] < 0).any():
                raise NextwordError("pruning removed the context of a kept n-gram")
            parents = new_row_of[parents]
        new_keys.append(parents[mask] * vocab_size + words[mask])
        logprob[k] = tables.logprob[k][mask]
        if k < n:
            logbackoff[k] = tables.logbackoff[k][mask]
        new_row_of = np.full(len(mask), -1, dtype=np.int64)
        new_row_of[mask] = np.arange(int(mask.sum()))
    return Tables(logprob, logbackoff, tables.fallback, tables.unseen_context_logbackoff,
                  new_keys, tables.notes, tables.details)
