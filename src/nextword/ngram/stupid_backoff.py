"""Stupid backoff (Brants, Popat, Xu, Och & Dean 2007): scores, not probabilities.

    S(w | h) = c(h, w) / c(h)          if c(h, w) > 0
    S(w | h) = α · S(w | h')           otherwise (α = 0.4 in the paper), also for a context
                                        never seen
    S(w)     = c(w) / N

The scores of a context do not sum to 1, so a "perplexity" from them is not one: evaluation
refuses it unless asked for the unnormalised figure (`nextword eval --unnormalised`). ARPA
cannot express it either (readers use backoff 1 for a context never seen).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nextword.errors import NextwordError
from nextword.ngram.counts import NgramCounts
from nextword.ngram.tables import Tables, context_counts, unigram_counts
from nextword.ngram.interpolated import check_cutoffs, cutoff_masks, prune_rows


@dataclass(frozen=True)
class StupidBackoff:
    """Brants et al.'s stupid backoff with factor `alpha`; see the module docstring.

    >>> from nextword.ngram.model import NgramModel
    >>> lm = NgramModel.fit([["a", "b"], ["a", "b"], ["b", "a"]], order=2, estimator=StupidBackoff())
    >>> round(lm.prob("</s>", ("<s>",)), 6)       # never after <s>: 0.4 · c(</s>)/N = 0.4 · 3/9
    0.133333
    >>> lm.normalised
    False
    """

    alpha: float = 0.4
    name: str = field(default="stupid-backoff", init=False)
    normalised: ClassVar[bool] = False
    kneser_ney_like: ClassVar[bool] = False

    def __post_init__(self):
        if not 0 < self.alpha <= 1:
            raise NextwordError(f"the stupid-backoff factor must lie in (0, 1], got {self.alpha}")

    def params(self) -> dict:
        return {"alpha": self.alpha}

    def estimate(self, counts: NgramCounts, num_outcomes: int, cutoffs=None) -> Tables:
        cutoffs = check_cutoffs(cutoffs, counts.order)
        c_w = unigram_counts(counts)
        with np.errstate(divide="ignore"):
            logprob = [None, np.log(c_w / c_w.sum())]                 # ln S(w); -inf if unseen
            for k in range(2, counts.order + 1):
                parents = counts.parents(k)
                c_h = context_counts(counts, k)                                  # c(h)
                logprob.append(np.log(counts.counts[k] / c_h[parents]))
        log_alpha = math.log(self.alpha)
        logbackoff = [None] + [np.full(counts.size(k), log_alpha) for k in range(1, counts.order)]
        tables = Tables(logprob, logbackoff, "backoff", log_alpha)
        keep = cutoff_masks(counts, cutoffs)
        if any(m is not None for m in keep):
            tables = prune_rows(counts.keys, counts.vocab_size, tables, keep)
        return tables
