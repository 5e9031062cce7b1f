"""Interpolating models: linear (weights fitted by EM) and log-linear (weights by Newton steps).

    linear       P(w | h) = Σ_k λ_k P_k(w | h),            λ_k >= 0, Σ_k λ_k = 1
    log-linear   P(w | h) = Π_k P_k(w | h)^λ_k / Z(h),     Z(h) = Σ_w Π_k P_k(w | h)^λ_k

Each component scores the text under its own convention (an n-gram model per sentence from
<s>, a neural model as one stream with its state carried across lines); every convention predicts
each word and one </s> per line, so the k-th score of a sentence is the same token for all
components, and the mixture combines them position by position (a sentence whose score counts
differ is an error, never silently misaligned).

Fitting works on the (N, K) matrix of ln P_k(x_t | h_t) of the validation tokens, computed once.
EM is SRILM's compute-best-mix: the posterior of component k at token t is
r_tk = λ_k P_k(x_t) / Σ_j λ_j P_j(x_t), and λ_k <- mean_t r_tk; each iteration cannot lower
the likelihood, and it stops when validation perplexity stops improving.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import tee
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from nextword.errors import NextwordError
from nextword.evaluate import exp_or_inf
from nextword.model import LanguageModel
from nextword.combine.vocabmap import id_map
from nextword.text.vocabulary import BOS_ID, EOS_ID

COMBINATIONS = ("linear", "log-linear")


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(a - top), axis=axis)) + np.squeeze(top, axis=axis)


def _log(weights) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(weights, dtype=np.float64))


def perplexity(logprobs: np.ndarray) -> float:
    """exp of the mean negative ln P; inf, not an OverflowError, for a diverged reading (a
    dynamic-evaluation learning rate too large, tried while tuning)."""
    return exp_or_inf(-float(np.mean(logprobs))) if len(logprobs) else math.nan


# ---- linear interpolation: EM -----------------------------------------------------------------
@dataclass
class Iteration:
    weights: list
    perplexity: float


def linear_logprobs(logprobs: np.ndarray, weights) -> np.ndarray:
    """ln Σ_k λ_k P_k for an (..., K) array of ln P_k."""
    return _logsumexp(logprobs + _log(weights), axis=-1)


def fit_linear(logprobs: np.ndarray, weights=None, tolerance: float = 1e-6,
               max_iterations: int = 500, report: Callable[[int, Iteration], None] | None = None
               ) -> list[Iteration]:
    """EM for the weights of a linear interpolation, on the (N, K) array of ln P_k(x_t | h_t).

    Starts from `weights` (default uniform). Stops when an iteration improves the perplexity by
    less than `tolerance` (relative); returns the history, the last entry the fitted weights.
    Tokens no component can predict (all ln P = -inf) are left out, as SRILM does."""
    logprobs = np.asarray(logprobs, dtype=np.float64)
    if logprobs.ndim != 2 or logprobs.shape[0] == 0:
        raise NextwordError("EM needs a non-empty (tokens, components) array of log-probabilities")
    logprobs = logprobs[np.isfinite(logprobs).any(axis=1)]
    K = logprobs.shape[1]
    lam = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=np.float64)
    history: list[Iteration] = []
    for iteration in range(max_iterations + 1):
        joint = logprobs + _log(lam)                                  # (N, K) ln λ_k P_k
        mixed = _logsumexp(joint, axis=1)                             # (N,)  ln Σ_j λ_j P_j
        history.append(Iteration(lam.tolist(), perplexity(mixed)))
        if report is not None:
            report(iteration, history[-1])
        if len(history) > 1 and history[-2].perplexity - history[-1].perplexity <= \
                tolerance * history[-1].perplexity:
            break
        if iteration == max_iterations:
            break
        lam = np.exp(joint - mixed[:, None]).mean(axis=0)             # λ_k <- mean_t r_tk
        lam /= lam.sum()                                              # rounding only
    return history


# ---- log-linear interpolation: Newton steps on a sample of positions -------------------------
def loglinear_logprobs(distributions: np.ndarray, weights, targets: np.ndarray) -> np.ndarray:
    """ln P(x_t | h_t) of a log-linear mixture from (P, V, K) component distributions."""
    scores = _weighted(distributions, weights)                        # (P, V)
    return scores[np.arange(len(targets)), targets] - _logsumexp(scores, axis=1)


def _weighted(distributions: np.ndarray, weights) -> np.ndarray:
    """Σ_k λ_k ln P_k(w | h), taking 0 · (-inf) as 0 (a weight of 0 ignores that component)."""
    out = np.zeros(distributions.shape[:-1])
    for k, lam in enumerate(weights):
        if lam != 0:
            out += lam * distributions[..., k]
    return out


def fit_loglinear(distributions: np.ndarray, targets: np.ndarray, weights=None,
                  steps: int = 10, tolerance: float = 1e-6,
                  report: Callable[[int, Iteration], None] | None = None) -> list[Iteration]:
    """Weights maximising Σ_t ln P(x_t | h_t) of the log-linear mixture, on (P, V, K) component
    distributions at P positions (<s> excluded) and their targets.

    The log-likelihood is concave in λ: gradient g_k = mean_t (ln P_k(x_t) - E_P[ln P_k]) and
    Hessian -mean_t Cov_P[ln P_k, ln P_j]; Newton steps, halved until the likelihood improves."""
    D = np.asarray(distributions, dtype=np.float64)
    if not np.isfinite(D).all():
        raise NextwordError("log-linear interpolation needs every component to give every word "
                            "some probability (a component gives some word probability 0)")
    P, V, K = D.shape
    rows = np.arange(P)
    at_target = D[rows, targets]                                      # (P, K)
    lam = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=np.float64)

    def objective(lam):
        scores = D @ lam                                               # (P, V)
        log_z = _logsumexp(scores, axis=1)
        return float(np.mean(at_target @ lam - log_z)), np.exp(scores - log_z[:, None])

    value, p = objective(lam)
    history = [Iteration(lam.tolist(), math.exp(-value))]
    if report is not None:
        report(0, history[-1])
    for step in range(1, steps + 1):
        mean = np.einsum("pv,pvk->pk", p, D)                           # E_P[ln P_k], (P, K)
        gradient = (at_target - mean).mean(axis=0)                     # (K,)
        second = np.einsum("pv,pvk,pvj->kj", p, D, D) / P              # E[ln P_k ln P_j]
        hessian = -(second - mean.T @ mean / P)                        # -mean Cov, (K, K)
        direction = -np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        size = 1.0
        while True:
            candidate = lam + size * direction
            new_value, new_p = objective(candidate)
            if new_value >= value or size < 1e-4:
                break
            size /= 2
        if new_value < value:
            break
        improvement = new_value - value
        lam, value, p = candidate, new_value, new_p
        history.append(Iteration(lam.tolist(), math.exp(-value)))
        if report is not None:
            report(step, history[-1])
        if improvement <= tolerance:
            break
    return history


def _mapped(sentences, ids: np.ndarray) -> Iterator[np.ndarray]:
    """The sentences in a component's ids."""
    for s in sentences:
        yield ids[np.asarray(s, dtype=np.int64)]


