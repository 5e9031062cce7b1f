"""Interpolated absolute discounting (Ney, Essen & Kneser 1994): one discount D per order.

    u(w | h) = max(c(h, w) - D, 0) / c(h)
    γ(h)     = D · N1+(h •) / c(h)
    P(w | h) = u(w | h) + γ(h) P(w | h'),     P(w) = u(w) + γ(ε) / |V|
    D        = n1 / (n1 + 2 n2)            (from the raw count-of-counts of the order)

Unlike Kneser–Ney, the lower orders use raw counts, not continuation counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nextword.errors import NextwordError
from nextword.ngram.counts import NgramCounts
from nextword.ngram.tables import Tables, context_counts, unigram_counts
from nextword.ngram.interpolated import check_cutoffs, cutoff_masks, interpolate


@dataclass(frozen=True)
class AbsoluteDiscounting:
    """Interpolated absolute discounting; `discount` fixes D for every order (else estimated).

    >>> from nextword.ngram.model import NgramModel
    >>> text = [["a", "b"], ["a", "b"], ["b", "a"]]
    >>> lm = NgramModel.fit(text, order=2, estimator=AbsoluteDiscounting(0.5))
    >>> round(lm.prob("b", ("a",)), 6)      # 1.5/3 + (0.5 · 2/3) · 11.5/36
    0.606481
    """

    discount: float | None = None
    name: str = field(default="absolute", init=False)
    normalised: ClassVar[bool] = True
    kneser_ney_like: ClassVar[bool] = False

    def __post_init__(self):
        if self.discount is not None and not 0 < self.discount < 1:
            raise NextwordError(f"the absolute discount must lie in (0, 1), got {self.discount}")

    def params(self) -> dict:
        return {} if self.discount is None else {"discount": self.discount}

    def order_discount(self, c: np.ndarray, k: int) -> float:
        if self.discount is not None:
            return self.discount
        n = np.bincount(np.minimum(c, 3), minlength=4)
        if n[1] == 0 or n[2] == 0:
            raise NextwordError(
                f"cannot estimate the absolute discount of {k}-grams: no {k}-gram occurs "
                f"{1 if n[1] == 0 else 2} time(s) (small corpus?); give the discount "
                "explicitly (--discount)")
        return float(n[1] / (n[1] + 2.0 * n[2]))

    def estimate(self, counts: NgramCounts, num_outcomes: int, cutoffs=None) -> Tables:
        cutoffs = check_cutoffs(cutoffs, counts.order)
        c_w = unigram_counts(counts)                                   # (V,), <s> = 0
        D = self.order_discount(c_w.astype(np.int64), 1)
        N = c_w.sum()
        u = [None, np.maximum(c_w - D, 0.0) / N]
        gamma: list = [D * float((c_w > 0).sum()) / N]
        discounts = [D]
        for k in range(2, counts.order + 1):
            parents, size = counts.parents(k), counts.size(k - 1)
            D = self.order_discount(counts.counts[k], k)
            discounts.append(D)
            c_hw = counts.counts[k].astype(np.float64)
            c_h = context_counts(counts, k)                                    # c(h)
            n1plus_h = np.bincount(parents, minlength=size)                    # N1+(h •)
            with np.errstate(divide="ignore", invalid="ignore"):
                gamma.append(np.where(c_h > 0, D * n1plus_h / c_h, 0.0))
            u.append((c_hw - D) / c_h[parents])
        tables = interpolate(counts, u, gamma, num_outcomes, cutoff_masks(counts, cutoffs))
        tables.details["discounts"] = discounts
        return tables
