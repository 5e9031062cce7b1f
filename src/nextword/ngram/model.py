"""The n-gram language model: stored tables, vectorised scoring, sampling state, save/load."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from nextword.allocator import returning_freed_memory
from nextword.errors import NextwordError
from nextword.fileio import model_folder, write_json_atomic
from nextword.model import MODEL_FILE, VOCAB_FILE, LanguageModel, sentence_batches
from nextword.ngram import hashing
from nextword.ngram.counts import (DEFAULT_CHUNK_TOKENS, NO_HISTORY, NOT_FOUND, NgramCounts, PaddedStream,
                                    count_ngrams, lookup, ragged_ranges)
from nextword.ngram.estimators import estimator_traits
from nextword.ngram.tables import Tables
from nextword.text.vocabulary import BOS_ID, Vocabulary, read_corpus

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
                 estimator: dict | None = None, counts: list | None = None,
                 slots: list | None = None, hash_load: float = hashing.LOAD):
        self.vocab = vocab
        self.order = order
        self.keys = keys                    # keys[k], k = 2..order (trie: parent * V + word)
        # slots[k]: hash table over keys[k] (nextword.ngram.hashing), saved with the model and
        # built on first use for a model fitted here. A loaded model without them (saved before
        # they existed) keeps binary search: building them would cost memory in proportion to
        # the model at every load.
        self.slots = slots or [None] * (order + 1)
        self.hashed = slots is None
        self.hash_load = hash_load          # the load the tables were built with (hashing)
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
        with returning_freed_memory():      # a build's large temporaries, each made once
            stream = PaddedStream.from_tokens(sentences, vocab.index)
            counts = count_ngrams(stream, len(vocab), order)
            del stream
            return cls.from_counts(counts, vocab, estimator, prune)

    @classmethod
    def fit_stream(cls, corpus, order: int, estimator, vocab: Vocabulary | None = None,
                   min_count: int = 1, max_vocab: int | None = None, prune=None,
                   chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
                   keep_counts: bool = True) -> "NgramModel":
        """Like `fit`, for a corpus read once as it streams past: one pass gives the vocabulary
        and the word ids (`read_corpus`, 4 bytes a token, not the text), then they are counted
        `chunk_tokens` tokens at a time (see count_ngrams_flat). Without `keep_counts` the model
        keeps no raw counts (only entropy pruning reads them), and the estimate may drop them as
        it goes."""
        from nextword.ngram.counts import count_ngrams_flat

        check_order(order)
        with returning_freed_memory():      # a build's large temporaries, each made once
            vocab, words, lengths = read_corpus(corpus, vocab, min_count, max_vocab)
            counts = count_ngrams_flat(words, lengths, len(vocab), order, chunk_tokens)
            del words                    # the estimation needs the counts only
            if counts.counts[1].sum() == 0:
                raise NextwordError("the training corpus has no sentences")
            counts.consumable = not keep_counts
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
        raw = counts.counts if tables.keys is None and not counts.consumable else None
        return cls(vocab, counts.order, keys, tables, description, raw)

    # ---- scoring ----------------------------------------------------------------------------
    def extend(self, k: int, parent_rows: np.ndarray, words: np.ndarray) -> np.ndarray:
        """The one trie step, shared by scoring and sampling: the row in table k of the k-gram
        (the (k-1)-gram at `parent_rows`, then `words`). NOT_FOUND where it was never stored;
        NO_HISTORY where the parent reached back before <s> (the k-gram would too)."""
        if k == 1:
            return np.asarray(words, dtype=np.int64)
        parent_rows = np.asarray(parent_rows, dtype=np.int64)
        at = np.flatnonzero(parent_rows >= 0)
        if len(at) == len(parent_rows):
            return self._rows_of(k, parent_rows * self.vocab_size + words)
        rows = np.where(parent_rows == NO_HISTORY, NO_HISTORY, NOT_FOUND)
        rows[at] = self._rows_of(k, parent_rows[at] * self.vocab_size + np.asarray(words)[at])
        return rows

    def _rows_of(self, k: int, query: np.ndarray) -> np.ndarray:
        """Rows in table k of trie keys (parent * V + word), NOT_FOUND where absent (a
        negative key never matches): a hash-table probe, or a binary search without one."""
        slots = self.hash_table(k)
        if slots is None:
            return lookup(self.keys[k], 1, query, np.zeros_like(query))    # the key as "parent"
        return hashing.find(slots, self.keys[k], query, self.hash_load)

    def suffix_rows(self) -> list:
        """s[k][r] = row in table k-1 of the suffix (the k-gram without its first word) of
        k-gram r, k = 2..n; NOT_FOUND where a (pruned) model lacks it. As
        counts.all_suffix_rows, through the hash tables."""
        s: list = [None, None]
        for k in range(2, self.order + 1):
            words = self.keys[k] % self.vocab_size
            s.append(words if k == 2 else
                     self.extend(k - 1, s[k - 1][self.keys[k] // self.vocab_size], words))
        return s

    def hash_table(self, k: int) -> np.ndarray | None:
        """The hash table of the k-gram keys: loaded, built here the first time for a model
        fitted in this process, None for a loaded model saved without one."""
        if self.slots[k] is None and self.hashed:
            self.slots[k] = hashing.build(self.keys[k], self.hash_load)
        return self.slots[k]

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
            rows[t] = self.extend(k, m[k - 1][t - 1], ids[t])
            rows[position < k - 1] = NO_HISTORY
            m.append(rows)
        return m

    def _logprobs(self, contexts: list, words: np.ndarray, matches: list | None = None) -> np.ndarray:
        """ln P(w | h) for many (h, w): contexts[j] holds the row of the j-word context
        (j = 1..n-1; NOT_FOUND or NO_HISTORY allowed), words the predicted ids; matches[k],
        the rows of the k-grams (h_{k-1}, w), are looked up unless the caller has them."""
        t = self.tables
        n = self.order
        if matches is None:
            matches = [None, words.astype(np.int64)] + [
                self.extend(k, contexts[k - 1], words) for k in range(2, n + 1)]
        result = np.full(len(words), np.nan)
        if t.fallback == "backoff":
            # P(w | h) = p(h, w) if stored, else bo(h) · P(w | h'): top order down, each
            # position takes the longest stored k-gram plus the ln bo of every context
            # it backed off from (dense gathers with clamped rows, then np.where)
            backed_off = np.zeros(len(words))
            for k in range(n, 0, -1):
                rows = matches[k]
                first = (rows >= 0) & np.isnan(result)                  # longest match so far
                result = np.where(first, _gather(t.logprob[k], rows) + backed_off, result)
                if k > 1:
                    backed_off += self._context_logbackoff(k - 1, contexts[k - 1])
        else:
            # uniform: the longest seen context h decides: p(h, w) if stored, else bo(h) / |V|
            done = np.zeros(len(words), dtype=bool)
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

    def flat_logprobs(self, words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """ln P of each word and of each closing </s>, sentence after sentence, for sentences
        given as one array of word ids and their lengths (what `evaluate` reads)."""
        out = []
        ends = np.cumsum(lengths)
        first = 0
        while first < len(lengths):      # about BATCH_TOKENS tokens at a time
            last = int(np.searchsorted(ends, (ends[first - 1] if first else 0) + BATCH_TOKENS)) + 1
            last = min(max(last, first + 1), len(lengths))
            begin = int(ends[first - 1]) if first else 0
            stream = PaddedStream.from_lengths(words[begin:int(ends[last - 1])], lengths[first:last])
            out.append(self._score_stream(stream))
            first = last
        return np.concatenate(out) if out else np.empty(0)

    def _score_batch(self, batch: list) -> list:
        logprobs = self._score_stream(PaddedStream.from_sentences(batch))
        lengths = np.fromiter((len(s) + 1 for s in batch), dtype=np.int64, count=len(batch))
        return np.split(logprobs, np.cumsum(lengths)[:-1])

    def _score_stream(self, stream: PaddedStream) -> np.ndarray:
        if self.tables.fallback == "backoff":
            return self._score_backoff(stream)
        m = self._match_rows(stream)
        predicted = np.ones(len(stream), dtype=bool)
        predicted[stream.starts] = False                     # <s> is never predicted
        positions = np.flatnonzero(predicted)
        contexts = [None] + [m[j][positions - 1] for j in range(1, self.order)]
        matches = [None] + [m[k][positions] for k in range(1, self.order + 1)]
        return self._logprobs(contexts, matches[1], matches)

    def _score_backoff(self, stream: PaddedStream) -> np.ndarray:
        """ln P of every predicted position of a stream under the backoff rule, written as

            ln P(w_t | h) = ln p(h_a, w_t) + sum_{j = a..n-1} ln bo(h_j)

        where a = D(t), the order of the longest stored n-gram ending at t, and h_j the j-gram
        ending at t-1 (only those stored count; an unseen one adds the unseen-context value,
        one reaching back before <s> adds nothing). Each order keeps only the positions where
        its n-grams were found, (positions, rows): a k-gram ending at t extends the stored
        (k-1)-gram ending at t-1, so order k searches no more than order k-1 found. The sum of
        ln bo runs from j = n-1 down, as `_logprobs` adds them, so the results are the same.

        Neither needs a test of D(t) per order: each order overwrites ln p at the positions where
        it found its n-gram, so the longest match's stays; and the query of order j + 1 from the
        stored j-gram ending at t-1 is the (j+1)-gram ending at t, so where it misses, D(t) <= j
        and ln bo(h_j) counts at t."""
        t, n, V = self.tables, self.order, self.vocab_size
        ids = stream.ids.astype(np.int64)
        L = len(ids)
        # the word after each position, or a key no table holds where the sentence ends
        after = np.empty(L, dtype=np.int64)
        after[:-1] = ids[1:]
        after[stream.starts[1:] - 1] = -(1 << 62)
        after[-1:] = -(1 << 62)
        unseen = t.unseen_context_logbackoff
        depth = np.ones(L, dtype=np.int8) if unseen else None        # D(t)
        logprob = t.logprob[1].take(ids).astype(np.float64, copy=False)   # ln p(h_{D(t)}, w_t) at the end
        backoffs = [None]                                # [j] = (positions t, ln bo(h_j)) to add
        # stored (k-1)-grams: end positions (None: every position, the unigrams) and rows
        at, rows = None, ids
        for k in range(2, n + 1):
            query = rows * V                             # the k-gram ending at + 1
            query += after if at is None else after.take(at)
            extended = self._rows_of(k, query)
            found = extended >= 0
            miss = np.flatnonzero(~found)
            backoffs.append((miss + 1 if at is None else at.take(miss) + 1,
                             t.logbackoff[k - 1].take(rows.take(miss))))
            hit = np.flatnonzero(found)
            at = hit + 1 if at is None else at.take(hit) + 1
            rows = extended.take(hit)
            logprob[at] = t.logprob[k].take(rows)
            if unseen:
                depth[at] = k
        backed_off = np.zeros(L + 1)
        if unseen:
            position = np.arange(L) - stream.starts[stream.sentence]     # 0 at <s>
            before = np.concatenate([[0], depth[:L - 1]])                 # D(t-1)
        for j in range(n - 1, 0, -1):                     # contexts h_j of the next position
            at, value = backoffs[j]
            backed_off[at] += value
            if unseen:      # h_j within the sentence but not stored: the unseen value
                backed_off[:L][(position >= j) & (before < j) & (depth <= j)] += unseen
        logprob += backed_off[:L]
        return np.delete(logprob, stream.starts)            # <s> is never predicted

    # ---- sampling state ---------------------------------------------------------------------
    def initial_state(self) -> tuple:
        return (BOS_ID,)

    def state_for(self, context: np.ndarray) -> tuple:
        """As for every model, the context is the start of a sentence: <s> is implied (a
        leading <s> is that same start), so () conditions on <s>, as an RNN's does."""
        tokens = tuple(int(t) for t in context)
        if not tokens or tokens[0] != BOS_ID:
            tokens = (BOS_ID, *tokens)
        return self._history(tokens)

    def advance(self, state: tuple, token: int) -> tuple:
        return self._history(state + (int(token),))

    def _history(self, tokens: tuple) -> tuple:
        """The last n-1 tokens: all the model conditions on."""
        return tokens[-(self.order - 1):] if self.order > 1 else ()

    def context_rows(self, state: tuple) -> list:
        """[None, row of the 1-word context, ..., row of the (n-1)-word context] of a state."""
        return [None] + [self.row_of(state[-j:]) if j <= len(state) else NO_HISTORY
                         for j in range(1, self.order)]

    def next_logprobs(self, state: tuple) -> np.ndarray:
        """ln P(w | state) for every w at once (`distributions` of the one history)."""
        out = self.distributions([None] + [np.array([row], dtype=np.int64)
                                           for row in self.context_rows(state)[1:]], 1)[0]
        out[BOS_ID] = -np.inf
        return out

    def distributions(self, contexts: list, size: int) -> np.ndarray:
        """ln P(w | h) of every word w after each of `size` histories, given by their context
        rows [None, h_1, ..., h_{n-1}] (NOT_FOUND and NO_HISTORY allowed), as a (size, V)
        array: what `_logprobs` gives for every (history, word) pair, to the bit, without a
        probe per pair.

        Under the backoff rule every word starts at level 0, ln p(w) + B_1, and the words stored
        after a stored context h_j (its `children`: the rows of table j+1 whose keys lie in
        [h_j·V, (h_j+1)·V), found by two binary searches) take ln p(h_j, w) + B_{j+1}, level j
        over level j-1, where

            B_j = ln bo(h_{n-1}) + ... + ln bo(h_j)     (summed in that order, as _logprobs)

        so the cost is B·V for level 0 plus the children read, not (n-1)·B·V probes (400
        histories of the PTB 5-gram: 13 ms against 625). The uniform rule goes to `_logprobs`."""
        n, V = self.order, self.vocab_size
        if self.tables.fallback != "backoff":
            repeated = [None] + [np.repeat(contexts[j], V) for j in range(1, n)]
            words = np.tile(np.arange(V, dtype=np.int64), size)
            return self._logprobs(repeated, words).reshape(size, V)
        t = self.tables
        backed = [None] * n + [np.zeros(size)]             # backed[j] = B_j, B_n = 0
        for j in range(n - 1, 0, -1):
            backed[j] = backed[j + 1] + self._context_logbackoff(j, contexts[j])
        out = np.asarray(t.logprob[1], np.float64)[None, :] + backed[1][:, None]
        for j in range(1, n):
            has = np.flatnonzero(contexts[j] >= 0)
            lo, count = self.children(j, contexts[j][has])
            if not count.sum():
                continue
            history = np.repeat(has, count)
            rows = ragged_ranges(lo, count)
            out[history, self.keys[j + 1][rows] % V] = (
                np.asarray(t.logprob[j + 1][rows], np.float64) + backed[j + 1][history])
        return out

    def children(self, j: int, contexts: np.ndarray) -> tuple:
        """(first, count): the words stored after each of these stored j-word contexts (rows
        of table j) are rows first .. first + count - 1 of table j+1, in word order (the
        table's keys are parent * V + word, sorted: two binary searches)."""
        keys, V = self.keys[j + 1], self.vocab_size
        first = np.searchsorted(keys, contexts * V)
        return first, np.searchsorted(keys, (contexts + 1) * V) - first

    def batch_sampler(self, config):
        """Draws many sentences at once (nextword.ngram.sampling)."""
        from nextword.ngram.sampling import NgramSampler

        return NgramSampler(self, config)

    def batch_steps(self) -> tuple:
        """(init, step, logprobs, select) of many histories side by side, as
        `nextword.generate.BatchedSampler` takes them, for a model that samples this one with
        others (a mixture): a state is (rows, the context rows of each history), its
        distributions the whole ones (`distributions`, <s> at -inf)."""
        from nextword.ngram.sampling import advance_contexts, start_contexts

        def logprobs(state):
            out = self.distributions(state[1], state[0])
            out[:, BOS_ID] = -np.inf
            return out

        return (lambda size: (size, start_contexts(self.order, size)),
                lambda state, tokens: (len(tokens), advance_contexts(self, state[1], tokens)),
                logprobs,
                lambda state, rows: (len(rows), [None] + [c[rows] for c in state[1][1:]]))

    def backoff_path(self, context: Sequence[int], words: np.ndarray) -> dict:
        """How P(w | context) is reached, for each of `words`: the explanation the lecture draws.

        The context (ids, oldest first) is read as the start of a sentence, as `state_for` reads
        it (a leading <s> is that same start), and cut to its last n-1 ids h. Order k = n..1
        uses the k-1 last ids h_k. Under the "backoff" rule,
        P(w | h_k) = p(h_k, w) if (h_k, w) is stored, else γ(h_k) · P(w | h_{k-1}); so

            ln P(w | h) = ln p(h_a, w) + sum_{k = a+1..n} ln γ(h_k)

        where a, the order that answered, is the longest stored (h_a, w). Under the "uniform"
        rule (add-δ, MLE) the longest *seen* context answers: p(h, w) if stored, else
        γ(h) / |V|. Returns {"rule", "steps": one per order, longest first, with the context
        words' ids, its status ("stored", "unseen" or "before-start": it would reach back before
        <s>), ln γ (None where none applies) and the estimator's discounts of that order;
        "answered": (len(words),) order per word; "stored": whether (h_a, w) is a stored
        n-gram; "logprob": ln P(w | h), equal to next_logprobs}. Vectorised over `words`."""
        t = self.tables
        words = np.asarray(words, dtype=np.int64)
        history = self.state_for(np.asarray(context, dtype=np.int64))   # after an implied <s>
        discounts = self.estimator.get("discounts") or []
        steps, rows = [], {}
        for k in range(self.order, 0, -1):
            j = k - 1                                       # context length
            if j > len(history):
                row, status = NO_HISTORY, "before-start"
            else:
                row = self.row_of(history[len(history) - j:]) if j else 0   # 0: the empty context
                status = "stored" if row >= 0 else "unseen"
            rows[k] = row
            log_gamma = None
            if j and t.fallback == "backoff":
                log_gamma = float(self._context_logbackoff(j, np.array([row]))[0])
            elif j and row >= 0 and not np.isnan(t.logbackoff[j][row]):
                log_gamma = float(t.logbackoff[j][row])     # uniform: bo(h) of a seen context
            words_of_context = list(history[len(history) - j:]) if j <= len(history) else None
            steps.append({"order": k, "context": words_of_context, "status": status,
                          "log_gamma": log_gamma,
                          "discount": discounts[k - 1] if k - 1 < len(discounts) else None})
        # row of (h_k, w) per order, NOT_FOUND where not stored
        match = {1: words}
        for k in range(2, self.order + 1):
            match[k] = lookup(self.keys[k], self.vocab_size,
                              np.full(len(words), rows[k], dtype=np.int64), words)
        answered = np.zeros(len(words), dtype=np.int64)
        logprob = np.full(len(words), np.nan)
        stored = np.zeros(len(words), dtype=bool)
        if t.fallback == "backoff":
            backed_off = np.zeros(len(words))             # sum of ln γ of the orders passed
            for step in steps:
                k = step["order"]
                hit = (answered == 0) & (match[k] >= 0)
                answered[hit] = k
                logprob[hit] = t.logprob[k][match[k][hit]] + backed_off[hit]
                if step["log_gamma"] is not None:
                    backed_off += step["log_gamma"]
            stored[:] = True
        else:
            for step in steps:                            # the longest seen context answers
                k = step["order"]
                if k > 1 and step["log_gamma"] is None:
                    continue
                stored = match[k] >= 0
                answered[:] = k
                logprob = np.where(stored, t.logprob[k][np.maximum(match[k], 0)],
                                   (step["log_gamma"] or 0.0) - math.log(self.vocab.num_outcomes))
                break
        logprob[words == BOS_ID] = -np.inf
        return {"rule": t.fallback, "steps": steps, "answered": answered, "stored": stored,
                "logprob": logprob}

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

    def save(self, directory: str | Path, force: bool = False) -> None:
        """model.json + vocab.txt + one .npy per array (memory-mappable on load), written into a
        temporary folder that replaces `directory` whole at the end (see fileio.model_folder)."""
        t = self.tables
        arrays = {f"keys_{k}": self.keys[k] for k in range(2, self.order + 1)}
        arrays.update({f"logprob_{k}": t.logprob[k] for k in range(1, self.order + 1)})
        arrays.update({f"logbackoff_{k}": t.logbackoff[k] for k in range(1, self.order)})
        arrays.update({f"hash_{k}": self.slots[k] if self.slots[k] is not None else
                       hashing.build(self.keys[k], self.hash_load) for k in range(2, self.order + 1)})
        with model_folder(directory, "ngram", force, mapped=(f"{ARRAY_DIR}/",)) as tmp:
            (tmp / ARRAY_DIR).mkdir()
            for name, array in arrays.items():
                with open(tmp / ARRAY_DIR / f"{name}.npy", "wb") as handle:
                    np.save(handle, np.asarray(array), allow_pickle=False)
            self.vocab.save(tmp / VOCAB_FILE)
            write_json_atomic(tmp / MODEL_FILE, {
                "type": "ngram", "order": self.order, "estimator": self.estimator,
                "fallback": t.fallback, "unseen_context_logbackoff": t.unseen_context_logbackoff,
                "arrays": sorted(arrays), "hash_load": self.hash_load,
            })

    @classmethod
    def load(cls, directory: str | Path, meta: dict) -> "NgramModel":
        directory = Path(directory)
        try:
            order = meta["order"]
            if not isinstance(order, int) or isinstance(order, bool):
                raise ValueError(f"order {order!r} is not a whole number")
            check_order(order)

            def array(name):
                path = directory / ARRAY_DIR / f"{name}.npy"
                try:     # a plain ndarray view of the map: no np.memmap overhead per indexing
                    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
                except (OSError, ValueError) as error:
                    raise NextwordError(f"{path}: cannot read array ({error})") from None

            keys = [None, None] + [array(f"keys_{k}") for k in range(2, order + 1)]
            stored = set(meta.get("arrays") or ())
            slots = [None, None] + [array(f"hash_{k}") if f"hash_{k}" in stored else None
                                    for k in range(2, order + 1)]
            hash_load = meta.get("hash_load", hashing.LEGACY_LOAD)
            if (not isinstance(hash_load, (int, float)) or isinstance(hash_load, bool)
                    or not 0 < hash_load <= 1):
                raise ValueError(f"hash_load {hash_load!r} is not a number in (0, 1]")
            tables = Tables(
                logprob=[None] + [array(f"logprob_{k}") for k in range(1, order + 1)],
                logbackoff=[None] + [array(f"logbackoff_{k}") for k in range(1, order)],
                fallback=meta["fallback"],
                unseen_context_logbackoff=float(meta["unseen_context_logbackoff"]),
            )
        except (KeyError, TypeError, ValueError, NextwordError) as error:
            raise NextwordError(f"{directory / MODEL_FILE}: malformed n-gram model ({error})") from None
        if tables.fallback not in ("backoff", "uniform"):
            raise NextwordError(f"{directory / MODEL_FILE}: unknown fallback {tables.fallback!r}")
        if not math.isfinite(tables.unseen_context_logbackoff):
            raise NextwordError(f"{directory / MODEL_FILE}: unseen_context_logbackoff must be a "
                                f"finite number, got {tables.unseen_context_logbackoff}")
        problem = _estimator_problem(meta.get("estimator", {}))
        if problem:
            raise NextwordError(f"{directory / MODEL_FILE}: {problem}")
        vocab = Vocabulary.load(directory / VOCAB_FILE)
        check_tables(directory / ARRAY_DIR, order, len(vocab), keys, tables, slots, hash_load)
        return cls(vocab, order, keys, tables, meta.get("estimator"), slots=slots,
                   hash_load=float(hash_load))