# ---- the mixture as a LanguageModel -----------------------------------------------------------
class Mixture(LanguageModel):
    """Components (any LanguageModel, same words) combined with `weights`, linearly or
    log-linearly. The state for sampling is the tuple of the components' states."""

    def __init__(self, components: Sequence[LanguageModel], weights, combination: str = "linear",
                 names: Sequence[str] | None = None, paths: Sequence[str] | None = None,
                 fit: dict | None = None):
        if combination not in COMBINATIONS:
            raise NextwordError(f"unknown combination {combination!r}; choose linear or log-linear")
        if not components:
            raise NextwordError("a mixture needs at least one model")
        weights = [float(w) for w in weights]
        if len(weights) != len(components):
            raise NextwordError(f"{len(weights)} weights for {len(components)} models")
        if combination == "linear":
            if any(w < 0 for w in weights) or not math.isclose(sum(weights), 1.0, abs_tol=1e-6):
                raise NextwordError(f"linear weights must be >= 0 and sum to 1, got "
                                    f"{', '.join(map(str, weights))}")
        names = list(names) if names is not None else [f"model {k + 1}" for k in range(len(components))]
        self.components = list(components)
        self.weights = weights
        self.combination = combination
        self.names = names
        self.paths = list(paths) if paths is not None else None
        self.fit = fit or {}
        self.vocab = components[0].vocab
        # to_component[k][i]: the id in component k of word i of the mixture's vocabulary
        self.to_component = [id_map(self.vocab, c.vocab, (names[0], names[k]))
                             for k, c in enumerate(components)]
        self.normalised = all(c.normalised for c in components)

    @property
    def per_sentence(self) -> bool:
        return any(getattr(c, "per_sentence", False) for c in self.components)

    @per_sentence.setter
    def per_sentence(self, value: bool) -> None:       # `eval --per-sentence` reaches the parts
        for c in self.components:
            if hasattr(c, "per_sentence"):
                c.per_sentence = value

    # ---- scoring ----------------------------------------------------------------------------
    def component_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """For each sentence, the (m + 1, K) array of ln P_k of each token, in lockstep."""
        yield from self._aligned(sentences, lambda c, s: c.sentence_logprobs(s), None)

    def component_distributions(self, sentences: Iterable[np.ndarray], keep=None) -> Iterator:
        """For each sentence, the (m + 1, V, K) array of every component's distributions,
        columns in the mixture's word order (None for a sentence `keep` rejects)."""
        from nextword.combine.distributions import sentence_distributions

        yield from self._aligned(sentences, lambda c, s: sentence_distributions(c, s, keep),
                                 self.to_component)

    def _aligned(self, sentences, score, columns) -> Iterator[np.ndarray]:
        copies = tee(sentences, len(self.components))        # each component reads its own copy
        outputs = [score(c, _mapped(copy, ids))
                   for c, ids, copy in zip(self.components, self.to_component, copies)]
        done = object()
        while True:
            parts = [next(out, done) for out in outputs]
            if all(p is done for p in parts):
                return
            if all(p is None for p in parts):            # a sentence nobody was asked for
                yield None
                continue
            if any(p is done for p in parts) or len({len(p) for p in parts}) != 1:
                raise NextwordError(
                    "the models scored different numbers of tokens for one sentence: "
                    + ", ".join(f"{n}: {'none' if p is done else len(p)}"
                                for n, p in zip(self.names, parts)))
            if columns is not None:
                parts = [p[:, ids] for p, ids in zip(parts, columns)]
            yield np.stack(parts, axis=-1)

    def sentence_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        if self.combination == "linear":
            for logprobs in self.component_logprobs(sentences):
                yield linear_logprobs(logprobs, self.weights)
            return
        copies = tee(sentences, 2)
        for ids, dists in zip(copies[0], self.component_distributions(copies[1])):
            targets = np.append(np.asarray(ids, dtype=np.int64), EOS_ID)     # words and </s>
            yield loglinear_logprobs(dists, self.weights, targets)

    def sentence_distributions(self, sentences: Iterable[np.ndarray], keep=None) -> Iterator:
        for dists in self.component_distributions(sentences, keep):
            yield None if dists is None else self._combine(dists)

    def _combine(self, dists: np.ndarray) -> np.ndarray:
        """(..., V, K) component ln P -> (..., V) mixture ln P."""
        if self.combination == "linear":
            return linear_logprobs(dists, self.weights)
        scores = _weighted(dists, self.weights)
        scores[..., BOS_ID] = -np.inf
        return scores - _logsumexp(scores, axis=-1)[..., None]

    def _combine_rows(self, parts: list) -> np.ndarray:
        """`_combine` of the components' ln P given as one (B, V) array each (theirs to
        overwrite): for a linear mixture `linear_logprobs`' operations element by element (the
        largest, the exponentials and their sum in the components' order), so the same numbers
        for fewer than eight components (NumPy sums eight or more pairwise), in place. For 256
        rows of 10,000 words: 19 ms, against 59 for `_logsumexp` over a leading axis of K and 207
        over the last one (the reductions along K took half of a batch's time)."""
        if self.combination != "linear":
            return self._combine(np.stack(parts, axis=-1))
        for part, w in zip(parts, _log(self.weights)):
            part += w
        top = parts[0].copy()
        for part in parts[1:]:
            np.maximum(top, part, out=top)
        top[~np.isfinite(top)] = 0.0
        for part in parts:
            part -= top
            np.exp(part, out=part)
        total = parts[0]
        for part in parts[1:]:
            total += part
        with np.errstate(divide="ignore"):
            np.log(total, out=total)
        total += top
        return total

    # ---- sampling ---------------------------------------------------------------------------
    def initial_state(self):
        return tuple(c.initial_state() for c in self.components)

    def advance(self, state, token: int):
        return tuple(c.advance(s, int(ids[token]))
                     for c, s, ids in zip(self.components, state, self.to_component))

    def next_logprobs(self, state) -> np.ndarray:
        dists = np.stack([c.next_logprobs(s)[ids]
                          for c, s, ids in zip(self.components, state, self.to_component)], axis=-1)
        out = self._combine(dists)
        out[BOS_ID] = -np.inf
        return out

    def batch_sampler(self, config):
        """Many sentences side by side when every component can step a batch (n-gram models,
        networks, the NumPy RNN, mixtures of them): each step takes the components' (B, V)
        distributions in the mixture's word order and combines them as `next_logprobs` does;
        None when one cannot (its sentences are then drawn one at a time)."""
        from nextword.generate import BatchedSampler, batch_steps

        parts = [batch_steps(c, config) for c in self.components]
        if any(part is None for part in parts):
            return None
        ids = self.to_component

        def logprobs(states):
            out = self._combine_rows([part[2](state)[:, to]
                                      for part, state, to in zip(parts, states, ids)])
            out[:, BOS_ID] = -np.inf
            return out

        return BatchedSampler(
            lambda size: [part[0](size) for part in parts],
            lambda states, tokens: [part[1](state, to[tokens])
                                    for part, state, to in zip(parts, states, ids)],
            logprobs, config,
            lambda states, rows: [part[3](state, rows) for part, state in zip(parts, states)])

    # ---- storage ----------------------------------------------------------------------------
    def describe(self) -> dict:
        return {"type": "mixture", "combination": self.combination, "vocabulary": len(self.vocab),
                "components": [{"model": n, "weight": w, **c.describe()}
                               for n, w, c in zip(self.names, self.weights, self.components)],
                **({"fit": self.fit} if self.fit else {})}

    def save(self, directory, force: bool = False) -> None:
        from nextword.combine.storage import save_mixture

        save_mixture(self, directory, force)

    @classmethod
    def load(cls, directory, meta: dict) -> "Mixture":
        from nextword.combine.storage import load_mixture

        return load_mixture(directory, meta)
