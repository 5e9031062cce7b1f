"""Counting n-grams of every order 1..n with NumPy: no Python loop per token.

Sentences become one padded stream, ``<s> w1 .. wm </s> <s> ...``; an n-gram never crosses a
sentence boundary, and ``<s>`` occurs only first (no ``<s> <s>``), as in KenLM.

The counts are kept as a trie of sorted arrays, one table per order::

    order 1: row = word id (the whole vocabulary, count 0 allowed)
    order k: keys[k][r] = parent * V + word, sorted ascending; parent = row of the
             (k-1)-gram prefix in table k-1, word = the last word, V = len(vocab)

so every k-gram is found with one binary search per order (`lookup`), vectorised.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from typing import Iterable, Iterator

import numpy as np

from nextword.ngram import radix
from nextword.text.vocabulary import BOS_ID, EOS_ID, check_token_lists

KEY_DTYPE = np.int64
ROW_DTYPE = np.int64
NOT_FOUND = -1      # an n-gram or context absent from the table
NO_HISTORY = -2     # the context would reach back before <s>


def _row_dtype(size: int) -> type:
    """Rows of a table of `size` entries: int32 below 2^31 (half the memory of the positions'
    rows while counting), int64 above."""
    return np.int32 if size < np.iinfo(np.int32).max else np.int64


@dataclass
class PaddedStream:
    """Sentences as one array: ids (L,), sentence starts, and (made when first read) the
    sentence of each position (L,)."""

    ids: np.ndarray
    starts: np.ndarray

    @classmethod
    def from_sentences(cls, sentences: Iterable[np.ndarray]) -> "PaddedStream":
        sentences = list(sentences)
        lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        words = (np.concatenate([np.asarray(s, dtype=np.int32) for s in sentences])
                 if sentences else np.empty(0, dtype=np.int32))
        return cls.from_lengths(words, lengths)

    @classmethod
    def from_tokens(cls, sentences: list, index: dict) -> "PaddedStream":
        """Encode token lists (unknown -> <unk> = 0) straight into the padded stream: one
        dictionary pass in C over all tokens, the markers written around them by slicing."""
        check_token_lists(sentences)
        lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        words = np.fromiter(map(index.get, chain.from_iterable(sentences), repeat(0)),
                            dtype=np.int32, count=int(lengths.sum()))
        return cls.from_lengths(words, lengths)

    @classmethod
    def from_lengths(cls, words: np.ndarray, lengths: np.ndarray) -> "PaddedStream":
        """The padded stream of concatenated word ids and the length of each sentence."""
        padded = lengths + 2
        starts = np.cumsum(padded) - padded
        ids = np.empty(int(padded.sum()), dtype=np.int32)
        is_word = np.ones(len(ids), dtype=bool)
        is_word[starts] = False
        is_word[starts + padded - 1] = False
        ids[starts] = BOS_ID
        ids[starts + padded - 1] = EOS_ID
        ids[is_word] = words
        return cls(ids, starts)

    @cached_property
    def sentence(self) -> np.ndarray:
        lengths = np.diff(self.starts, append=len(self.ids))
        return np.repeat(np.arange(len(self.starts), dtype=_row_dtype(len(self.starts))), lengths)

    def __len__(self) -> int:
        return len(self.ids)

    def same_sentence(self, k: int) -> np.ndarray:
        """Mask over positions i: does the k-gram starting at i stay inside one sentence?"""
        valid = np.zeros(len(self.ids), dtype=bool)
        if k <= len(self.ids):
            valid[: len(self.ids) - k + 1] = self.sentence[: len(self.ids) - k + 1] == self.sentence[k - 1:]
        return valid


@dataclass
class NgramCounts:
    """Counts of every k-gram, k = 1..order, as a trie of sorted arrays (see module doc).

    Index lists by order: ``keys[k]``, ``counts[k]``; ``keys[0]``, ``keys[1]`` are None.
    ``consumable``: nothing reads the counts after the estimate, so an estimator may drop each
    ``counts[k]`` once it has read it (the peak of a build is its estimate). ``suffix``: the
    suffix rows (`all_suffix_rows`) where counting found them on the way, else None.
    """

    vocab_size: int
    order: int
    keys: list
    counts: list
    consumable: bool = False
    suffix: list | None = None

    def suffix_rows(self) -> list:
        """s[k][r] = row in table k-1 of the suffix of k-gram r (`all_suffix_rows`)."""
        if self.suffix is None:
            return all_suffix_rows(self.keys, self.vocab_size, self.order)
        return self.suffix

    def words(self, k: int) -> np.ndarray:
        return np.arange(self.vocab_size) if k == 1 else self.keys[k] % self.vocab_size

    def parents(self, k: int) -> np.ndarray:
        return self.keys[k] // self.vocab_size

    def size(self, k: int) -> int:
        return self.vocab_size if k == 1 else len(self.keys[k])

    def lookup(self, k: int, parent_rows: np.ndarray, words: np.ndarray) -> np.ndarray:
        return lookup(self.keys[k], self.vocab_size, parent_rows, words)

    def ngrams(self, k: int) -> np.ndarray:
        """The k-grams of table k as an (N, k) array of word ids, oldest word first."""
        columns = [self.words(k)]
        rows = np.arange(self.size(k))
        for j in range(k, 1, -1):
            rows = self.keys[j][rows] // self.vocab_size
            columns.append(self.words(j - 1)[rows])
        return np.stack(columns[::-1], axis=1)


def all_suffix_rows(keys: list, vocab_size: int, order: int) -> list:
    """s[k][r] = row in table k-1 of the suffix of k-gram r, for k = 2..order.

    The suffix of (prefix p, word w) is (suffix of p, w): one vectorised lookup per order::

        k = 2:  suffix(w1 w2) = w2                      (a unigram row is the word id)
        k > 2:  suffix(p, w)  = lookup(table k-1, s[k-1][p], w)

    Every suffix of a counted n-gram was counted too, so no row is NOT_FOUND (after pruning,
    cut-offs that never shrink with the order keep this true). Rows are int32 below 2^31.
    """
    s: list = [None, None]
    for k in range(2, order + 1):
        words = keys[k] % vocab_size
        if k > 2:
            words = lookup(keys[k - 1], vocab_size, s[k - 1][keys[k] // vocab_size], words)
        s.append(words.astype(_row_dtype(len(keys[k - 1]) if k > 2 else vocab_size)))
    return s


SORT_QUERIES_ABOVE = 2048


def ragged_ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """start[i], start[i] + 1, ..., start[i] + length[i] - 1, for every i in turn."""
    offsets = np.cumsum(length) - length
    return np.repeat(start - offsets, length) + np.arange(int(length.sum()))


def sorted_search(keys: np.ndarray, query: np.ndarray, side: str = "left") -> np.ndarray:
    """np.searchsorted, with many queries sorted first: NumPy's binary search starts from the
    previous answer when the queries increase, so sorted queries stay in cache (PTB test
    against the 5-gram tables: 3.5 ms instead of 10 ms per order, sort included)."""
    if len(query) < SORT_QUERIES_ABOVE:
        return np.searchsorted(keys, query, side=side)
    if np.issubdtype(query.dtype, np.integer) and query.min() >= 0:     # keys: radix sort
        order = radix.argsort(query, int(query.max()).bit_length())
    else:                                                             # cumulative sums, ...
        order = np.argsort(query)
    rows = np.empty(len(query), dtype=np.int64)
    rows[order] = np.searchsorted(keys, query[order], side=side)
    return rows


def lookup(keys: np.ndarray, vocab_size: int, parent_rows: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Rows of the n-grams (parent, word) in a sorted key table; NOT_FOUND where absent."""
    parent_rows = np.asarray(parent_rows, dtype=ROW_DTYPE)
    query = parent_rows * vocab_size + words
    rows = sorted_search(keys, query)
    rows = np.minimum(rows, len(keys) - 1) if len(keys) else np.zeros_like(query)
    found = (parent_rows >= 0) & (len(keys) > 0)
    if len(keys):
        found &= keys[rows] == query
    return np.where(found, rows, NOT_FOUND)


