"""Modified Kneser–Ney in bounded memory: n-grams spilled to disk in partitions, each partition
estimated with the same vectorised NumPy as the in-memory build (`nextword.ngram.kneser_ney`).

lmplz streams sorted runs through three external merge sorts (suffix, context, suffix order).
Here the same three regroupings are *partitionings*: every n-gram table is split into P files so
that the rows a stage must see together land in one file, and one file at a time is loaded,
sorted and processed whole (a radix sort, searchsorted). P is chosen from the corpus size so that
a partition fits `memory`. The data flow, for order n (k-grams with k >= 2; the unigram tables
are V-sized arrays held in memory, as lmplz holds its vocabulary):

0. read      The text is read once: word ids (numbered as first seen) and sentence lengths go
              to two files of the spill folder, the vocabulary comes from their counts
              (`nextword.text.vocabulary.CorpusIds`); later stages read the ids, not the text.
1. count      Each chunk of the ids (its size set by `memory`) is counted, every k-gram is
              sent to partition hash(w_{k-1}, w_k) (its LAST TWO words) and spilled as a
              sorted run. All k-grams that share a suffix of two or more words then meet in one
              partition: a k-gram, its left extensions x·g and its suffix w2..wk.
2. adjust     Per partition: runs merged (concatenate + sort + add), adjusted counts
              a(g) = N1+(• g) from the (k+1)-grams of the same partition (raw for <s>-initial
              and top-order n-grams), unigram continuation counts summed into a V-array, and
              the count-of-counts n1..n4 summed over partitions -> discounts (Chen & Goodman).
3. context    Each k-gram (k >= 3) is sent to the partition of its context h = w1..w_{k-1},
              hash(w_{k-2}, w_{k-1}), where h itself lives: Σ_x a(h x), N_r(h •), γ(h) and
              u(w | h) = (a - D(a)) / Σ_x a(h x); pruned rows move their u into γ(h). γ(h) is
              stored with h (its ARPA backoff); u and γ(h) go back to the k-gram's partition.
              Bigrams need no move: their contexts are unigrams (V-arrays).
4. interpolate Per partition, orders 2..n in turn: P(w | h) = u + γ(h) P(w2..wk), the suffix
              being in the same partition; rows under the count cut-off are dropped.
5. write      Rows are sent to contiguous RANGES of their first word w1 (so that table k's
              sorted order is the concatenation of the ranges, and a k-gram's prefix is in its
              range), sorted, given trie keys parent_row * V + w_k, and written straight into
              the model folder's .npy files (appended to in row order).

Peak memory is one partition (or one chunk) at a time plus the V-arrays. The bound holds while
the n-grams sharing their last two words (stages 2-4), or starting with one word (stage 5), fit
`memory`: the most frequent bigram and word set the limit, not the corpus size. The arithmetic
is the in-memory build's, so the model is the same to float rounding (sums taken in another
order: ~1e-16 relative). All spill files live in one temporary folder, removed on success,
on failure and on Ctrl-C (KeyboardInterrupt runs the `finally`).
"""
from __future__ import annotations

import math
from array import array
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import write_json_atomic
from nextword.model import MODEL_FILE, VOCAB_FILE
from nextword.ngram import hashing, radix
from nextword.ngram.counts import flat_chunks, sorted_search
from nextword.ngram.interpolated import check_cutoffs, log_gamma
from nextword.ngram.kneser_ney import ModifiedKneserNey, count_of_counts
from nextword.parallel import PAIR, in_pairs
from nextword.text.vocabulary import BOS_ID, ID_DTYPE, CorpusIds, Vocabulary

ROW_BYTES = 256            # working bytes per n-gram row of a loaded partition (ids, counts,
                           # floats, sort permutations and temporaries; measured ~150-200)
TOKEN_BYTES = 96           # working bytes per token per order while a chunk is counted
MIN_MEMORY = 1 << 20
READ_IDS = 1 << 22         # word ids counted at a time for the vocabulary (32 MB as int64)


