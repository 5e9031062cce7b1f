"""The whole next-word distribution at every position of a text, for any model.

Linear interpolation needs only each component's probability of the token that came; the
log-linear one divides by Z(h) = Σ_w Π_k P_k(w | h)^λ_k, a sum over the whole vocabulary at every
position, so it needs every model's full distribution there. `sentence_distributions(model, ...)`
yields, for each sentence of m words, an (m + 1, V) array of ln P(w | history) (rows: the m words
and </s>; columns: the model's own ids), each model under its own scoring convention (n-gram: per
sentence from <s>; neural: one stream), so row t is the distribution that `sentence_logprobs`
reads the t-th score from.

    n-gram (backoff)   vectorised: unigram row, then per order + ln bo(h) and the stored (h, w)
    neural             vectorised: log softmax of all logits (nextword.combine.adapted)
    combinations       their own `sentence_distributions`
    anything else      one next_logprobs / advance per token (slow: a Python loop per token)
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from nextword.model import LanguageModel
from nextword.text.vocabulary import BOS_ID

POSITIONS_AT_ONCE = 256      # positions turned into (P, V) arrays at once (memory bound)
BATCH_TOKENS = 2048          # n-gram: tokens of sentences scored together


def sentence_distributions(model: LanguageModel, sentences: Iterable[np.ndarray],
                           keep=None) -> Iterator[np.ndarray | None]:
    """For each sentence, the (m + 1, V) array of ln P(w | history) at each predicted position.
    With `keep` (a predicate on the sentence's number), sentences it rejects yield None and
    cost only what the model's convention needs (a stream model still reads them)."""
    own = getattr(model, "sentence_distributions", None)
    if own is not None:
        return own(sentences, keep)
    from nextword.ngram.model import NgramModel

    if isinstance(model, NgramModel):
        return _ngram(model, sentences, keep)
    try:
        from nextword.neural.model import NeuralLM
    except ModuleNotFoundError:           # no torch: no neural model can have been loaded
        NeuralLM = ()
    if isinstance(model, NeuralLM):
        from nextword.combine.adapted import AdaptedLM

        return AdaptedLM(model).sentence_distributions(sentences, keep)
    return _step_by_step(model, sentences, keep)


def _kept(sentences, keep):
    """(sentence, kept?) pairs."""
    for i, ids in enumerate(sentences):
        yield ids, keep is None or keep(i)


def _step_by_step(model: LanguageModel, sentences, keep) -> Iterator[np.ndarray | None]:
    """Any model, per sentence from <s>, through the sampling calls."""
    for ids, kept in _kept(sentences, keep):
        if not kept:
            yield None
            continue
        state = model.initial_state()
        rows = []
        for token in ids:
            rows.append(model.next_logprobs(state))
            state = model.advance(state, int(token))
        rows.append(model.next_logprobs(state))
        yield np.stack(rows)


def _ngram(model, sentences, keep) -> Iterator[np.ndarray | None]:
    """Per sentence from <s>: a sentence not kept is not computed at all."""
    batch: list = []
    size = 0
    for ids, kept in _kept(sentences, keep):
        if kept:
            batch.append(ids)
            size += len(ids) + 1
        if batch and (not kept or size >= BATCH_TOKENS):
            yield from _ngram_batch(model, batch)
            batch, size = [], 0
        if not kept:
            yield None
    if batch:
        yield from _ngram_batch(model, batch)


def _ngram_batch(model, batch: list) -> Iterator[np.ndarray]:
    from nextword.ngram.counts import PaddedStream

    stream = PaddedStream.from_sentences(batch)
    m = model._match_rows(stream)
    predicted = np.ones(len(stream), dtype=bool)
    predicted[stream.starts] = False                     # <s> is never predicted
    positions = np.flatnonzero(predicted)
    parts = []
    for i in range(0, len(positions), POSITIONS_AT_ONCE):
        at = positions[i: i + POSITIONS_AT_ONCE]
        contexts = [None] + [m[j][at - 1] for j in range(1, model.order)]   # rows of h_j
        parts.append(ngram_distributions(model, contexts))
    out = np.concatenate(parts)
    yield from np.split(out, np.cumsum([len(s) + 1 for s in batch])[:-1])


def ngram_distributions(model, contexts: list) -> np.ndarray:
    """(P, V) ln P(· | h) for P contexts given as rows of their j-word suffixes (contexts[j]).

    Backoff models, built from the lowest order up:  ln P_k(w | h) = ln p(h_k, w) if stored,
    else ln bo(h_k) + ln P_{k-1}(w | h): each order adds ln bo(h_k) to the whole row and then
    overwrites the words stored after h_k (found as one key range per context: keys are sorted
    parent_row * V + w). Other fallbacks go through the model's own pairwise formula."""
    t = model.tables
    V, n = model.vocab_size, model.order
    P = len(contexts[1]) if n > 1 else 1
    if t.fallback != "backoff":
        words = np.tile(np.arange(V, dtype=np.int64), P)
        repeated = [None] + [np.repeat(c, V) for c in contexts[1:]]
        out = model._logprobs(repeated, words).reshape(P, V)
    else:
        out = np.tile(t.logprob[1], (P, 1))                                 # (P, V)
        for k in range(2, n + 1):
            rows = np.asarray(contexts[k - 1], dtype=np.int64)              # (P,) h of k-1 words
            out += model._context_logbackoff(k - 1, rows)[:, None]
            keys = model.keys[k]
            found = rows >= 0
            lo = np.searchsorted(keys, np.where(found, rows, 0) * V)
            hi = np.where(found, np.searchsorted(keys, (np.where(found, rows, 0) + 1) * V), lo)
            counts = hi - lo
            if counts.sum() == 0:
                continue
            owner = np.repeat(np.arange(P), counts)                          # position of each
            starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
            stored = starts + np.arange(counts.sum())                        # rows in table k
            out[owner, keys[stored] % V] = t.logprob[k][stored]
    out[:, BOS_ID] = -np.inf
    return out
