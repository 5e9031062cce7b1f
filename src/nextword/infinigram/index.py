"""The suffix-array index of a corpus: built once, memory-mapped on every later use.

Layout on disk (a folder; every array an .npy file that `np.load(mmap_mode="r")` maps):

    tokens.npy        the corpus as word ids, each sentence followed by </s>, and one </s> in
                      front of the first: the </s> before a sentence stands for its <s>
                          </s> a b </s> a c </s>         (uint16 when |V| <= 65,536, else uint32)
    suffix_array.npy  SA: corpus positions sorted by the suffix that starts there
                      (int32 below 2**31 tokens, else int64)
    unigram.npy       count of each word id in tokens.npy (int64, |V| entries)
    followers.npy     N1+(v •): how many distinct words follow v somewhere (int64, |V|)
    predecessors.npy  N1+(• v): how many distinct words come just before v (int64, |V|)
    vocab.txt         the vocabulary (nextword.text.vocabulary), ids as in tokens.npy
    model.json        {"type": "unbounded-ngram", ...}: `load_model(DIR)` gives the smoothed model
    infinigram/model.json  {"type": "infinigram", "index": ".."}: the ∞-gram over the same index

So the index costs 2 + 4 = 6 bytes per token below 65,536 word types and 2**31 tokens.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import atomic_path, read_json, write_json_atomic
from nextword.model import MODEL_FILE, VOCAB_FILE
from nextword.text.vocabulary import BOS_ID, EOS_ID, Vocabulary

from nextword.infinigram.suffix_array import index_dtype, suffix_array

INDEX_TYPE = "unbounded-ngram"
INFINIGRAM_TYPE = "infinigram"
INFINIGRAM_DIR = "infinigram"
FORMAT = 1
# file name (without .npy) -> attribute
ARRAYS = {"tokens": "tokens", "suffix_array": "sa", "unigram": "unigram", "followers": "followers",
          "predecessors": "predecessors"}
# peak bytes per token while building with divsufsort on uint16 ids: the 2N-byte input, the
# 4-byte SA over its 2N bytes, the mask and the kept half (measured peak, docs/infinigram.md)
BUILD_BYTES_PER_TOKEN = 18


@dataclass
class SuffixArrayIndex:
    """A corpus as token ids, its suffix array and the per-word tables the models read.

    >>> index = SuffixArrayIndex.from_sentences([["a", "b"], ["a", "c"]])
    >>> index.tokens.tolist()               # </s> a b </s> a c </s>  (ids: </s> 2, a 3, b 4, c 5)
    [2, 3, 4, 2, 3, 5, 2]
    >>> index.count(["a"]), index.count(["<s>", "a"]), index.count(["a", "d"])
    (2, 2, 0)
    """

    tokens: np.ndarray           # (N,) word ids
    sa: np.ndarray               # (N,) suffix array
    unigram: np.ndarray          # (|V|,) occurrences of each id in tokens
    followers: np.ndarray        # (|V|,) N1+(v •)
    predecessors: np.ndarray     # (|V|,) N1+(• v)
    vocab: Vocabulary
    sentences: int

    def __post_init__(self):
        self.n = len(self.tokens)
        # rank range of the suffixes starting with word v: [starts[v], starts[v + 1])
        self.starts = np.concatenate([[0], np.cumsum(self.unigram)]).astype(np.int64)

    # ---- building ---------------------------------------------------------------------------
    @classmethod
    def from_sentences(cls, sentences: Iterable[Sequence[str]], vocab: Vocabulary | None = None,
                       builder: str = "auto") -> "SuffixArrayIndex":
        """Index tokenised sentences (a re-iterable corpus; read twice if no vocabulary is given)."""
        if vocab is None:
            vocab = Vocabulary.build(sentences)
        parts = [np.array([EOS_ID])]
        for sentence in sentences:
            parts.append(vocab.encode(sentence))
            parts.append(np.array([EOS_ID]))
        ids = np.concatenate(parts)
        return cls.from_ids(ids, vocab, builder)

    @classmethod
    def from_ids(cls, ids: np.ndarray, vocab: Vocabulary, builder: str = "auto") -> "SuffixArrayIndex":
        """Index a token array already in the layout above (</s>-separated, </s> first)."""
        ids = np.asarray(ids)
        if len(ids) < 2 or ids[0] != EOS_ID or ids[-1] != EOS_ID:
            raise NextwordError("an index needs at least one sentence: ids must start and end with </s>")
        if ids.min() < 0 or ids.max() >= len(vocab) or (ids == BOS_ID).any():
            raise NextwordError("token ids must be vocabulary ids other than <s>")
        check_memory(len(ids))
        tokens = ids.astype(token_dtype(len(vocab)), copy=False)
        sa = suffix_array(tokens, builder)
        unigram = np.bincount(tokens, minlength=len(vocab)).astype(np.int64)
        followers, predecessors = count_bigram_types(tokens, sa, len(vocab))
        sentences = int(unigram[EOS_ID]) - 1
        return cls(tokens, sa, unigram, followers, predecessors, vocab, sentences)

    # ---- storage ----------------------------------------------------------------------------
    def save(self, directory: str | Path, discount: float = 0.9) -> None:
        """Arrays, vocabulary, then the two model.json files last: a folder without them is
        not an index, so an interrupted save never passes for a complete one."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, attribute in ARRAYS.items():
            with atomic_path(directory / f"{name}.npy") as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, np.ascontiguousarray(getattr(self, attribute)), allow_pickle=False)
        self.vocab.save(directory / VOCAB_FILE)
        write_json_atomic(directory / MODEL_FILE, {
            "type": INDEX_TYPE, "format": FORMAT, "tokens": self.n, "sentences": self.sentences,
            "smoothing": "kneser-ney", "discount": discount,
            "token_dtype": str(self.tokens.dtype), "suffix_array_dtype": str(self.sa.dtype),
        })
        write_json_atomic(directory / INFINIGRAM_DIR / MODEL_FILE,
                          {"type": INFINIGRAM_TYPE, "index": ".."})

    @classmethod
    def open(cls, directory: str | Path, meta: dict | None = None) -> "SuffixArrayIndex":
        """Memory-map a saved index: opening costs nothing however large the corpus."""
        directory = Path(directory)
        if meta is None:
            meta = read_json(directory / MODEL_FILE)
        if not isinstance(meta, dict) or meta.get("type") != INDEX_TYPE:
            raise NextwordError(f"{directory / MODEL_FILE}: not a suffix-array index")
        if meta.get("format") != FORMAT:
            raise NextwordError(f"{directory / MODEL_FILE}: index format {meta.get('format')!r}, "
                                f"this nextword reads {FORMAT}; rebuild it with `nextword index`")
        arrays = {}
        for name, attribute in ARRAYS.items():
            path = directory / f"{name}.npy"
            try:       # a plain ndarray view of the map: no np.memmap overhead per gather
                arrays[attribute] = np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
            except (OSError, ValueError) as error:
                raise NextwordError(f"{path}: cannot read array ({error})") from None
        vocab = Vocabulary.load(directory / VOCAB_FILE)
        if len(arrays["tokens"]) != len(arrays["sa"]) or len(arrays["unigram"]) != len(vocab):
            raise NextwordError(f"{directory}: index arrays and vocabulary disagree in size")
        return cls(vocab=vocab, sentences=int(meta.get("sentences", arrays["unigram"][EOS_ID] - 1)),
                   **arrays)

    def nbytes(self) -> int:
        return sum(getattr(self, attribute).nbytes for attribute in ARRAYS.values())

    # ---- queries (see nextword.infinigram.query) --------------------------------------------
    def encode(self, words: Sequence[str]) -> np.ndarray:
        """Words -> ids for a query: <s> is the </s> in front of a sentence; a word outside the
        vocabulary gets -1, which matches nothing (not <unk>: "zebra" never occurred)."""
        ids = self.vocab.encode(list(words)).astype(np.int64)
        ids[~self.vocab.known(list(words))] = -1
        ids[ids == BOS_ID] = EOS_ID
        return ids

    def count(self, words: Sequence[str]) -> int:
        """How often the n-gram occurs in the corpus (any n; the empty n-gram: N)."""
        from nextword.infinigram.query import count

        if list(words) in (["<s>"], ["</s>"]):
            # the array holds one </s> more than there are sentences (the first's <s>): as a
            # start or as an end, a lone marker occurs once per sentence
            return self.sentences
        return int(count(self, [self.encode(words)])[0])

    def continuations(self, words: Sequence[str]) -> dict[str, int]:
        """Every word that followed the context, with its count, most frequent first."""
        from nextword.infinigram.query import continuations

        ids, counts = continuations(self, self.encode(words))
        order = np.lexsort((ids, -counts))
        return {self.vocab.tokens[i]: int(c) for i, c in zip(ids[order], counts[order])}

    def longest_suffix(self, words: Sequence[str]) -> tuple[int, int]:
        """(length, count) of the longest suffix of the context that occurs in the corpus."""
        from nextword.infinigram.query import longest_suffix

        length, count = longest_suffix(self, self.encode(words))
        return int(length), int(count)