def _estimator_problem(estimator) -> str | None:
    """What is wrong with a model.json's "estimator" object, in the fields read after loading:
    its name (which decides normalised and Kneser-Ney-like) and its discounts (one number or
    list of numbers per order, shown by backoff_path); None when nothing is."""
    if not isinstance(estimator, dict):
        return "'estimator' must be an object"
    name, discounts = estimator.get("name"), estimator.get("discounts")
    if name is not None and not isinstance(name, str):
        return f"the estimator's name must be a string, got {name!r}"

    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if discounts is not None and not (isinstance(discounts, list) and all(
            number(d) or (isinstance(d, list) and all(map(number, d))) for d in discounts)):
        return f"the estimator's discounts must be a list of numbers or lists of numbers, got " \
               f"{discounts!r}"
    return None


def _gather(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """table[rows] with NOT_FOUND rows clamped to 0 (the caller masks them); an empty table (an
    order longer than every sentence of the corpus) has no row to clamp to: zeros then."""
    if not len(table):
        return np.zeros(len(rows))
    return table[np.maximum(rows, 0)]


# Orders above this gain nothing on any corpus (the 7-gram of PTB is no better than the 6-gram)
# and each one costs three arrays and a counting pass: --order 1000 wrote 2,998 files.
MAX_ORDER = 20


def check_order(order: int) -> None:
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= MAX_ORDER:
        raise NextwordError(f"--order must be a whole number from 1 to {MAX_ORDER}, got {order}")


def check_tables(where_: Path, order: int, vocab_size: int, keys: list, tables: Tables,
                 slots: list | None = None, hash_load: float = hashing.LOAD) -> None:
    """Every array of a loaded model has the length and kind its order and vocabulary imply:
    a damaged file fails here with its name, not later with an IndexError."""
    def need(ok: bool, name: str, message: str):
        if not ok:
            raise NextwordError(f"{where_ / (name + '.npy')}: {message}")

    for k in range(1, order + 1):
        size = vocab_size if k == 1 else len(keys[k])
        if k > 1:
            need(keys[k].ndim == 1 and keys[k].dtype.kind in "iu", f"keys_{k}",
                 f"expected a 1-D integer array, got {keys[k].dtype}{keys[k].shape}")
            parents = vocab_size if k == 2 else len(keys[k - 1])
            # sorted keys: the ends bound them all (reading every key would undo the mapping)
            need(not len(keys[k]) or (keys[k][0] >= 0 and keys[k][-1] < parents * vocab_size),
                 f"keys_{k}", "keys out of range: the array belongs to another model")
            if slots is not None and slots[k] is not None:
                problem = hashing.check(slots[k], len(keys[k]), hash_load)
                need(problem is None, f"hash_{k}", problem or "")
        for name, array in ((f"logprob_{k}", tables.logprob[k]),
                            *([(f"logbackoff_{k}", tables.logbackoff[k])] if k < order else [])):
            need(array.ndim == 1 and array.dtype.kind == "f", name,
                 f"expected a 1-D float array, got {array.dtype}{array.shape}")
            need(len(array) == size, name, f"{len(array):,} entries, expected {size:,} "
                 f"({'the vocabulary' if k == 1 else f'the {k}-gram keys'})")
