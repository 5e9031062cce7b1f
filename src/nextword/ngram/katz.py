"""Katz backoff with Good–Turing discounts (Katz 1987; Chen & Goodman 1998, sec. 2.3).

Per order, counts r <= K (K = 5) are discounted by Good–Turing, larger counts are trusted:

    r*  = (r + 1) n_{r+1} / n_r
    d_r = (r*/r - (K+1) n_{K+1}/n_1) / (1 - (K+1) n_{K+1}/n_1)      1 <= r <= K,  d_r = 1 above

    P(w | h) = d_c · c(h, w) / c(h)                 if c(h, w) > 0
    P(w | h) = α(h) · P(w | h')                     otherwise
    α(h)     = (1 - Σ_{w: c(h,w)>0} P(w | h)) / (1 - Σ_{w: c(h,w)>0} P(w | h'))

so each distribution sums to 1. Unigrams: P(w) = d_c · c(w) / N + (left-over mass) / |V|, the
discounted mass spread over every token (so nothing has probability 0). When n_r = 0 or a d_r
leaves (0, 1] (tiny corpora) the order uses d_r = 1 - 0.5 / r (absolute discount 0.5) instead,
and the model's notes say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nextword.ngram.counts import NgramCounts
from nextword.ngram.tables import Tables, context_counts, unigram_counts
from nextword.ngram.interpolated import check_cutoffs, cutoff_masks, prune_rows
from nextword.text.vocabulary import BOS_ID

TINY = 1e-12


def good_turing_discounts(c: np.ndarray, K: int) -> np.ndarray | None:
    """d[r] for r = 0..K+1 (d[0] unused), or None when Good–Turing is undefined here."""
    n = np.bincount(np.minimum(c, K + 2), minlength=K + 3).astype(np.float64)
    if (n[1:K + 2] == 0).any():
        return None
    r = np.arange(1, K + 1)
    r_star = (r + 1) * n[2:K + 2] / n[1:K + 1]
    common = (K + 1) * n[K + 1] / n[1]
    if common >= 1:
        return None
    d = (r_star / r - common) / (1 - common)
    if not ((d > 0) & (d <= 1)).all():
        return None
    return np.concatenate([[1.0], d, [1.0]])


@dataclass(frozen=True)
class Katz:
    """Katz backoff with Good–Turing discounts for counts up to `K`; see the module docstring.

    >>> from nextword.ngram.model import NgramModel
    >>> lm = NgramModel.fit([["a", "b"], ["a", "b"], ["b", "a"]], order=2, estimator=Katz())
    >>> lm.prob("b", ("a",))            # Good–Turing undefined here: d_2 = 1 - 0.5/2; 0.75 · 2/3
    0.5
    """

    K: int = 5
    name: str = field(default="katz", init=False)
    normalised: ClassVar[bool] = True
    kneser_ney_like: ClassVar[bool] = False

    def params(self) -> dict:
        return {"K": self.K}

    def discounts(self, c: np.ndarray, k: int, notes: list) -> np.ndarray:
        """d_c for every count c of the order (an array like c)."""
        d = good_turing_discounts(c, self.K)
        if d is None:
            notes.append(f"Good-Turing discounts undefined for {k}-grams (a count-of-count is 0 "
                         "or a discount leaves (0, 1]; small corpus?); using d_r = 1 - 0.5/r")
            r = np.maximum(c, 1).astype(np.float64)
            return np.where(c > self.K, 1.0, 1.0 - 0.5 / r)
        return d[np.minimum(c, self.K + 1)]

    def estimate(self, counts: NgramCounts, num_outcomes: int, cutoffs=None) -> Tables:
        cutoffs = check_cutoffs(cutoffs, counts.order)
        n, V = counts.order, counts.vocab_size
        keep = cutoff_masks(counts, cutoffs)
        notes: list = []
        c_w = unigram_counts(counts)
        N = c_w.sum()
        discounted = self.discounts(c_w.astype(np.int64), 1, notes) * c_w / N
        p = [None, discounted + (1.0 - discounted.sum()) / num_outcomes]      # (V,)
        p[1][BOS_ID] = 0.0
        suffix = counts.suffix_rows()
        logbackoff: list = [None]
        for k in range(2, n + 1):
            parents, size = counts.parents(k), counts.size(k - 1)
            c_hw = counts.counts[k]
            kept = keep[k] if keep[k] is not None else np.ones(len(c_hw), dtype=bool)
            c_h = context_counts(counts, k)                                     # c(h), all counts
            p_k = self.discounts(c_hw, k, notes) * c_hw / c_h[parents]
            lower = p[k - 1][suffix[k]]                                          # P(w | h')
            stored = np.bincount(parents[kept], weights=p_k[kept], minlength=size)
            stored_lower = np.bincount(parents[kept], weights=lower[kept], minlength=size)
            alpha = (1.0 - stored) / np.maximum(1.0 - stored_lower, TINY)
            has_words = np.bincount(parents[kept], minlength=size) > 0
            logbackoff.append(np.log(np.where(has_words, np.maximum(alpha, TINY), 1.0)))
            p.append(p_k)
        with np.errstate(divide="ignore"):
            logprob = [None] + [np.log(p[k]) for k in range(1, n + 1)]
        tables = Tables(logprob, logbackoff, "backoff", 0.0, notes=notes)
        if any(m is not None for m in keep):
            tables = prune_rows(counts.keys, V, tables, keep)
        return tables
