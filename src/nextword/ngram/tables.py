"""What an estimator returns: the stored tables of an n-gram model; and the counts every
estimator starts from (c(h), c(w), N), computed one way.

Every estimator returns, per order k, ln p(w | h) for each stored k-gram and ln bo(h) for each
stored (k-1)-gram used as a context. What happens to a word *not* stored after a seen context
is the estimator's `fallback`:

    "backoff"  P(w | h) = bo(h) · P(w | h')      (ARPA, Katz, Kneser–Ney, ...)
    "uniform"  P(w | h) = bo(h) · 1/|V|          (add-δ: the unseen share is spread evenly)
               a NaN bo(h) marks a stored n-gram that was never followed by a word (c(h) = 0)

and when the context h itself was never seen, every estimator uses the next shorter context h'
(the lecture's backoff), so no probability is undefined.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nextword.ngram.counts import NgramCounts
from nextword.text.vocabulary import BOS_ID


@dataclass
class Tables:
    """What a fitted n-gram model stores (natural logs). Lists are indexed by order k."""

    logprob: list                   # logprob[k][row], k = 1..n
    logbackoff: list                # logbackoff[k][row], k = 1..n-1 (context tables)
    fallback: str = "backoff"       # see module docstring
    unseen_context_logbackoff: float = 0.0   # ln bo of a context never seen (0: plain backoff)
    keys: list | None = None        # pruned trie keys, when the estimator dropped n-grams
    notes: list = field(default_factory=list)      # what the user should know (fallbacks used)
    details: dict = field(default_factory=dict)    # facts worth saving (discounts per order)


def context_counts(counts: NgramCounts, k: int) -> np.ndarray:
    """c(h) = sum_w c(h, w): how often each row of table k-1 was followed by a word."""
    return np.bincount(counts.parents(k), weights=counts.counts[k], minlength=counts.size(k - 1))


def unigram_counts(counts: NgramCounts) -> np.ndarray:
    """c(w) as floats, with <s> set to 0: it is counted once per sentence but never predicted."""
    c_w = counts.counts[1].astype(np.float64)
    c_w[BOS_ID] = 0.0
    return c_w


def unigram_total(counts: NgramCounts) -> float:
    """N: every predicted token (words and </s>); <s> is never predicted."""
    return float(counts.counts[1].sum() - counts.counts[1][BOS_ID])
