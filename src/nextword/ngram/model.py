"""The n-gram language model: stored tables, vectorised scoring, sampling state, save/load."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import atomic_path, write_json_atomic
from nextword.model import MODEL_FILE, VOCAB_FILE, LanguageModel, sentence_batches
from nextword.ngram.counts import (DEFAULT_CHUNK_TOKENS, NO_HISTORY, NOT_FOUND, NgramCounts, PaddedStream,
                                    count_ngrams, lookup)
from nextword.ngram.estimators import estimator_traits
from nextword.ngram.tables import Tables
from nextword.text.vocabulary import BOS_ID, Vocabulary

ARRAY_DIR = "arrays"
BATCH_TOKENS = 1 << 18          # sentences are scored in batches of about this many tokens


class NgramModel(LanguageModel):
    """An n-gram model of any order: one sorted key table per order and the estimator's
    log-probabilities and log-backoffs (see `nextword.ngram.estimators`).

    >>> from nextword.ngram.estimators import AddDelta
    >>> lm = NgramModel.fit([["a", "b"], ["a", "c"]], order=2, estimator=AddDelta(0.25))
    >>> round(lm.prob("b", ("a",)), 6)      # (1 + 0.25) / (2 + 0.25 * 5)
    0.384615
    """

    def __init__(self, vocab: Vocabulary, order: int, keys: list, tables: Tables,
                 estimator: dict | None = None, counts: list | None = None):
        self.vocab = vocab
        self.order = order
        self.keys = keys                    # keys[k], k = 2..order (trie: parent * V + word)
        self.tables = tables
        self.estimator = estimator or {}
        self.counts = counts                # raw counts when fitted here (None when loaded)
        self.normalised, self.kneser_ney_like = estimator_traits(self.estimator.get("name"))
        self.vocab_size = len(vocab)

    # ---- building ---------------------------------------------------------------------------
    @classmethod
    def fit(cls, sentences: Iterable[Sequence[str]], order: int, estimator,
            vocab: Vocabulary | None = None, min_count: int = 1,
            max_vocab: int | None = None, prune=None) -> "NgramModel":
        """Count the training sentences and estimate; the vocabulary comes from them unless given."""
        check_order(order)
        sentences = sentences if isinstance(sentences, list) else list(sentences)
        if vocab is None:
            vocab = Vocabulary.build(sentences, min_count=min_count, max_size=max_vocab)
        if not any(True for _ in sentences):
            raise NextwordError("the training corpus has no sentences")
        stream = PaddedStream.from_tokens(sentences, vocab.index)
        counts = count_ngrams(stream, len(vocab), order)
        return cls.from_counts(counts, vocab, estimator, prune)

    @classmethod
    def fit_stream(cls, corpus, order: int, estimator, vocab: Vocabulary | None = None,
                   min_count: int = 1, max_vocab: int | None = None, prune=None,
                   chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> "NgramModel":
        """Like `fit`, for a re-iterable corpus too large to hold: one pass builds the
        vocabulary, a second counts it `chunk_tokens` tokens at a time (see count_ngrams_chunked)."""
        from nextword.ngram.counts import count_ngrams_chunked

        check_order(order)
        if vocab is None:
            vocab = Vocabulary.build(corpus, min_count=min_count, max_size=max_vocab)
        counts = count_ngrams_chunked((vocab.encode(s) for s in corpus), len(vocab), order,
                                      chunk_tokens)
        if counts.counts[1].sum() == 0:
            raise NextwordError("the training corpus has no sentences")
        return cls.from_counts(counts, vocab, estimator, prune)

    @classmethod
    def from_counts(cls, counts: NgramCounts, vocab: Vocabulary, estimator,
                    prune=None) -> "NgramModel":
        """Estimate from counts; `prune` = count cut-offs per order (KenLM's --prune)."""
        if prune is not None and any(prune):
            tables = estimator.estimate(counts, vocab.num_outcomes, cutoffs=prune)
        else:
            tables = estimator.estimate(counts, vocab.num_outcomes)
        description = {"name": estimator.name, **estimator.params(), **tables.details}
        if prune is not None and any(prune):
            description["prune"] = [int(c) for c in prune]
        if tables.notes:
            description["notes"] = list(tables.notes)
        keys = tables.keys if tables.keys is not None else counts.keys
        raw = counts.counts if tables.keys is None else None
        return cls(vocab, counts.order, keys, tables, description, raw)

    # ---- scoring ----------------------------------------------------------------------------
    def _match_rows(self, stream: PaddedStream) -> list:
        """m[k][t]: row of the k-gram ending at position t; NO_HISTORY if it would start
        before the sentence's <s>, NOT_FOUND if it was never stored.

        A k-gram can only be stored if its (k-1)-word prefix is (a trie), so each order searches
        only the positions whose prefix was found: at order 5 that is a small share."""
        position = np.arange(len(stream)) - stream.starts[stream.sentence]   # 0 at <s>
        ids = stream.ids.astype(np.int64)
        m = [None, ids]
        for k in range(2, self.order + 1):
            rows = np.full(len(ids), NOT_FOUND, dtype=np.int64)
            t = np.flatnonzero(m[k - 1][:-1] >= 0) + 1           # prefix (ending at t-1) found
            rows[t] = lookup(self.keys[k], self.vocab_size, m[k - 1][t - 1], ids[t])
            rows[position < k - 1] = NO_HISTORY
            m.append(rows)
        return m

    def _logprobs_from_matches(self, m: list, positions: np.ndarray) -> np.ndarray:
        """ARPA scoring from the match table, top order down: at order k a position takes
        ln p(stored k-gram) + the ln bo of every context it backed off from (lengths n-1..k;
        stored: its value; never seen: the estimator's unseen-context value; before <s>: 0).
        Dense NumPy operations only (gathers with clamped rows, then np.where)."""
        t = self.tables
        result = np.full(len(positions), np.nan)                        # (P,)
        backoff = np.zeros(len(positions))                              # (P,)
        for k in range(self.order, 0, -1):
            if k < self.order:                                          # back off from length k
                context = m[k][positions - 1]
                unseen = np.where(context == NOT_FOUND, t.unseen_context_logbackoff, 0.0)
                backoff += np.where(context >= 0, t.logbackoff[k][np.maximum(context, 0)], unseen)
            rows = m[k][positions]
            first = (rows >= 0) & np.isnan(result)                      # longest match so far
            result = np.where(first, t.logprob[k][np.maximum(rows, 0)] + backoff, result)
        return result

    def _logprobs(self, contexts: list, words: np.ndarray) -> np.ndarray:
        """ln P(w | h) for many (h, w): contexts[j] holds the row of the j-word context
        (j = 1..n-1; NOT_FOUND or NO_HISTORY allowed), words the predicted ids."""
        t = self.tables
        n = self.order
        matches = [None, words.astype(np.int64)] + [
            lookup(self.keys[k], self.vocab_size, contexts[k - 1], words) for k in range(2, n + 1)
        ]
        result = np.full(len(words), np.nan)
        done = np.zeros(len(words), dtype=bool)
        if t.fallback == "backoff":
            # P(w | h) = p(h, w) if stored, else bo(h) · P(w | h'): add ln bo while backing off
            backed_off = np.zeros(len(words))
            for k in range(n, 0, -1):
                hit = ~done & (matches[k] >= 0)
                result[hit] = t.logprob[k][matches[k][hit]] + backed_off[hit]
                done |= hit
                if k > 1:
                    backed_off += self._context_logbackoff(k - 1, contexts[k - 1])
        else:
            # uniform: the longest seen context h decides: p(h, w) if stored, else bo(h) / |V|
            log_uniform = -math.log(self.vocab.num_outcomes)
            for j in range(n - 1, -1, -1):
                if j == 0:
                    seen = ~done
                else:   # a context is seen if stored with a backoff (NaN: never followed by a word)
                    seen = ~done & (contexts[j] >= 0)
                    seen[seen] = ~np.isnan(t.logbackoff[j][contexts[j][seen]])
                stored = seen & (matches[j + 1] >= 0)
                result[stored] = t.logprob[j + 1][matches[j + 1][stored]]
                unstored = seen & ~stored
                if j > 0:
                    result[unstored] = t.logbackoff[j][contexts[j][unstored]] + log_uniform
                done |= seen
        return result

    def _context_logbackoff(self, j: int, rows: np.ndarray) -> np.ndarray:
        """ln bo of each j-word context: stored value, the unseen-context value, or 0 before <s>."""
        t = self.tables
        out = np.where(rows == NOT_FOUND, t.unseen_context_logbackoff, 0.0)
        present = rows >= 0
        out[present] = t.logbackoff[j][rows[present]]
        return out

    def sentence_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Score in batches of ~BATCH_TOKENS tokens, all positions of a batch at once."""
        for batch in sentence_batches(sentences, BATCH_TOKENS):
            yield from self._score_batch(batch)

    def _score_batch(self, batch: list) -> list:
        stream = PaddedStream.from_sentences(batch)
        m = self._match_rows(stream)
        predicted = np.ones(len(stream), dtype=bool)
        predicted[stream.starts] = False                     # <s> is never predicted
        positions = np.flatnonzero(predicted)
        if self.tables.fallback == "backoff":
            logprobs = self._logprobs_from_matches(m, positions)
        else:
            contexts = [None] + [m[j][positions - 1] for j in range(1, self.order)]
            logprobs = self._logprobs(contexts, stream.ids[positions].astype(np.int64))
        lengths = np.fromiter((len(s) + 1 for s in batch), dtype=np.int64, count=len(batch))
        return np.split(logprobs, np.cumsum(lengths)[:-1])

    # ---- sampling state ---------------------------------------------------------------------
    def initial_state(self) -> tuple:
        return (BOS_ID,)

    def state_for(self, context: np.ndarray) -> tuple:
        """An n-gram model conditions on the bare context: () is the unigram distribution."""
        return self._history(tuple(int(t) for t in context))

    def advance(self, state: tuple, token: int) -> tuple:
        return self._history(state + (int(token),))

    def _history(self, tokens: tuple) -> tuple:
        """The last n-1 tokens: all the model conditions on."""
        return tokens[-(self.order - 1):] if self.order > 1 else ()

    def next_logprobs(self, state: tuple) -> np.ndarray:
        """ln P(w | state) for every w at once: the context rows repeated over the vocabulary."""
        words = np.arange(self.vocab_size, dtype=np.int64)
        contexts: list = [None]
        for j in range(1, self.order):
            row = self.row_of(state[-j:]) if j <= len(state) else NO_HISTORY
            contexts.append(np.full(self.vocab_size, row, dtype=np.int64))
        out = self._logprobs(contexts, words)
        out[BOS_ID] = -np.inf
        return out

    def row_of(self, ngram: Sequence[int]) -> int:
        """Row of a stored k-gram in table k, or NOT_FOUND."""
        row = int(ngram[0])
        for k, word in enumerate(ngram[1:], start=2):
            row = int(lookup(self.keys[k], self.vocab_size, np.array([row]), np.array([word]))[0])
            if row < 0:
                return NOT_FOUND
        return row

    # ---- storage ----------------------------------------------------------------------------
    def describe(self) -> dict:
        sizes = {"1": len(self.vocab)}
        sizes.update({str(k): int(len(self.keys[k])) for k in range(2, self.order + 1)})
        return {"type": "ngram", "order": self.order, "estimator": self.estimator,
                "vocabulary": len(self.vocab), "ngrams": sizes}

    def save(self, directory: str | Path) -> None:
        """model.json + vocab.txt + one .npy per array (memory-mappable on load)."""
        directory = Path(directory)
        (directory / ARRAY_DIR).mkdir(parents=True, exist_ok=True)
        t = self.tables
        arrays = {f"keys_{k}": self.keys[k] for k in range(2, self.order + 1)}
        arrays.update({f"logprob_{k}": t.logprob[k] for k in range(1, self.order + 1)})
        arrays.update({f"logbackoff_{k}": t.logbackoff[k] for k in range(1, self.order)})
        for name, array in arrays.items():
            with atomic_path(directory / ARRAY_DIR / f"{name}.npy") as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, np.asarray(array), allow_pickle=False)
        self.vocab.save(directory / VOCAB_FILE)
        write_json_atomic(directory / MODEL_FILE, {
            "type": "ngram", "order": self.order, "estimator": self.estimator,
            "fallback": t.fallback, "unseen_context_logbackoff": t.unseen_context_logbackoff,
            "arrays": sorted(arrays),
        })

    @classmethod
    def load(cls, directory: str | Path, meta: dict) -> "NgramModel":
        directory = Path(directory)
        try:
            order = int(meta["order"])
            def array(name):
                path = directory / ARRAY_DIR / f"{name}.npy"
                try:     # a plain ndarray view of the map: no np.memmap overhead per indexing
                    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
                except (OSError, ValueError) as error:
                    raise NextwordError(f"{path}: cannot read array ({error})") from None

            keys = [None, None] + [array(f"keys_{k}") for k in range(2, order + 1)]
            tables = Tables(
                logprob=[None] + [array(f"logprob_{k}") for k in range(1, order + 1)],
                logbackoff=[None] + [array(f"logbackoff_{k}") for k in range(1, order)],
                fallback=meta["fallback"],
                unseen_context_logbackoff=float(meta["unseen_context_logbackoff"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise NextwordError(f"{directory / MODEL_FILE}: malformed n-gram model ({error})") from None
        vocab = Vocabulary.load(directory / VOCAB_FILE)
        if len(tables.logprob[1]) != len(vocab):
            raise NextwordError(f"{directory}: vocabulary and unigram table disagree in size")
        return cls(vocab, order, keys, tables, meta.get("estimator"))


def check_order(order: int) -> None:
    if not isinstance(order, int) or order < 1:
        raise NextwordError(f"order must be an integer >= 1, got {order}")
