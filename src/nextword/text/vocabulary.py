"""The vocabulary: reserved <unk>, <s>, </s>, then words by falling count; saved as plain text."""
from __future__ import annotations

from collections import Counter
from itertools import chain, repeat
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from nextword.checks import check_number
from nextword.errors import NextwordError, where
from nextword.fileio import read_lines, write_text_atomic

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
RESERVED = (UNK, BOS, EOS)
ID_DTYPE = np.int32


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

    def decode(self, ids: Iterable[int]) -> list[str]:
        if isinstance(ids, np.ndarray):     # Python ints index the list without a NumPy scalar each
            ids = ids.tolist()
        return list(map(self.tokens.__getitem__, ids))

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