def parse_size(text: str) -> int:
    """'100M', '2G', '512K', '1000' (bytes) -> bytes, as lmplz's -S (without %)."""
    units = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = str(text).strip().upper()
    number, unit = text.rstrip("KMGTB"), text[len(text.rstrip("KMGTB")):]
    unit = unit[:-1] if unit.endswith("B") and len(unit) > 1 else unit
    try:
        value = float(number) * units[unit]
    except (ValueError, KeyError):
        raise NextwordError(f"--memory: cannot read size {text!r} (use e.g. 500M, 2G)") from None
    if value < MIN_MEMORY:
        raise NextwordError(f"--memory: {text} is below the minimum of 1M")
    return int(value)


# ---- rows of k word ids, sorted lexicographically ---------------------------------------------
def _limbs(grams: np.ndarray, bits: int) -> list:
    """int64 keys, most significant first, whose lexicographic order is the rows' order: as many
    words per key as fit 62 bits (PTB, V = 10k: 4 words a key; a 5-gram is 2 keys)."""
    per = max(1, 62 // bits)
    keys = []
    for start in range(0, grams.shape[1], per):
        key = np.zeros(len(grams), dtype=np.int64)
        for j in range(start, min(start + per, grams.shape[1])):
            key = (key << bits) | grams[:, j].astype(np.int64)
        keys.append(key)
    return keys


def _sort_order(grams: np.ndarray, bits: int, tie: np.ndarray | None = None) -> np.ndarray:
    """The stable lexicographic order of the rows (then `tie`), np.lexsort's: a radix sort by
    the 16-bit digits of every column, least significant first (`nextword.ngram.radix`; a
    5-gram of 16-bit ids is five linear-time passes)."""
    keys = [] if tie is None else radix.digits(tie, int(tie.max()).bit_length() if len(tie) else 1)
    for j in range(grams.shape[1] - 1, -1, -1):
        keys += radix.digits(grams[:, j], bits)
    return radix.lex_argsort(keys)


def _new_rows(grams: np.ndarray, bits: int) -> np.ndarray:
    """For sorted rows: True where a row differs from the one before it."""
    new = np.ones(len(grams), dtype=bool)
    if len(grams) > 1:
        new[1:] = False
        for key in _limbs(grams, bits):
            new[1:] |= key[1:] != key[:-1]
    return new


def sum_rows(grams: np.ndarray, counts: np.ndarray, bits: int) -> tuple:
    """Sorted distinct rows and the summed count of each."""
    order = _sort_order(grams, bits)
    grams, counts = grams[order], counts[order]
    starts = np.flatnonzero(_new_rows(grams, bits))
    return grams[starts], (np.add.reduceat(counts, starts) if len(starts) else counts[:0])


def sort_rows(grams: np.ndarray, bits: int, *columns: np.ndarray) -> tuple:
    order = _sort_order(grams, bits)
    return (grams[order],) + tuple(c[order] for c in columns)


def rows_in(table: np.ndarray, queries: np.ndarray, bits: int) -> np.ndarray:
    """Row of each query in a sorted table of distinct rows (every query must be present).

    The words are read a few at a time, left to right, as one int64 key: first as many words
    as fit 62 bits, then (the rank of the prefix read so far among the table's distinct
    prefixes, the next words), as many as fit beside the rank. Each step is one np.searchsorted
    of the queries' keys among the table's distinct keys; a 5-gram of 16-bit ids takes two."""
    rank_bits = max(1, int(len(table)).bit_length())
    table_rank = query_rank = None
    start = 0
    while start < table.shape[1]:
        free = 62 - (rank_bits if table_rank is not None else 0)
        stop = min(table.shape[1], start + max(1, free // bits))
        table_key = _packed(table[:, start:stop], bits, table_rank)
        query_key = _packed(queries[:, start:stop], bits, query_rank)
        new = radix.first_of_runs(table_key)
        table_rank = np.cumsum(new) - 1
        distinct = table_key[new]
        # queries in order walk the table in order (sorted_search sorts them when they are not)
        if len(query_key) < 2 or bool((query_key[1:] >= query_key[:-1]).all()):
            query_rank = np.searchsorted(distinct, query_key)
        else:
            query_rank = sorted_search(distinct, query_key)
        start = stop
    return query_rank if query_rank is not None else np.zeros(len(queries), dtype=np.int64)


def _packed(columns: np.ndarray, bits: int, prefix: np.ndarray | None) -> np.ndarray:
    """(prefix, the columns' words) as one int64 key per row, `bits` bits a word."""
    key = np.zeros(len(columns), dtype=np.int64) if prefix is None else prefix.astype(np.int64)
    for j in range(columns.shape[1]):
        key <<= bits
        key |= columns[:, j]
    return key


def hash_partition(left: np.ndarray, right: np.ndarray, parts: int) -> np.ndarray:
    """Partition of a word pair: a multiplicative hash (spreads frequent pairs evenly)."""
    if parts == 1:
        return np.zeros(len(left), dtype=np.int64)
    h = (left.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
         ^ right.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F))
    return ((h >> np.uint64(17)) % np.uint64(parts)).astype(np.int64)


# ---- the spill folder -------------------------------------------------------------------------
class Spill:
    """Runs on disk, one append-only file per (stage, order, column): spill(name, k, part,
    **arrays) appends a run and notes where it lies; load(name, k, part) reads back every run
    of that partition, concatenated (few files: opening and deleting thousands of small files
    cost more than the data on this kind of disk)."""

    def __init__(self, root: Path):
        self.root = root
        self.handles: dict = {}             # (name, k, column) -> open file, appending
        self.columns: dict = {}             # (name, k) -> [(column, dtype, tail shape)]
        self.index: dict = {}               # (name, k, part) -> array of (rows, offset per column)
        self.rows: dict = {}                # (name, k, part) -> rows spilled

    def _path(self, name: str, k: int, column: str) -> Path:
        return self.root / f"{name}-{k}-{column}.bin"

    def spill(self, name: str, k: int, part: int, **arrays) -> None:
        n = len(next(iter(arrays.values())))
        if n == 0:
            return
        columns = self.columns.setdefault(
            (name, k), [(c, a.dtype, a.shape[1:]) for c, a in arrays.items()])
        entry = self.index.setdefault((name, k, part), array("q"))
        entry.append(n)
        for column, _, _ in columns:
            handle = self.handles.get((name, k, column))
            if handle is None:
                handle = self.handles[name, k, column] = open(self._path(name, k, column), "ab")
            entry.append(handle.tell())
            handle.write(np.ascontiguousarray(arrays[column]).data)
        self.rows[name, k, part] = self.rows.get((name, k, part), 0) + n

    def spill_split(self, name: str, k: int, part: np.ndarray, parts: int, **arrays) -> None:
        """Spill rows to their partitions (rows keep their order inside a partition)."""
        order = radix.argsort(part, max(1, (parts - 1).bit_length()))
        bounds = np.searchsorted(part[order], np.arange(parts + 1))
        arrays = {key: a[order] for key, a in arrays.items()}     # one gather, then slices
        for p in range(parts):
            if bounds[p] < bounds[p + 1]:
                self.spill(name, k, p, **{key: a[bounds[p]: bounds[p + 1]]
                                          for key, a in arrays.items()})

    def load(self, name: str, k: int, part: int, **empty) -> dict:
        """All runs of (name, k, part) concatenated; `empty` gives dtype/shape when none exist.
        Each column's file is mapped once and its pieces gathered by slicing the map."""
        out = dict(empty)
        if (name, k, part) not in self.index:
            return out
        columns = self.columns[name, k]
        runs = np.frombuffer(self.index[name, k, part], dtype=np.int64).reshape(-1, len(columns) + 1)
        for j, (column, dtype, tail) in enumerate(columns, start=1):
            self.handles[name, k, column].flush()
            mapped = np.asarray(np.memmap(self._path(name, k, column), dtype=np.uint8, mode="r"))
            width = dtype.itemsize * math.prod(tail)
            pieces = [mapped[offset: offset + n * width] for n, offset in zip(runs[:, 0], runs[:, j])]
            data = np.concatenate(pieces) if len(pieces) > 1 else np.array(pieces[0])
            out[column] = data.view(dtype).reshape((-1,) + tail)
            del mapped, pieces
        return out

    def drop(self, name: str, k: int) -> None:
        """Delete a stage's files once every partition has been read."""
        for key in [key for key in self.handles if key[:2] == (name, k)]:
            self.handles.pop(key).close()
            self._path(*key).unlink()
        for key in [key for key in self.index if key[:2] == (name, k)]:
            del self.index[key]
        self.columns.pop((name, k), None)

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()
        self.handles.clear()


# ---- the build --------------------------------------------------------------------------------
@dataclass
class Plan:
    """How `memory` is shared: tokens per counting chunk, hash partitions, first-word ranges."""

    chunk_tokens: int
    parts: int
    memory: int


def plan(memory: int, tokens: int, order: int) -> Plan:
    chunk = max(1024, memory // (TOKEN_BYTES * max(1, order - 1)))
    rows = tokens * max(1, order - 1)           # distinct k-grams, k >= 2, are at most this
    parts = max(1, math.ceil(rows * ROW_BYTES * PAIR / memory))     # PAIR of them at once
    return Plan(chunk, parts, memory)


def build_on_disk(corpus, order: int, directory: str | Path, memory: int,
                  estimator: ModifiedKneserNey | None = None, vocab: Vocabulary | None = None,
                  min_count: int = 1, max_vocab: int | None = None, prune=None,
                  temp_dir: str | Path | None = None, arpa: str | Path | None = None,
                  progress=None) -> dict:
    """Estimate (modified) Kneser–Ney from a corpus of token lists (read once) in bounded memory
    and write the model folder `directory` (and an ARPA file when `arpa` is given); returns
    {"partitions", "chunks", "ngrams": {k: entries}}. Same model as `NgramModel.fit` + `save`.
    """
    estimator = estimator if estimator is not None else ModifiedKneserNey()
    if not isinstance(estimator, ModifiedKneserNey):
        raise NextwordError(f"--memory estimates Kneser-Ney only (kneser-ney, modified-kneser-ney), "
                            f"not {getattr(estimator, 'name', estimator)}")
    if not isinstance(order, int) or order < 2:
        raise NextwordError(f"--memory needs an order >= 2, got {order}")
    cutoffs = check_cutoffs(prune, order)
    if estimator.discounts is not None and len(estimator.discounts) != order:
        raise NextwordError(f"{len(estimator.discounts)} discount triples given for an "
                            f"order-{order} model")
    temp_root = Path(temp_dir) if temp_dir is not None else None
    if temp_root is not None and not temp_root.is_dir():
        raise NextwordError(f"--temp-dir {temp_root}: no such folder")
    reader = CorpusIds(vocab, min_count, max_vocab)                  # checks them before reading
    root = Path(tempfile.mkdtemp(prefix="nextword-ngram-", dir=temp_root))
    spill = Spill(root)
    try:
        vocab, words, lengths, remap = read_to_disk(corpus, reader, root)
        if not len(lengths):
            raise NextwordError("the training corpus has no sentences")
        sizes = plan(memory, len(words) + len(lengths), order)       # words + </s>
        job = _Job(vocab, order, estimator, cutoffs, spill, sizes, progress)
        result = job.run(words, lengths, remap, Path(directory))
        del words, lengths                                           # maps of files in root
    finally:
        spill.close()
        shutil.rmtree(root, ignore_errors=True)
    if arpa is not None:
        from nextword.model import load_model
        from nextword.ngram.arpa import write_arpa

        write_arpa(load_model(directory), arpa)
    return result


def read_to_disk(corpus, reader: CorpusIds, root: Path) -> tuple:
    """(vocabulary, word ids, sentence lengths, provisional-to-final id map or None) of a
    corpus read once (CorpusIds): the ids (int32) and lengths (int64) are written to two files
    of the spill folder as they are read, and memory-mapped back; the vocabulary's counts are
    summed over the ids file a slice at a time."""
    paths = root / "corpus-ids.bin", root / "corpus-lengths.bin"
    with open(paths[0], "wb") as ids_file, open(paths[1], "wb") as lengths_file:
        for ids, lengths in reader.blocks(corpus):
            ids_file.write(ids.data)
            lengths_file.write(lengths.data)
    words, lengths = (np.memmap(path, dtype=dtype, mode="r") if path.stat().st_size else
                      np.empty(0, dtype) for path, dtype in zip(paths, (ID_DTYPE, np.int64)))
    seen = None
    if reader.given is None:
        seen = np.zeros(len(reader.first_seen), dtype=np.int64)
        for first in range(0, len(words), READ_IDS):
            seen += np.bincount(words[first:first + READ_IDS], minlength=len(seen))
    vocab, remap = reader.vocabulary(seen, len(lengths))
    return vocab, words, lengths, remap


class _Job:
    def __init__(self, vocab, order, estimator, cutoffs, spill, sizes: Plan, progress):
        self.vocab, self.n, self.estimator, self.cutoffs = vocab, order, estimator, cutoffs
        self.spill, self.P, self.chunk_tokens = spill, sizes.parts, sizes.chunk_tokens
        self.memory = sizes.memory
        self.V = len(vocab)
        self.bits = max(1, int(self.V - 1).bit_length())
        self.progress = progress or (lambda message: None)
        self.chunks = 0

    # -- 1. count --------------------------------------------------------------------------------
    def count(self, words: np.ndarray, lengths: np.ndarray, remap: np.ndarray | None) -> np.ndarray:
        V, n = self.V, self.n
        unigram = np.zeros(V, dtype=np.int64)

        def orders():                      # (chunk, k) for every chunk and k = 2..n
            for stream in flat_chunks(words, lengths, self.chunk_tokens, remap):
                self.chunks += 1
                np.add(unigram, np.bincount(stream.ids, minlength=V), out=unigram)
                yield from ((stream, k) for k in range(2, n + 1))

        def compute(item):
            stream, k = item
            ids = stream.ids
            starts = np.flatnonzero(stream.same_sentence(k))
            grams = np.stack([ids[starts + j] for j in range(k)], axis=1)
            grams, counts = sum_rows(grams, np.ones(len(grams), np.int64), self.bits)
            return grams, counts, hash_partition(grams[:, -2], grams[:, -1], self.P)

        def finish(item, result):
            grams, counts, part = result
            self.spill.spill_split("count", item[1], part, self.P, grams=grams, count=counts)
            if item[1] == n:
                self.progress(f"counted chunk {self.chunks}")

        in_pairs(orders(), compute, finish)          # two orders of a chunk at a time
        return unigram

    def _empty(self, k: int, **columns) -> dict:
        return {"grams": np.empty((0, k), np.int32), **columns}

    def _adjusted(self, k: int, part: int) -> dict:
        return self.spill.load("adjusted", k, part, **self._empty(
            k, raw=np.empty(0, np.int64), a=np.empty(0, np.int64)))

    # -- 2. adjusted counts, count-of-counts ------------------------------------------------------
    def adjust(self) -> tuple:
        n, V = self.n, self.V
        continuation = np.zeros(V, dtype=np.int64)              # N1+(• w) for unigrams
        coc = [None] + [np.zeros(5, dtype=np.int64) for _ in range(n)]

        def compute(p: int) -> dict:
            tables: dict = {}
            for k in range(2, n + 1):
                run = self.spill.load("count", k, p, **self._empty(k, count=np.empty(0, np.int64)))
                tables[k] = sum_rows(run["grams"], run["count"], self.bits)
            adjusted = {}
            for k in range(2, n + 1):
                grams, raw = tables[k]
                if k == n:
                    a = raw.copy()
                else:
                    following = tables[k + 1][0]                 # (k+1)-grams x·g, same partition
                    rows = rows_in(grams, following[:, 1:], self.bits)
                    a = np.where(grams[:, 0] == BOS_ID, raw, np.bincount(rows, minlength=len(grams)))
                adjusted[k] = grams, raw, a
            return adjusted

        def finish(p: int, adjusted: dict) -> None:
            for k, (grams, raw, a) in adjusted.items():
                if k == 2:
                    continuation[:] += np.bincount(grams[:, 1], minlength=V)
                coc[k] += count_of_counts(a)
                self.spill.spill("adjusted", k, p, grams=grams, raw=raw, a=a)
            self.progress(f"adjusted partition {p + 1}/{self.P}")

        in_pairs(range(self.P), compute, finish)
        for k in range(2, n + 1):
            self.spill.drop("count", k)
        return continuation, coc

    # -- 3. contexts: Σ a(h x), γ(h), u(w | h) --------------------------------------------------
    def _discount_of(self, k: int, a: np.ndarray) -> np.ndarray:
        return np.array((0.0,) + self.D[k])[np.minimum(a, 3)]

    def contexts(self, unigram_a: np.ndarray) -> None:
        n, V = self.n, self.V
        # bigram contexts are unigrams: sums over every partition into V-arrays
        self.den1 = np.zeros(V)
        discounted = np.zeros(V)
        for p in range(self.P):
            t = self._adjusted(2, p)
            if len(t["grams"]):
                h = t["grams"][:, 0]
                self.den1 += np.bincount(h, weights=t["a"].astype(np.float64), minlength=V)
                discounted += np.bincount(h, weights=self._discount_of(2, t["a"]), minlength=V)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.gamma1 = np.where(self.den1 > 0, discounted / self.den1, 0.0)
        if self.cutoffs[1] > 0:
            for p in range(self.P):
                t = self._adjusted(2, p)
                gone = t["raw"] <= self.cutoffs[1]
                h, a = t["grams"][gone, 0], t["a"][gone]
                u = (a.astype(np.float64) - self._discount_of(2, a)) / self.den1[h]
                self.gamma1 += np.bincount(h, weights=u, minlength=V)
        # k >= 3: each k-gram meets its context in the context's partition
        for k in range(3, n + 1):
            for p in range(self.P):
                t = self._adjusted(k, p)
                g = t["grams"]
                self.spill.spill_split("to_context", k, hash_partition(g[:, -3], g[:, -2], self.P),
                                       self.P, grams=g, a=t["a"], raw=t["raw"])
            in_pairs(range(self.P), partial(self._context_sums, k), partial(self._spill_context, k))
            self.spill.drop("to_context", k)
            self.progress(f"contexts of {k}-grams done")

    def _context_sums(self, k: int, q: int) -> tuple:
        """Σ_x a(h x), N_r(h •), γ(h) and u(w | h) for the k-grams whose context lives in
        partition q."""
        t = self.spill.load("to_context", k, q, **self._empty(
            k, a=np.empty(0, np.int64), raw=np.empty(0, np.int64)))
        context = self._adjusted(k - 1, q)["grams"]
        grams, a, raw = sort_rows(t["grams"], self.bits, t["a"], t["raw"])
        rows = rows_in(context, grams[:, :-1], self.bits)
        D_of = self._discount_of(k, a)
        a_f = a.astype(np.float64)
        denominator = np.bincount(rows, weights=a_f, minlength=len(context))   # Σ_x a(h x)
        discounted = np.bincount(rows, weights=D_of, minlength=len(context))   # Σ_r D_r N_r(h•)
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = np.where(denominator > 0, discounted / denominator, 0.0)
        u = (a_f - D_of) / denominator[rows]
        if self.cutoffs[k - 1] > 0:              # a pruned share joins γ(h)
            gone = raw <= self.cutoffs[k - 1]
            gamma += np.bincount(rows[gone], weights=u[gone], minlength=len(context))
        return gamma, grams, u, gamma[rows], hash_partition(grams[:, -2], grams[:, -1], self.P)

    def _spill_context(self, k: int, q: int, sums: tuple) -> None:
        gamma, grams, u, gamma_h, part = sums
        self.spill.spill("gamma", k - 1, q, gamma=gamma)
        self.spill.spill_split("interpolate", k, part, self.P, grams=grams, u=u, gamma_h=gamma_h)

    # -- 4. interpolation -----------------------------------------------------------------------
    def interpolate(self, p1: np.ndarray, ranges: np.ndarray) -> None:
        n = self.n

        def compute(p: int) -> list:
            previous = None                                     # (grams, P) of order k-1
            outputs = []
            for k in range(2, n + 1):
                t = self._adjusted(k, p)
                grams, a, raw = t["grams"], t["a"], t["raw"]
                if k == 2:
                    h = grams[:, 0]
                    u = (a.astype(np.float64) - self._discount_of(2, a)) / self.den1[h]
                    prob = u + self.gamma1[h] * p1[grams[:, 1]]
                else:
                    m = self.spill.load("interpolate", k, p, **self._empty(
                        k, u=np.empty(0), gamma_h=np.empty(0)))
                    _, u, gamma_h = sort_rows(m["grams"], self.bits, m["u"], m["gamma_h"])
                    suffix = rows_in(previous[0], grams[:, 1:], self.bits)
                    prob = u + gamma_h * previous[1][suffix]
                out = {"grams": grams, "logprob": np.log(prob)}
                if k < n:
                    gamma = self.spill.load("gamma", k, p, gamma=np.zeros(len(grams)))["gamma"]
                    out["logbackoff"] = log_gamma(gamma)
                previous = (grams, prob)
                if self.cutoffs[k - 1] > 0:
                    keep = raw > self.cutoffs[k - 1]
                    out = {key: value[keep] for key, value in out.items()}
                part = np.searchsorted(ranges, out["grams"][:, 0], side="right") - 1
                outputs.append((k, part, out))
            return outputs

        def finish(p: int, outputs: list) -> None:
            for k, part, out in outputs:
                self.spill.spill_split("final", k, part, len(ranges), **out)
            self.progress(f"interpolated partition {p + 1}/{self.P}")

        with np.errstate(divide="ignore"):
            in_pairs(range(self.P), compute, finish)
        for k in range(2, n + 1):
            for name in ("adjusted", "interpolate", "gamma"):
                self.spill.drop(name, k)

    # -- 5. the model folder --------------------------------------------------------------------
    def write(self, directory: Path, logprob1: np.ndarray, logbackoff1: np.ndarray,
              ranges: np.ndarray) -> dict:
        """Each .npy file is appended to in row order, range after range: written through
        plain file writes, not a memory map, whose dirty pages would count in the process's
        resident memory until the kernel flushed them (4.9 GB at 100 M words)."""
        n, V, R = self.n, self.V, len(ranges)
        arrays_dir = directory / "arrays"
        arrays_dir.mkdir(parents=True, exist_ok=True)
        sizes = {k: sum(self.spill.rows.get(("final", k, r), 0) for r in range(R))
                 for k in range(2, n + 1)}
        outputs: dict = {}

        def array(name, size, dtype=np.float64):
            tmp = arrays_dir / f".{name}.npy.tmp"
            handle = open(tmp, "wb")
            outputs[name] = (tmp, handle)
            np.lib.format.write_array_header_1_0(handle, {
                "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                "fortran_order": False, "shape": (size,)})
            return handle

        def append(handle, values, dtype=np.float64):
            handle.write(np.ascontiguousarray(values, dtype=dtype).data)

        try:
            append(array("logprob_1", V), logprob1)
            append(array("logbackoff_1", V), logbackoff1)
            keys = {k: array(f"keys_{k}", sizes[k], np.int64) for k in range(2, n + 1)}
            logprob = {k: array(f"logprob_{k}", sizes[k]) for k in range(2, n + 1)}
            logbackoff = {k: array(f"logbackoff_{k}", sizes[k]) for k in range(2, n)}
            offset = {k: 0 for k in range(2, n + 1)}

            def compute(r: int) -> list:
                """Range r's rows of every order, sorted; each k-gram's prefix as its rank
                among the range's (k-1)-grams (they start with a word of the same range)."""
                previous, rows = None, []
                for k in range(2, n + 1):
                    t = self.spill.load("final", k, r, **self._empty(k, logprob=np.empty(0),
                                                                      logbackoff=np.empty(0)))
                    columns = [t["logprob"]] + ([t["logbackoff"]] if k < n else [])
                    grams, *columns = sort_rows(t["grams"], self.bits, *columns)
                    rank = (grams[:, 0].astype(np.int64) if k == 2 else
                            rows_in(previous, grams[:, :-1], self.bits))
                    rows.append((k, rank, grams[:, -1], columns))
                    previous = grams
                return rows

            def finish(r: int, rows: list) -> None:
                for k, rank, last, columns in rows:
                    # prefix row = rows of table k-1 in earlier ranges + rank in this range
                    parents = rank if k == 2 else offset[k - 1] + rank
                    append(keys[k], parents * V + last, np.int64)
                    append(logprob[k], columns[0])
                    if k < n:
                        append(logbackoff[k], columns[1])
                for k, rank, _, _ in rows:
                    offset[k] += len(rank)

            in_pairs(range(R), compute, finish)
            for k in range(2, n + 1):
                self.spill.drop("final", k)
            for name, (tmp, handle) in outputs.items():
                handle.close()
                os.replace(tmp, arrays_dir / f"{name}.npy")
            # the hash tables, a range of home slots at a time in half the budget (the rest of
            # the process, its V-arrays and the vocabulary, stays within the other half)
            for k in range(2, n + 1):
                tmp = arrays_dir / f".hash_{k}.npy.tmp"
                outputs[f"hash_{k}"] = (tmp, None)
                hashing.write(np.load(arrays_dir / f"keys_{k}.npy", mmap_mode="r"), tmp,
                              self.memory // 2)
                os.replace(tmp, arrays_dir / f"hash_{k}.npy")
                self.progress(f"hashed the {k}-grams")
        finally:       # after a failure no temporary file stays (after success none is left)
            for tmp, handle in outputs.values():
                if handle is not None:
                    handle.close()
                tmp.unlink(missing_ok=True)
        return sizes

    def run(self, words, lengths, remap, directory: Path) -> dict:
        n, V = self.n, self.V
        unigram = self.count(words, lengths, remap)
        continuation, coc = self.adjust()
        a1 = np.where(np.arange(V) == BOS_ID, unigram, continuation)     # <s> keeps raw (then 0)
        a1[BOS_ID] = 0
        coc[1] = count_of_counts(a1)
        self.D, notes = self.estimator.discounts_from(coc)
        # unigrams, as in ModifiedKneserNey.estimate + interpolate
        a_f = a1.astype(np.float64)
        D_of = self._discount_of(1, a1)
        total = a_f.sum()
        u1 = (a_f - D_of) / total
        gamma0 = float(D_of.sum() / total)
        self.contexts(a1)
        p1 = u1 + gamma0 / self.vocab.num_outcomes
        p1[BOS_ID] = 0.0
        with np.errstate(divide="ignore"):
            logprob1 = np.log(p1)
        logbackoff1 = log_gamma(self.gamma1)
        ranges = first_word_ranges(unigram, n, self.P)
        with np.errstate(divide="ignore"):
            self.interpolate(p1, ranges)
        sizes = self.write(directory, logprob1, logbackoff1, ranges)
        description = {"name": self.estimator.name, **self.estimator.params(),
                       "discounts": [list(d) for d in self.D[1:]]}
        if any(self.cutoffs):
            description["prune"] = [int(c) for c in self.cutoffs]
        if notes:
            description["notes"] = list(notes)
        self.vocab.save(directory / VOCAB_FILE)
        arrays = sorted([f"keys_{k}" for k in range(2, n + 1)] + [f"hash_{k}" for k in range(2, n + 1)] +
                        [f"logprob_{k}" for k in range(1, n + 1)] +
                        [f"logbackoff_{k}" for k in range(1, n)])
        write_json_atomic(directory / MODEL_FILE, {
            "type": "ngram", "order": n, "estimator": description,
            "fallback": "backoff", "unseen_context_logbackoff": 0.0, "arrays": arrays,
            "hash_load": hashing.LOAD})
        return {"partitions": self.P, "chunks": self.chunks,
                "ngrams": {1: V, **{k: int(v) for k, v in sizes.items()}}}


def first_word_ranges(unigram: np.ndarray, order: int, parts: int) -> np.ndarray:
    """Start ids of contiguous first-word ranges of about equal size: a word w starts at most
    c(w) k-grams of each order, so Σ c(w) over a range bounds its rows."""
    weight = np.cumsum(unigram * max(1, order - 1))
    if parts <= 1 or weight[-1] == 0:
        return np.zeros(1, dtype=np.int64)
    bounds = np.searchsorted(weight, weight[-1] * np.arange(1, parts) / parts, side="right")
    return np.unique(np.concatenate([[0], bounds[bounds < len(unigram)]])).astype(np.int64)
