"""N-gram helpers the n-gram experiments share: counts truncated to an order, models fitted
from shared counts, the bytes a saved model takes."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from nextword.ngram.counts import NO_HISTORY, NgramCounts, PaddedStream, count_ngrams, lookup
from nextword.ngram.model import NgramModel
from nextword.text.vocabulary import Vocabulary


def count(sentences: list, vocab: Vocabulary, order: int) -> NgramCounts:
    return count_ngrams(PaddedStream.from_tokens(sentences, vocab.index), len(vocab), order)


def truncate(counts: NgramCounts, order: int) -> NgramCounts:
    """The counts of orders 1..`order` only: a trie's lower tables do not depend on the higher."""
    return NgramCounts(counts.vocab_size, order, counts.keys[: order + 1], counts.counts[: order + 1],
                       suffix=counts.suffix[: order + 1] if counts.suffix is not None else None)


def fit(counts: NgramCounts, vocab: Vocabulary, order: int, estimator, prune=None) -> NgramModel:
    return NgramModel.from_counts(truncate(counts, order), vocab, estimator, prune)


def stored_ngrams(model: NgramModel) -> int:
    """Entries of every order: |V| unigrams plus the stored k-grams, k = 2..n."""
    return len(model.vocab) + sum(len(model.keys[k]) for k in range(2, model.order + 1))


def array_bytes(model: NgramModel) -> int:
    """Bytes of the arrays `NgramModel.save` writes (keys, log-probabilities, log-backoffs):
    the saved directory less the .npy headers, the vocabulary and model.json (writing every
    model of an experiment to disk would cost gigabytes of I/O for the same number)."""
    t = model.tables
    arrays = [model.keys[k] for k in range(2, model.order + 1)]
    arrays += [t.logprob[k] for k in range(1, model.order + 1)]
    arrays += [t.logbackoff[k] for k in range(1, model.order)]
    return int(sum(np.asarray(a).nbytes for a in arrays))


def bytes_on_disk(model: NgramModel) -> int:
    """Size of the saved model directory (arrays + vocabulary + model.json)."""
    with tempfile.TemporaryDirectory(prefix="nextword-size-") as directory:
        model.save(directory)
        return sum(f.stat().st_size for f in Path(directory).rglob("*") if f.is_file())


def match_rows(counts: NgramCounts, stream: PaddedStream, order: int) -> list:
    """m[k][t]: row in the training trie of the k-gram ending at position t of `stream`;
    NOT_FOUND if never seen in training, NO_HISTORY if it would start before the sentence's
    <s>. One vectorised lookup per order (a k-gram is stored only if its prefix is)."""
    position = np.arange(len(stream)) - stream.starts[stream.sentence]      # 0 at <s>
    ids = stream.ids.astype(np.int64)
    m = [None, np.where(counts.counts[1][ids] > 0, ids, -1)]                 # unigram seen?
    for k in range(2, order + 1):
        rows = np.full(len(ids), -1, dtype=np.int64)
        t = np.flatnonzero(m[k - 1][:-1] >= 0) + 1
        rows[t] = lookup(counts.keys[k], counts.vocab_size, m[k - 1][t - 1], ids[t])
        rows[position < k - 1] = NO_HISTORY
        m.append(rows)
    return m
