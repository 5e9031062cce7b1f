"""Interpolated Witten–Bell smoothing (Witten & Bell 1991; Chen & Goodman 1998, sec. 2.4).

The more distinct words follow a context, the more likely a new one is:

    γ(h)     = N1+(h •) / (c(h) + N1+(h •))
    u(w | h) = c(h, w)  / (c(h) + N1+(h •))
    P(w | h) = u(w | h) + γ(h) P(w | h'),     P(w) = u(w) + γ(ε) / |V|

with raw counts at every order; c(h) = Σ_x c(h x), N1+(h •) = #{x : c(h x) > 0}, and at the
unigram level c(ε) = N (all predicted tokens), N1+(•) = the distinct tokens seen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nextword.ngram.counts import NgramCounts
from nextword.ngram.tables import Tables, context_counts, unigram_counts
from nextword.ngram.interpolated import check_cutoffs, cutoff_masks, interpolate


@dataclass(frozen=True)
class WittenBell:
    """Interpolated Witten–Bell; see the module docstring for the formula.

    >>> from nextword.ngram.model import NgramModel
    >>> lm = NgramModel.fit([["a", "b"], ["a", "b"], ["b", "a"]], order=2, estimator=WittenBell())
    >>> lm.prob("b", ("a",))     # c(a b) = 2, c(a) = 3, N1+(a •) = 2: 2/5 + 2/5 · P(b) = 5/16
    0.525
    """

    name: str = field(default="witten-bell", init=False)
    normalised: ClassVar[bool] = True
    kneser_ney_like: ClassVar[bool] = False

    def params(self) -> dict:
        return {}

    def estimate(self, counts: NgramCounts, num_outcomes: int, cutoffs=None) -> Tables:
        cutoffs = check_cutoffs(cutoffs, counts.order)
        c_w = unigram_counts(counts)                                   # (V,), <s> = 0
        N, n1plus = c_w.sum(), float((c_w > 0).sum())
        u = [None, c_w / (N + n1plus)]
        gamma: list = [n1plus / (N + n1plus)]
        for k in range(2, counts.order + 1):
            parents, size = counts.parents(k), counts.size(k - 1)
            c_hw = counts.counts[k].astype(np.float64)
            c_h = context_counts(counts, k)                                    # c(h)
            n1plus_h = np.bincount(parents, minlength=size).astype(np.float64)  # N1+(h •)
            with np.errstate(divide="ignore", invalid="ignore"):
                gamma.append(np.where(c_h > 0, n1plus_h / (c_h + n1plus_h), 0.0))
            u.append(c_hw / (c_h + n1plus_h)[parents])
        return interpolate(counts, u, gamma, num_outcomes, cutoff_masks(counts, cutoffs))
