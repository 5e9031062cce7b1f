"""The vocabulary: reserved <unk>, <s>, </s>, then words by falling count; saved as plain text."""
from __future__ import annotations

from collections import Counter, defaultdict
from functools import partial
from itertools import chain, count, islice, repeat
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from nextword.checks import check_number
from nextword.errors import NextwordError, where
from nextword.fileio import read_lines, write_text_atomic

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
RESERVED = (UNK, BOS, EOS)
ID_DTYPE = np.int32
READ_BLOCK = 256          # sentences encoded per NumPy call by `read_corpus`


def check_token_lists(sentences: Sequence) -> None:
    """Refuse sentences given as strings, each of which would be read as its characters. The
    first of a block is looked at: testing every one took 0.12 ms of the 3.3 that numbering PTB
    test's sentences takes."""
    if len(sentences) and isinstance(sentences[0], str):
        raise NextwordError(
            "the sentences are strings, which would be read one character a token: give token "
            "lists (line.split()), or lines_corpus(lines) for lines of text")


class Vocabulary:
    """Maps tokens to integer ids and back.

    Ids 0, 1, 2 are <unk>, <s>, </s>; the literal token "<unk>" found in PTB or WikiText is the
    unknown word itself. <s> is context only: models give it no probability, so the number of
    outcomes a model predicts over is ``len(vocab) - 1`` (``vocab.num_outcomes``).

    >>> v = Vocabulary.build([["a", "b"], ["a", "c"]])
    >>> v.tokens
    ['<unk>', '<s>', '</s>', 'a', 'b', 'c']
    >>> v.encode(["a", "zebra"]).tolist()
    [3, 0]
    """

    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None):
        tokens = list(tokens)
        if tuple(tokens[:3]) != RESERVED:
            raise NextwordError(f"a vocabulary must start with {', '.join(RESERVED)}")
        self.tokens = tokens
        self.counts = list(counts) if counts is not None else [0] * len(tokens)
        self.index = {token: i for i, token in enumerate(tokens)}
        if len(self.index) != len(tokens):
            raise NextwordError("a vocabulary lists a token twice")

    @classmethod
    def build(
        cls,
        sentences: Iterable[Sequence[str]],
        min_count: int = 1,
        max_size: int | None = None,
    ) -> "Vocabulary":
        """Count tokens of the training sentences; keep those seen `min_count` times, the
        `max_size` most frequent at most (reserved entries included), ties broken by the token."""
        check_number("--min-count", min_count, 1, whole=True)
        # three entries are reserved: a vocabulary needs a fourth to hold any word
        check_number("--max-vocab", max_size, len(RESERVED) + 1, whole=True, allow_none=True)
        num_sentences = 0

        def counted():
            nonlocal num_sentences
            for sentence in sentences:
                if not num_sentences:
                    check_token_lists([sentence])
                num_sentences += 1
                yield sentence

        counter: Counter[str] = Counter(chain.from_iterable(counted()))   # one C-level count
        return cls.from_counts(counter, num_sentences, min_count, max_size)

    @classmethod
    def from_counts(cls, counter: dict, num_sentences: int, min_count: int = 1,
                    max_size: int | None = None) -> "Vocabulary":
        """`build` from token counts made elsewhere (a distributed count): the same rules."""
        if min_count < 1:
            raise NextwordError(f"min_count must be >= 1, got {min_count}")
        if max_size is not None and max_size < len(RESERVED):
            raise NextwordError(f"max_size must be >= {len(RESERVED)}, got {max_size}")
        counter = dict(counter)
        unk_count = counter.pop(UNK, 0)
        counter.pop(BOS, None)
        counter.pop(EOS, None)
        kept = sorted(
            (item for item in counter.items() if item[1] >= min_count),
            key=lambda item: (-item[1], item[0]),
        )
        if max_size is not None:
            kept = kept[: max_size - len(RESERVED)]
        if not kept:
            # a model of <unk> alone predicts nothing useful: say why there is no word
            if not counter:
                raise NextwordError(f"the training text has no words ({num_sentences:,} "
                                    f"sentence(s), all empty or reserved tokens)")
            word, count = min(counter.items(), key=lambda item: (-item[1], item[0]))
            raise NextwordError(f"--min-count {min_count:,} keeps no word of the training text "
                                f"(its most frequent word, {word!r}, occurs {count:,} times)")
        dropped = sum(counter.values()) - sum(c for _, c in kept)
        tokens = list(RESERVED) + [t for t, _ in kept]
        counts = [unk_count + dropped, num_sentences, num_sentences] + [c for _, c in kept]
        return cls(tokens, counts)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    @property
    def num_outcomes(self) -> int:
        """|V| of the formulas: every token a model can predict (all but <s>)."""
        return len(self.tokens) - 1

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Token strings -> ids in one pass in C (map over the dict); unknown tokens -> <unk>."""
        return np.fromiter(
            map(self.index.get, tokens, repeat(UNK_ID)), dtype=ID_DTYPE, count=len(tokens)
        )

    def known(self, tokens: Sequence[str]) -> np.ndarray:
        """Boolean mask: which tokens are in the vocabulary (the literal "<unk>" is)."""
        return np.fromiter(map(self.index.__contains__, tokens), dtype=bool, count=len(tokens))

    def word_index(self):
        """The words as byte keys (`nextword.text.byteread.WordIndex`), made on first use (11 ms
        for PTB's 10,000 words) and kept."""
        if getattr(self, "_word_index", None) is None:
            from nextword.text.byteread import WordIndex

            self._word_index = WordIndex(self.tokens, self.index)
        return self._word_index

    def decode(self, ids: Iterable[int]) -> list[str]:
        if isinstance(ids, np.ndarray):     # Python ints index the list without a NumPy scalar each
            ids = ids.tolist()
        return list(map(self.tokens.__getitem__, ids))

    def decode_all(self, sentences: Sequence[np.ndarray]) -> list[list[str]]:
        """Many sentences of ids as token lists: one gather over all their ids in an array of
        the token strings, then a slice per sentence (`decode` pays a NumPy call and a lookup
        per token for each sentence: 2.3 against 0.4 us for a PTB sentence)."""
        if getattr(self, "_token_objects", None) is None:
            self._token_objects = np.array(self.tokens, dtype=object)
        if not len(sentences):
            return []
        words = self._token_objects[np.concatenate(sentences)].tolist()
        bounds = np.cumsum([0, *map(len, sentences)]).tolist()
        return [words[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    def save(self, path: str | Path) -> None:
        """One `token<TAB>count` line per entry, in id order: readable and diffable."""
        write_text_atomic(path, "".join(f"{t}\t{c}\n" for t, c in zip(self.tokens, self.counts)))

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        tokens, counts = [], []
        for number, line in enumerate(read_lines(path), start=1):
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0] or not parts[1].isdigit():
                raise NextwordError(f"{where(path, number)}: expected 'token<TAB>count', got {line!r}")
            tokens.append(parts[0])
            counts.append(int(parts[1]))
        if not tokens:
            raise NextwordError(f"{path}: empty vocabulary file")
        try:
            return cls(tokens, counts)
        except NextwordError as error:
            raise NextwordError(f"{path}: {error}") from None


class CorpusIds:
    """A corpus read once into word ids, a block of sentences at a time, and its vocabulary.

    Without a given vocabulary each new token takes the next provisional id when first seen (a
    dict whose default is a counter, so the lookups run in C, a block per NumPy call; a corpus
    that gives its bytes is numbered from them, `nextword.text.byteread.FirstSeen`, with the same
    dict); once the whole corpus is read, `vocabulary` orders the words by count as
    `Vocabulary.build` does and returns the map from provisional ids to its ids. With one, ids
    are final from the start."""

    def __init__(self, vocab: Vocabulary | None = None, min_count: int = 1,
                 max_size: int | None = None):
        self.given, self.min_count, self.max_size = vocab, min_count, max_size
        if vocab is None:
            check_number("--min-count", min_count, 1, whole=True)
            check_number("--max-vocab", max_size, len(RESERVED) + 1, whole=True, allow_none=True)
            self.first_seen: dict = defaultdict(count().__next__)
            self._ids = partial(map, self.first_seen.__getitem__)
        else:
            self._ids = lambda tokens: map(vocab.index.get, tokens, repeat(UNK_ID))  # noqa: E731

    def blocks(self, sentences: Iterable[Sequence[str]]) -> Iterator[tuple]:
        """(ids, lengths) of each block of READ_BLOCK sentences; of each block of bytes for a
        corpus that gives them (`Corpus.blocks`: numbered without a string per word)."""
        source = getattr(sentences, "blocks", None)
        if source is not None:
            yield from self._byte_blocks(source())
            return
        iterator = iter(sentences)
        while block := list(islice(iterator, READ_BLOCK)):
            yield self._block_ids(block)

    def _block_ids(self, block: list) -> tuple:
        check_token_lists(block)
        lengths = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
        ids = np.fromiter(self._ids(chain.from_iterable(block)), dtype=ID_DTYPE,
                          count=int(lengths.sum()))
        return ids, lengths

    def _byte_blocks(self, blocks: Iterable[bytes]) -> Iterator[tuple]:
        from nextword.text.byteread import FirstSeen

        reader = self.given.word_index() if self.given is not None else FirstSeen(self.first_seen)
        for block in blocks:
            ids, lengths = reader.ids(block)
            if self.given is not None:
                ids[ids < 0] = UNK_ID
            yield ids.astype(ID_DTYPE), lengths

    def vocabulary(self, seen: np.ndarray, num_sentences: int) -> tuple:
        """(vocabulary, final id of each provisional id, or None when the ids are final), from
        `seen`, the bincount of the ids read."""
        if self.given is not None:
            return self.given, None
        vocab = Vocabulary.from_counts(dict(zip(self.first_seen, seen.tolist())), num_sentences,
                                       self.min_count, self.max_size)
        final = np.fromiter(map(vocab.index.get, self.first_seen, repeat(UNK_ID)), dtype=ID_DTYPE,
                            count=len(self.first_seen))
        return vocab, final


def read_corpus(sentences: Iterable[Sequence[str]], vocab: Vocabulary | None = None,
                min_count: int = 1, max_size: int | None = None) -> tuple:
    """(vocabulary, word ids, sentence lengths) of a corpus read once (CorpusIds): the
    vocabulary, unless given, comes from the same pass as the ids, with `Vocabulary.build`'s
    rules. Holds 4 bytes per token, not the text: the corpus need not be re-iterable."""
    reader = CorpusIds(vocab, min_count, max_size)
    words, lengths = [], []
    for ids, sizes in reader.blocks(sentences):
        words.append(ids)
        lengths.append(sizes)
    words = np.concatenate(words) if words else np.empty(0, dtype=ID_DTYPE)
    lengths = np.concatenate(lengths) if lengths else np.empty(0, dtype=np.int64)
    vocab, final = reader.vocabulary(np.bincount(words), len(lengths))
    if final is not None:
        np.take(final, words, out=words)
    return vocab, words, lengths
