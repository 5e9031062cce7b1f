"""Interpolated Kneser–Ney and modified Kneser–Ney, computed the way KenLM's `lmplz` does.

Stages (as in lmplz: adjust counts, discount, interpolate):

1. Adjusted counts a(g) (Kneser & Ney 1995; Chen & Goodman 1998):
       a(g) = c(g)             for the highest order, and for n-grams that start with <s>
                               (nothing can precede <s>, so a continuation count means nothing)
       a(g) = N1+(• g)         otherwise: the number of distinct words seen just before g
   <s> as a unigram gets a = 0 (it is never predicted); so does <unk> when it was never seen.
2. Discounts per order k from the count-of-counts n_r of the adjusted counts (Chen & Goodman
   eq. 26):
       Y = n1 / (n1 + 2 n2)
       D1 = 1 - 2Y n2/n1      D2 = 2 - 3Y n3/n2      D3+ = 3 - 4Y n4/n3
   Interpolated Kneser–Ney uses one discount D = Y for every count.
3. Interpolation down to the uniform distribution (see `nextword.ngram.interpolated`):
       u(w | h) = (a(h w) - D(a(h w))) / Σ_x a(h x)
       γ(h)     = (D1 N1(h •) + D2 N2(h •) + D3+ N3+(h •)) / Σ_x a(h x)
       P(w | h) = u(w | h) + γ(h) P(w | h'),      P(w) = u(w) + γ(ε) / |V|
   N_r(h •) counts the words x with a(h x) = r (3 or more for N3+); |V| counts every unigram
   but <s>. The ARPA backoff weight of h is γ(h).

When a count-of-count is zero or a discount leaves [0, r] (tiny or artificial corpora) lmplz
stops; with `discount_fallback` the discounts (0.5, 1, 1.5) are used for that order instead,
and the model's notes say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nextword.errors import NextwordError
from nextword.ngram.counts import NgramCounts
from nextword.ngram.tables import Tables
from nextword.ngram.interpolated import check_cutoffs, cutoff_masks, interpolate
from nextword.text.vocabulary import BOS_ID

FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)      # lmplz --discount_fallback defaults


def adjusted_counts(counts: NgramCounts, suffix: list | None = None) -> list:
    """a[k][row] for every table (stage 1 of the module docstring)."""
    n, V = counts.order, counts.vocab_size
    suffix = suffix if suffix is not None else counts.suffix_rows()
    a: list = [None]
    first = np.arange(V)                                   # w1 of each k-gram, k = 1
    for k in range(1, n + 1):
        if counts.consumable:                              # read for the last time
            raw, counts.counts[k] = counts.counts[k].astype(np.int64, copy=False), None
        else:
            raw = counts.counts[k].astype(np.int64)
        if k > 1:
            first = first[counts.parents(k)]
        if k == n:
            a_k = raw if counts.consumable else raw.copy()
        else:
            continuation = np.bincount(suffix[k + 1], minlength=counts.size(k))   # N1+(• g)
            a_k = np.where(first == BOS_ID, raw, continuation)
        if k == 1:
            a_k[BOS_ID] = 0
        a.append(a_k)
    return a


def count_of_counts(a_k: np.ndarray, up_to: int = 4) -> np.ndarray:
    """n[r] = number of n-grams with adjusted count r, r = 0..up_to (n[0] unused)."""
    return np.bincount(np.minimum(a_k, up_to + 1), minlength=up_to + 2)[: up_to + 1]


def modified_discounts(n: np.ndarray, k: int) -> tuple:
    """(D1, D2, D3+) of Chen & Goodman from count-of-counts n[1..4]; NextwordError if undefined."""
    for r in (1, 2, 3):
        if n[r] == 0:
            raise NextwordError(
                f"cannot compute Kneser-Ney discounts for {k}-grams: no {k}-gram has adjusted "
                f"count {r}, so D{r + 1 if r < 3 else '3+'} is undefined (small or artificial "
                f"corpus?); rerun with --discount-fallback to use D = 0.5, 1, 1.5")
    Y = n[1] / (n[1] + 2.0 * n[2])
    D = tuple(r - (r + 1) * Y * n[r + 1] / n[r] for r in (1, 2, 3))
    for r, d in zip((1, 2, 3), D):
        if not 0 <= d <= r:
            raise NextwordError(
                f"{k}-gram discount out of range for adjusted count {r}: {d:.4f} (must lie in "
                f"[0, {r}]; small or artificial corpus?); rerun with --discount-fallback to use "
                f"D = 0.5, 1, 1.5")
    return D


def single_discount(n: np.ndarray, k: int) -> tuple:
    """D = Y = n1 / (n1 + 2 n2), the same for every count (interpolated Kneser–Ney)."""
    if n[1] == 0 or n[2] == 0:
        raise NextwordError(
            f"cannot compute the Kneser-Ney discount for {k}-grams: no {k}-gram has adjusted "
            f"count {1 if n[1] == 0 else 2} (small or artificial corpus?); rerun with "
            f"--discount-fallback to use D = 0.5")
    Y = n[1] / (n[1] + 2.0 * n[2])
    return (Y, Y, Y)


@dataclass(frozen=True)
class ModifiedKneserNey:
    """Interpolated modified Kneser–Ney (Chen & Goodman 1998), as KenLM's lmplz computes it.

    See the module docstring for the formulas. `discount_fallback` replaces undefined or out-of-
    range discounts of an order by (0.5, 1, 1.5); `discounts` fixes them by hand, one (D1, D2, D3+)
    per order.

    >>> from nextword.ngram.model import NgramModel
    >>> text = [["a", "b"], ["a", "b"], ["b", "a"]]        # too small for its own discounts
    >>> lm = NgramModel.fit(text, order=2, estimator=ModifiedKneserNey(discount_fallback=True))
    >>> round(lm.prob("b", ("a",)), 6)   # u = (2 - 1)/3, γ(a) = (0.5 + 1)/3, P(b) = 1/6 + (1/2)/4
    0.479167
    >>> lm.estimator["notes"][0][:46]
    'cannot compute Kneser-Ney discounts for 1-gram'
    """

    discount_fallback: bool = False
    discounts: tuple | None = None
    name: str = field(default="modified-kneser-ney", init=False)
    normalised: ClassVar[bool] = True
    kneser_ney_like: ClassVar[bool] = True

    def params(self) -> dict:
        out: dict = {"discount_fallback": self.discount_fallback}
        if self.discounts is not None:
            out["discounts"] = [list(d) for d in self.discounts]
        return out

    def _discounts(self, n: np.ndarray, k: int) -> tuple:
        return modified_discounts(n, k)

    def order_discounts(self, a: list) -> tuple[list, list]:
        """(D1, D2, D3+) for each order k = 1..n (index 0 unused), and the notes."""
        return self.discounts_from([None] + [count_of_counts(a_k) for a_k in a[1:]])

    def discounts_from(self, coc: list) -> tuple[list, list]:
        """`order_discounts` from the count-of-counts coc[k] = n[0..4] of each order k = 1..n
        (what a streaming build sums up without holding the adjusted counts)."""
        D: list = [None]
        notes: list = []
        for k in range(1, len(coc)):
            if self.discounts is not None:
                d = tuple(float(x) for x in self.discounts[k - 1])
                if not all(0 <= x <= r for x, r in zip(d, (1, 2, 3))):
                    raise NextwordError(f"{k}-gram discounts {d} out of range: need "
                                        "0 <= D1 <= 1, 0 <= D2 <= 2, 0 <= D3+ <= 3")
            else:
                try:
                    d = self._discounts(coc[k], k)
                except NextwordError as error:
                    if not self.discount_fallback:
                        raise
                    d = self._fallback()
                    notes.append(f"{error}".split("; rerun")[0] +
                                 f"; substituting fallback discounts {d} for {k}-grams")
            D.append(tuple(float(x) for x in d))
        return D, notes

    def _fallback(self) -> tuple:
        return FALLBACK_DISCOUNTS

    def estimate(self, counts: NgramCounts, num_outcomes: int, cutoffs=None) -> Tables:
        cutoffs = check_cutoffs(cutoffs, counts.order)
        if self.discounts is not None and len(self.discounts) != counts.order:
            raise NextwordError(f"{len(self.discounts)} discount triples given for an "
                                f"order-{counts.order} model")
        suffix = counts.suffix_rows()
        keep = cutoff_masks(counts, cutoffs)                  # before the counts are consumed
        a = adjusted_counts(counts, suffix)
        D, notes = self.order_discounts(a)
        u: list = [None]
        gamma: list = []
        for k in range(1, counts.order + 1):
            D_of = np.array((0.0,) + D[k]).take(np.minimum(a[k], 3))  # D(a): a = 0, 1, 2, 3+
            a_k = a[k].astype(np.float64)
            a[k] = None                                                # keep the peak low
            if k == 1:
                total = a_k.sum()                                      # Σ_x a(x)
                gamma.append(float(D_of.sum() / total))               # γ(ε)
                denominator = total
            else:
                parents = counts.parents(k)
                size = counts.size(k - 1)
                denominator = np.bincount(parents, weights=a_k, minlength=size)    # Σ_x a(h x)
                discounted = np.bincount(parents, weights=D_of,                    # Σ_r D_r N_r(h•)
                                         minlength=size).astype(np.float64, copy=False)  # (int if empty)
                with np.errstate(divide="ignore", invalid="ignore"):
                    discounted /= denominator                          # γ(h), in place
                discounted[~(denominator > 0)] = 0.0
                gamma.append(discounted)
                del discounted
                denominator = denominator.take(parents)
                del parents
            a_k -= D_of                                                # u = (a - D(a)) / Σ_x a(h x),
            del D_of                                                   # in place
            a_k /= denominator
            del denominator
            u.append(a_k)
        tables = interpolate(counts, u, gamma, num_outcomes, keep, suffix)
        tables.notes.extend(notes)
        tables.details["discounts"] = [list(d) for d in D[1:]]
        return tables


@dataclass(frozen=True)
class KneserNey(ModifiedKneserNey):
    """Interpolated Kneser–Ney: one discount per order, D = n1 / (n1 + 2 n2) of the adjusted
    counts (Ney, Essen & Kneser 1994), otherwise as `ModifiedKneserNey`."""

    name: str = field(default="kneser-ney", init=False)

    def _discounts(self, n: np.ndarray, k: int) -> tuple:
        return single_discount(n, k)

    def _fallback(self) -> tuple:
        return (FALLBACK_DISCOUNTS[0],) * 3
