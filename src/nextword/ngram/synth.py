"""Synthetic corpora: sentences sampled from a saved backoff n-gram model, many at once.

A corpus of realistic n-gram statistics at any size, without downloads (the 10 M and 100 M-token
corpora of docs/scale.md). `B` sentences are drawn side by side; each step draws the next word
of every unfinished sentence with vectorised NumPy, exactly from the model's distribution

    P(w | h) = p(h w)                      if h w is stored
             = bo(h) · P(w | h')           otherwise

by the *backoff decomposition*: with probability m(h) = Σ_{w stored after h} p(h w) draw among
the stored successors of h (one searchsorted in the cumulative probabilities of table |h|+1,
whose successors of h are one contiguous slice); otherwise draw w from P(· | h') (recursively)
and reject it while h w is stored (its mass was already offered): the accepted w follows
bo(h) P(w | h') / (1 - m(h)), the exact conditional. Backing off to the unigrams, each round draws
TRIES candidates per waiting stream and keeps the first accepted one (the same law: they are
i.i.d.), so the many rounds after a context with many successors are few. The same seed and batch give the same text.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import atomic_path
from nextword.ngram.counts import NOT_FOUND, lookup
from nextword.text.vocabulary import BOS_ID, EOS_ID

MAX_WORDS = 1000            # a sentence longer than this is cut (a model that rarely ends one)
TRIES = 8                   # backed-off candidates drawn per stream and round of rejection


class BackoffSampler:
    def __init__(self, model):
        if getattr(model, "tables", None) is None or model.tables.fallback != "backoff" \
                or model.tables.unseen_context_logbackoff != 0.0:
            raise NextwordError("synth samples backoff n-gram models (Kneser-Ney, Katz, ARPA files)")
        self.model, self.n, self.V = model, model.order, model.vocab_size
        t = model.tables
        p1 = np.exp(np.asarray(t.logprob[1], dtype=np.float64))
        p1[BOS_ID] = 0.0
        self.unigram_cdf = np.cumsum(p1)
        # cumulative probabilities of each table k >= 2, with a leading 0: a context's stored
        # successors are the slice [lo, hi) and their mass cdf[hi] - cdf[lo]
        self.cdf = [None, None] + [np.concatenate([[0.0], np.cumsum(np.exp(np.asarray(t.logprob[k])))])
                                   for k in range(2, self.n + 1)]
        self.keys = model.keys

    def _unigram(self, rng, count: int) -> np.ndarray:
        u = rng.random(count) * self.unigram_cdf[-1]
        return np.minimum(np.searchsorted(self.unigram_cdf, u, side="right"), self.V - 1)

    def draw(self, rng, rows: list, j: int) -> np.ndarray:
        """Words drawn from P(· | h_j) for each stream; rows[i][s] = row of stream s's i-word
        context (NOT_FOUND when not stored or reaching before <s>)."""
        count = len(rows[0])
        if j == 0:
            return self._unigram(rng, count)
        out = np.empty(count, dtype=np.int64)
        row = rows[j]
        stored = row >= 0
        # a context that is not stored has bo = 1: P(· | h) = P(· | h')
        if not stored.all():
            lost = np.flatnonzero(~stored)
            out[lost] = self.draw(rng, [r[lost] for r in rows], j - 1)
        here = np.flatnonzero(stored)
        if len(here) == 0:
            return out
        keys, cdf, V = self.keys[j + 1], self.cdf[j + 1], self.V
        lo = np.searchsorted(keys, row[here] * V)
        hi = np.searchsorted(keys, (row[here] + 1) * V)
        u = rng.random(len(here))
        mass = cdf[hi] - cdf[lo]
        inside = u < mass
        picked = np.searchsorted(cdf, cdf[lo[inside]] + u[inside], side="right") - 1
        picked = np.clip(picked, lo[inside], hi[inside] - 1)
        out[here[inside]] = keys[picked] % V
        todo = here[~inside]
        while len(todo):                                   # back off, rejecting stored words:
            tries = TRIES if j == 1 else 1                                # several (unigram) candidates
            sub = [np.repeat(r[todo], tries) for r in rows]               # per stream at once,
            w = self.draw(rng, sub, j - 1).reshape(len(todo), tries)      # the first accepted
            accepted = (lookup(keys, V, sub[j], w.ravel()) == NOT_FOUND).reshape(len(todo), tries)
            first = accepted.argmax(axis=1)                               # one wins (i.i.d.)
            ok = accepted[np.arange(len(todo)), first]
            out[todo[ok]] = w[np.flatnonzero(ok), first[ok]]
            todo = todo[~ok]
        return out

    def context_rows(self, history: np.ndarray, length: np.ndarray) -> list:
        """rows[i] for i = 0..n-1 from the last n-1 ids of each stream (history (B, n-1), newest
        last) and the number of real ids each holds (<s> included)."""
        B, width = history.shape
        rows = [np.zeros(B, dtype=np.int64)]
        for i in range(1, self.n):
            r = history[:, width - i].astype(np.int64)          # oldest word of the i-word context
            for step in range(2, i + 1):
                r = lookup(self.keys[step], self.V, r, history[:, width - i + step - 1])
            rows.append(np.where(length >= i, r, NOT_FOUND))
        return rows


def synthesize(model, tokens: int, path: str | Path, seed: int = 0, batch: int = 4096,
               progress=None) -> dict:
    """Write sentences sampled from `model` to `path`, one a line, until at least `tokens` words
    (</s> not counted) are written; returns {"sentences", "words"}."""
    if tokens < 1:
        raise NextwordError(f"--tokens must be >= 1, got {tokens}")
    sampler = BackoffSampler(model)
    rng = np.random.default_rng(seed)
    width = max(1, model.order - 1)
    history = np.full((batch, width), BOS_ID, dtype=np.int64)
    length = np.ones(batch, dtype=np.int64)                 # ids in the history, <s> included
    words = np.zeros((batch, MAX_WORDS), dtype=np.int32)
    size = np.zeros(batch, dtype=np.int64)
    tokens_out = {"sentences": 0, "words": 0}
    decode = np.array(model.vocab.tokens, dtype=object)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        while tokens_out["words"] < tokens:
            w = sampler.draw(rng, sampler.context_rows(history, length), model.order - 1)
            done = (w == EOS_ID) | (size >= MAX_WORDS)
            grow = np.flatnonzero(~done)
            words[grow, size[grow]] = w[grow]
            size[grow] += 1
            for s in np.flatnonzero(done).tolist():       # one line per finished sentence
                out.write(" ".join(decode[words[s, :size[s]]].tolist()) + "\n")
                tokens_out["sentences"] += 1
                tokens_out["words"] += int(size[s])
            if model.order > 1:
                history[:, :-1] = history[:, 1:]
                history[:, -1] = np.where(done, BOS_ID, w)
                history[done] = BOS_ID
            length = np.where(done, 1, np.minimum(length + 1, width))
            size[done] = 0
            if progress is not None:
                progress(tokens_out["words"])
    return tokens_out