def count_ngrams(stream: PaddedStream, vocab_size: int, order: int) -> NgramCounts:
    """Count all k-grams, k = 1..order, inside the sentences of a padded stream.

    Table k is built from table k-1: the k-gram starting at i is (the (k-1)-gram starting at i,
    the word at i+k-1), so its key is row_{k-1}[i] * V + ids[i+k-1]; one radix sort of the
    keys (np.unique's result, `nextword.ngram.radix`) gives the sorted keys, the counts and the
    new rows. Its suffix is the (k-1)-gram starting at i+1, so the suffix row of each k-gram is
    row_{k-1}[i+1] at any one place i where it occurs: `all_suffix_rows` without a search.
    """
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    ids = stream.ids                            # int32: each key is widened as it is made
    keys: list = [None, None]
    counts: list = [None, np.bincount(ids, minlength=vocab_size).astype(np.int64)]
    suffix: list = [None, None]
    rows = ids                                  # row of the k-gram starting at each position
    for k in range(2, order + 1):
        starts = np.flatnonzero(stream.same_sentence(k))
        key = rows.take(starts).astype(KEY_DTYPE)
        key *= vocab_size
        key += ids.take(starts + (k - 1))
        bits = int((len(keys[k - 1]) if k > 2 else vocab_size) * vocab_size - 1).bit_length()
        if k == order:                        # the top order needs no rows for a next order
            unique, count, first = radix.unique(key, bits, overwrite=True, return_first=True)
        else:
            unique, count, inverse, first = radix.unique(key, bits, return_inverse=True,
                                                         overwrite=True, return_first=True)
        del key
        first = starts.take(first)
        first += 1
        suffix.append(rows.take(first))       # row_{k-1} of the (k-1)-gram after each first place
        del first
        if k < order:
            rows = np.full(len(ids), NOT_FOUND, dtype=_row_dtype(len(unique)))
            rows[starts] = inverse
            del inverse
        del starts
        keys.append(unique)
        counts.append(count.astype(np.int64))
    return NgramCounts(vocab_size, order, keys, counts, suffix=suffix)