def token_dtype(vocab_size: int):
    return np.uint16 if vocab_size <= 2**16 else np.uint32


def count_bigram_types(tokens: np.ndarray, sa: np.ndarray, vocab_size: int,
                       block: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """N1+(v •) and N1+(• v) for every v in one pass over the SA: in rank order the pairs
    (tokens[p], tokens[p + 1]) are sorted, so each distinct bigram starts where the pair
    changes; counted by its first word it gives N1+(v •), by its second N1+(• v)."""
    n = len(tokens)
    out = np.zeros(vocab_size, dtype=np.int64)
    before = np.zeros(vocab_size, dtype=np.int64)
    previous = (-1, -1)
    for start in range(0, n, block):                     # blocks bound the memory, not a hot loop
        p = np.asarray(sa[start:start + block], dtype=np.int64)
        first = tokens[p].astype(np.int64)
        nxt = np.where(p + 1 < n, tokens[np.minimum(p + 1, n - 1)].astype(np.int64), -1)
        new = np.empty(len(p), dtype=bool)
        new[0] = (first[0], nxt[0]) != previous
        new[1:] = (first[1:] != first[:-1]) | (nxt[1:] != nxt[:-1])
        new &= nxt >= 0                                  # the last token has no follower
        out += np.bincount(first[new], minlength=vocab_size)
        before += np.bincount(nxt[new], minlength=vocab_size)
        previous = (int(first[-1]), int(nxt[-1]))
    return out, before


def check_memory(n: int) -> None:
    """Refuse, with what it needs, a corpus whose build would not fit in the memory available."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    need = n * BUILD_BYTES_PER_TOKEN
    if need > available:
        fits = available // BUILD_BYTES_PER_TOKEN
        raise NextwordError(
            f"indexing {n:,} tokens needs about {need / 2**30:.1f} GiB of memory "
            f"({BUILD_BYTES_PER_TOKEN} bytes per token), {available / 2**30:.1f} GiB is free: "
            f"split the corpus into parts of at most {fits:,} tokens (one index each); an index, "
            f"once built, is memory-mapped and needs no such memory to use")


def build_index(corpus, directory: str | Path, builder: str = "auto",
                discount: float = 0.9) -> tuple[SuffixArrayIndex, dict]:
    """Build and save the index of a corpus; returns it and timings (seconds) and sizes."""
    directory = Path(directory)
    if not 0 < discount < 1:
        raise NextwordError(f"--discount must be in (0, 1), got {discount}")
    if (directory / MODEL_FILE).exists() and read_json(directory / MODEL_FILE).get("type") != INDEX_TYPE:
        raise NextwordError(f"{directory}: holds another model; choose a new folder for the index")
    t0 = time.perf_counter()
    index = SuffixArrayIndex.from_sentences(corpus, builder=builder)
    t1 = time.perf_counter()
    index.save(directory, discount)
    t2 = time.perf_counter()
    return index, {"tokens": index.n, "sentences": index.sentences, "vocabulary": len(index.vocab),
                   "build_seconds": t1 - t0, "save_seconds": t2 - t1, "bytes": index.nbytes(),
                   "bytes_per_token": index.nbytes() / index.n}
