"""Estimators turn counts into the stored tables of an n-gram model (nextword.ngram.tables):
the protocol every estimator follows, the add-δ family, and the registry of estimators by name.

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

from dataclasses import dataclass, field, fields
from typing import ClassVar, Protocol

import numpy as np

from nextword.errors import NextwordError
from nextword.ngram.counts import NgramCounts
from nextword.ngram.tables import Tables, context_counts, unigram_counts, unigram_total  # noqa: F401 (their old home)
from nextword.text.vocabulary import BOS_ID


class Estimator(Protocol):
    """What every estimator is: a frozen dataclass whose init fields are its parameters.

    name             written to model.json (the formula's name)
    normalised       False for an estimator that gives scores, not probabilities (stupid
                     backoff): evaluation then refuses to call its result a perplexity
    kneser_ney_like  its lower orders hold continuation counts, so relative-entropy pruning
                     estimates P(h) from the raw counts rather than from the model
    params()         the parameters as saved in model.json
    estimate(counts, num_outcomes, cutoffs) -> Tables
    """

    name: str
    normalised: ClassVar[bool]
    kneser_ney_like: ClassVar[bool]

    def params(self) -> dict: ...

    def estimate(self, counts: NgramCounts, num_outcomes: int, cutoffs=None) -> Tables: ...


@dataclass(frozen=True)
class AddDelta:
    """Add-δ (Lidstone) smoothing; δ = 1 is Laplace, δ = 0 is MLE.

    P(w | h) = (c(h, w) + δ) / (c(h) + δ·|V|)       for a seen context h
    P(w | h) = P(w | h')                           for a context never seen (backoff)

    |V| counts every token a model predicts (the vocabulary without <s>). In table form the
    unseen words of a seen h share bo(h) = δ|V| / (c(h) + δ|V|) uniformly.
    """

    delta: float = 0.25
    name: str = field(default="add-delta", init=False)
    normalised: ClassVar[bool] = True
    kneser_ney_like: ClassVar[bool] = False

    def __post_init__(self):
        if not (self.delta > 0 or (self.delta == 0 and type(self) is MLE)):
            raise NextwordError(f"delta must be > 0, got {self.delta} (use mle for delta = 0)")

    def params(self) -> dict:
        return {"delta": self.delta}

    def estimate(self, counts: NgramCounts, num_outcomes: int, cutoffs=None) -> Tables:
        if cutoffs is not None and any(cutoffs):
            raise NextwordError(f"count cut-offs (--prune) need a backoff estimator; {self.name} "
                                "spreads unseen mass uniformly, which pruned counts would distort")
        delta, V = self.delta, num_outcomes
        with np.errstate(divide="ignore", invalid="ignore"):
            N = unigram_total(counts)
            c_w = counts.counts[1].astype(np.float64)
            unigram = np.log((c_w + delta) / (N + delta * V))
            unigram[BOS_ID] = -np.inf                  # <s> is context only
            logprob = [None, unigram]
            logbackoff: list = [None]
            for k in range(2, counts.order + 1):
                c_h = context_counts(counts, k)                          # per row of table k-1
                c_hw = counts.counts[k]
                logprob.append(np.log((c_hw + delta) / (c_h[counts.parents(k)] + delta * V)))
                # NaN marks a row never followed by a word: not a context, so back off past it
                logbackoff.append(np.where(c_h > 0, np.log(delta * V / (c_h + delta * V)), np.nan))
        return Tables(logprob, logbackoff, "uniform", 0.0)


@dataclass(frozen=True)
class MLE(AddDelta):
    """Maximum likelihood: P(w | h) = c(h, w) / c(h); zero for a word never seen after h.

    A context never seen backs off to the next shorter one, as for add-δ.
    """

    delta: float = field(default=0.0, init=False)
    name: str = field(default="mle", init=False)

    def params(self) -> dict:
        return {}


@dataclass(frozen=True)
class Laplace(AddDelta):
    """Laplace smoothing: add-δ with δ = 1 (saved as add-delta, delta 1)."""

    delta: float = field(default=1.0, init=False)


# The estimators: CLI name -> "module:Class", imported when chosen. A new estimator is one file
# (a frozen dataclass with `name`, its parameters as fields, `params()` and `estimate()`) plus
# one line here; see docs/extending.md.
ESTIMATORS: dict[str, str | type] = {
    "mle": "nextword.ngram.estimators:MLE",
    "add-delta": "nextword.ngram.estimators:AddDelta",
    "laplace": "nextword.ngram.estimators:Laplace",
    "kneser-ney": "nextword.ngram.kneser_ney:KneserNey",
    "modified-kneser-ney": "nextword.ngram.kneser_ney:ModifiedKneserNey",
    "katz": "nextword.ngram.katz:Katz",
    "witten-bell": "nextword.ngram.witten_bell:WittenBell",
    "absolute": "nextword.ngram.absolute:AbsoluteDiscounting",
    "stupid-backoff": "nextword.ngram.stupid_backoff:StupidBackoff",
}


def estimator_class(name: str) -> type:
    if name not in ESTIMATORS:
        raise NextwordError(f"unknown smoothing {name!r}; choose one of {', '.join(ESTIMATORS)}")
    return _class_of(ESTIMATORS[name])


def _class_of(target) -> type:
    from nextword.model import resolve

    return resolve(target) if isinstance(target, str) else target


def estimator_parameters(name: str) -> tuple[str, ...]:
    """The parameters an estimator takes: its dataclass fields set at construction."""
    return tuple(f.name for f in fields(estimator_class(name)) if f.init)


def register_estimator(name: str, target) -> None:
    """Add an estimator under its CLI name: `register_estimator("jelinek-mercer",
    "pkg.module:JelinekMercer")` (imported when chosen), or the class itself."""
    ESTIMATORS[name] = target


def estimator_traits(name: str | None) -> tuple[bool, bool]:
    """(normalised, kneser_ney_like) of the estimator a model.json names; an estimator not
    registered here (a model read from an ARPA file) is a normalised, plain backoff one."""
    for target in ESTIMATORS.values():
        cls = _class_of(target)
        if getattr(cls, "name", None) is not None and _saved_name(cls) == name:
            return cls.normalised, cls.kneser_ney_like
    return True, False


def _saved_name(cls) -> str | None:
    return next((f.default for f in fields(cls) if f.name == "name"), None)


def make_estimator(name: str, **params):
    """An estimator by its CLI name; parameters it does not take are ignored (the CLI refuses
    them before calling this)."""
    cls = estimator_class(name)
    taken = estimator_parameters(name)
    return cls(**{k: v for k, v in params.items() if k in taken and v is not None})