# ---- counting in chunks ------------------------------------------------------------------------
# 67M tokens per chunk: a corpus the size of PTB or WikiText-103 is counted as one chunk
DEFAULT_CHUNK_TOKENS = 1 << 26


def merge_counts(*parts: NgramCounts | None) -> NgramCounts:
    """Add the counts of tries over the same vocabulary (None entries are skipped), pairwise."""
    total = None
    for part in parts:
        total = part if total is None else _merge_two(total, part)
    if total is None:
        raise ValueError("nothing to merge")
    return total


def _merge_two(total: NgramCounts, chunk: NgramCounts) -> NgramCounts:
    """Insert a chunk's n-grams into the total, order by order, without re-sorting the total.

    Both tables are sorted; renumbering parents is monotone, so they stay sorted::

        chunk key  p * V + w  ->  chunk_rows[p] * V + w       (its parent's row in the merged k-1)
        total key  p * V + w  ->  total_rows[p] * V + w
        at = searchsorted(total keys, chunk keys)             found: add the count there
        merged = insert(total keys, at[new], chunk keys[new]) new:   insert, in order

    Memory: the total, the merged copy and the chunk; time: one copy of the total per chunk.
    """
    V, n = total.vocab_size, total.order
    keys: list = [None, None]
    counts: list = [None, total.counts[1] + chunk.counts[1]]
    total_rows = chunk_rows = None
    for k in range(2, n + 1):
        t_keys, c_keys = total.keys[k], chunk.keys[k]
        if total_rows is not None:
            t_keys = total_rows[t_keys // V] * V + t_keys % V
            c_keys = chunk_rows[c_keys // V] * V + c_keys % V
        at = np.searchsorted(t_keys, c_keys)
        found = at < len(t_keys)
        found[found] = t_keys[at[found]] == c_keys[found]
        new = ~found
        inserted_at = at[new]                                  # sorted: c_keys is sorted
        merged = np.insert(t_keys, inserted_at, c_keys[new])
        # row of each old total row in the merged table: shifted by the insertions before it
        total_rows = np.arange(len(t_keys)) + np.searchsorted(inserted_at, np.arange(len(t_keys)),
                                                              side="right")
        chunk_rows = np.empty(len(c_keys), dtype=np.int64)
        chunk_rows[found] = total_rows[at[found]]
        chunk_rows[new] = inserted_at + np.arange(int(new.sum()))
        count = np.zeros(len(merged), dtype=np.int64)
        count[total_rows] = total.counts[k]
        count[chunk_rows] += chunk.counts[k]
        keys.append(merged)
        counts.append(count)
    return NgramCounts(V, n, keys, counts)


def count_ngrams_chunked(encoded_sentences: Iterable[np.ndarray], vocab_size: int, order: int,
                         chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> NgramCounts:
    """Count sentences a chunk of about `chunk_tokens` tokens at a time, merging each chunk into
    the total as it goes: the token stream is never in memory whole, only one chunk of it, its
    counts and the total."""
    if chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be >= 1, got {chunk_tokens}")
    total = None
    batch: list = []
    size = 0
    for sentence in encoded_sentences:
        batch.append(sentence)
        size += len(sentence) + 2
        if size >= chunk_tokens:
            total = merge_counts(total, count_ngrams(PaddedStream.from_sentences(batch), vocab_size, order))
            batch, size = [], 0
    if batch or total is None:
        total = merge_counts(total, count_ngrams(PaddedStream.from_sentences(batch), vocab_size, order))
    return total


def flat_chunks(words: np.ndarray, lengths: np.ndarray, chunk_tokens: int,
                remap: np.ndarray | None = None) -> Iterator[PaddedStream]:
    """Padded streams of whole sentences, about `chunk_tokens` tokens each (<s> and </s>
    included; a chunk ends with the sentence that reaches it), sliced out of one array of word
    ids and the sentence lengths (`read_corpus`'s, or memory-mapped files: only a chunk is
    read); `remap`, if given, maps the ids read to the ids counted. One empty chunk for no
    sentences."""
    first = word = 0
    while True:
        window = np.asarray(lengths[first:first + chunk_tokens])   # enough: each pads to >= 2
        padded = np.cumsum(window + 2)
        take = min(int(np.searchsorted(padded, chunk_tokens)) + 1, len(window))
        size = int(padded[take - 1]) - 2 * take if take else 0
        ids = np.asarray(words[word:word + size])
        yield PaddedStream.from_lengths(ids if remap is None else remap[ids], window[:take])
        first, word = first + take, word + size
        if first >= len(lengths):
            return


def count_ngrams_flat(words: np.ndarray, lengths: np.ndarray, vocab_size: int, order: int,
                      chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> NgramCounts:
    """`count_ngrams_chunked` for sentences given as one array of word ids and their lengths
    (what `read_corpus` returns): the chunks are slices of the array (flat_chunks)."""
    if chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be >= 1, got {chunk_tokens}")
    total = None
    for chunk in flat_chunks(words, lengths, chunk_tokens):   # merged as they come: one at a time
        total = merge_counts(total, count_ngrams(chunk, vocab_size, order))
    return total
