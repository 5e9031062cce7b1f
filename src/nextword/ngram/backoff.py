"""N-grams given as arrays of word ids, and their probability under backoff: what ARPA
reading (blank entries) and relative-entropy pruning both need.

A trie of sorted keys stores the k-gram (prefix row p, word w) as key p·V + w in table k; ids
of a whole table are read back by following the parents, and a context's rows by lookups.
"""
from __future__ import annotations

import numpy as np

from nextword.ngram.counts import lookup
from nextword.ngram.tables import Tables


def ngram_ids(keys: list, vocab_size: int, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """(N_k, k) word ids of table k of a trie (or of its `rows`), oldest word first."""
    columns = []
    rows = np.arange(len(keys[k])) if rows is None else rows
    for j in range(k, 1, -1):
        key = keys[j][rows]
        columns.append(key % vocab_size)
        rows = key // vocab_size
    columns.append(rows)
    return np.stack(columns[::-1], axis=1)


def context_rows(keys: list, V: int, context: np.ndarray) -> list:
    """rows[j] = row of the last j words of each context (N, m), j = 1..m; NOT_FOUND if absent."""
    m = context.shape[1]
    rows: list = [None]
    for j in range(1, m + 1):
        row = context[:, m - j].astype(np.int64)
        for i in range(m - j + 1, m):
            row = lookup(keys[i - (m - j) + 1], V, row, context[:, i])
        rows.append(row)
    return rows


def backoff_logprobs(model, k: int, ids: np.ndarray) -> np.ndarray:
    """ln P(w_k | w_2..w_{k-1}) for k-grams (N, k), from the model cut to order k-1."""
    from nextword.ngram.model import NgramModel

    t = model.tables
    lower = NgramModel(model.vocab, k - 1, model.keys[:k],
                       Tables(t.logprob[:k], t.logbackoff[:k - 1], "backoff", 0.0))
    contexts = context_rows(model.keys, model.vocab_size, ids[:, 1:k - 1]) if k > 2 else [None]
    return lower._logprobs(contexts, ids[:, -1].astype(np.int64))
