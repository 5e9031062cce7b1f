"""Whitespace-split text from bytes to word ids, without a Python string per word.

Reading a corpus as token lists costs ~170 ns a word on this project's machine: `str.split`
makes a string object per word, then a dictionary finds its id. Here a block of whole lines
(checked UTF-8 without control characters, `nextword.fileio.read_blocks`) is numbered with
array operations:

    word bytes      every byte above 32 (after the check, the bytes <= 32 are exactly ASCII
                    whitespace: tab, LF, VT, FF, CR, space), words are the runs of them
    key of a word   its first 8 bytes as a little-endian integer, zero-padded: for a word of
                    up to 8 bytes the key *is* the word (UTF-8 text holds no zero byte), so a
                    hash table of the vocabulary's keys finds its id with no further check
    longer words    9 to 16 bytes: a 64-bit mix of both 8-byte halves finds a candidate,
                    accepted only where both halves are equal; over 16 bytes: a dictionary

The ids are the same as `str.split` and `Vocabulary.index` give (tests compare them). A block
holding a non-ASCII space (U+00A0, U+2028, ...; `str.split` splits there) is read as strings,
by `str.split` and the dictionary, inside `ids` (`token_lists`).
`evaluate` and `eval --per-line` number with a vocabulary (`WordIndex`), the training reader
without one yet (`FirstSeen`), and the ARPA reader splits its entries' fields the same way.
"""
from __future__ import annotations

from itertools import chain, repeat

import numpy as np

from nextword.fileio import block_lines
from nextword.ngram import hashing

SHORT, MEDIUM = 8, 16           # bytes: a word's key is exact up to SHORT, checked up to MEDIUM
_MASK = np.array([(1 << (8 * n)) - 1 for n in range(SHORT)] + [(1 << 64) - 1], dtype=np.uint64)
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9),
        np.uint64(0x27D4EB2F165667C5))
NEWLINE = ord("\n")


def split_words(block: bytes) -> tuple | None:
    """(words, starts, lengths, per_line) of a checked block of whole lines: `words` the block
    as uint64 words (zero-padded, for `word_keys`), the first byte and length of every word, and
    how many words each line holds. None when a line holds a non-ASCII space."""
    if not block.endswith(b"\n"):
        block += b"\n"                          # the last line, unterminated, is a line too
    size = len(block)
    padded = block + bytes(MEDIUM + (-size) % 8)
    data = np.frombuffer(padded, dtype=np.uint8)
    if not block.isascii() and unicode_spaces(data):
        return None
    data = data[:size]
    inside = data > 32
    edges = np.flatnonzero(inside[1:] != inside[:-1]) + 1
    if inside[0]:
        edges = np.concatenate([[0], edges])
    starts = edges[0::2]
    lengths = edges[1::2] - starts
    per_line = np.diff(np.searchsorted(starts, np.flatnonzero(data == NEWLINE)), prepend=0)
    return np.frombuffer(padded, dtype="<u8"), starts, lengths, per_line


def token_lists(block: bytes) -> tuple:
    """(words, per_line) of a checked block read as strings, as `read_lines` and `str.split` read
    it (for a block `split_words` leaves to strings): its words in order and how many each line
    holds."""
    lines = [line.split() for line in block_lines(block.decode("utf-8"))]
    return (list(chain.from_iterable(lines)),
            np.fromiter(map(len, lines), dtype=np.int64, count=len(lines)))


def unicode_spaces(data: np.ndarray) -> bool:
    """Does UTF-8 text (uint8, two bytes of padding at least) hold a character above U+007F that
    str.isspace() calls whitespace: U+0085, U+00A0 (C2 85, C2 A0), U+1680 (E1 9A 80),
    U+2000-U+200A, U+2028, U+2029, U+202F (E2 80 xx), U+205F (E2 81 9F), U+3000 (E3 80 80)?
    Only their lead bytes are searched in the whole text (a regular expression of the nine
    sequences took 6 ns a byte, this 0.3)."""
    lead = np.flatnonzero((data == 0xC2) | ((data - np.uint8(0xE1)) <= 2))
    if not len(lead):
        return False
    first, second, third = data.take(lead), data.take(lead + 1), data.take(lead + 2)
    two = (first == 0xC2) & ((second == 0x85) | (second == 0xA0))
    three = ((first == 0xE1) & (second == 0x9A) & (third == 0x80)) | (
        (first == 0xE2) & (second == 0x80) & ((third <= 0x8A) | (third == 0xA8) | (third == 0xA9)
                                              | (third == 0xAF))) | (
        (first == 0xE2) & (second == 0x81) & (third == 0x9F)) | (
        (first == 0xE3) & (second == 0x80) & (third == 0x80))
    return bool((two | three).any())


def word_keys(words: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The first min(length, 8) bytes of each word as a little-endian uint64, zero above: two
    aligned reads joined by shifts (an unaligned gather in NumPy costs twice as much)."""
    q = starts >> 3
    bits = ((starts & 7) << 3).astype(np.uint64)
    key = words.take(q)
    key >>= bits
    high = words.take(q + 1)
    high <<= np.uint64(63) - bits                   # two shifts: a shift by 64 is undefined
    high <<= np.uint64(1)
    key |= high
    key &= _MASK.take(np.minimum(lengths, SHORT))
    return key


def _mix(first: np.ndarray, second: np.ndarray, salt: int) -> np.ndarray:
    """A 64-bit key of a word of 9 to 16 bytes, from its two halves (collisions only cost a
    check: the halves are compared)."""
    a, b = _MIX[salt % len(_MIX)], _MIX[(salt + 1) % len(_MIX)]
    with np.errstate(over="ignore"):
        h = first * a
        h ^= second * b
    return h.view(np.int64)


def _slots_of(tokens: list) -> tuple:
    """(words, lengths): each token's first 16 UTF-8 bytes in a slot of 16 (zero-padded; NumPy's
    fixed-width bytes cut the rest) of a uint64 array, and its length in bytes."""
    encoded = list(map(str.encode, tokens))
    slots = np.array(encoded + [b""], dtype=f"S{MEDIUM}")
    return slots.view("<u8"), np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))


class WordIndex:
    """A vocabulary's words as byte keys (see module doc): `ids(block)` numbers the words of a
    block of text as `index.get(word, -1)` would (`index`: the vocabulary's dictionary, for the
    blocks read as strings)."""

    def __init__(self, tokens: list, index: dict):
        self.index = index
        words, lengths = _slots_of(tokens)
        # a token holding a byte <= 32 (a space, or a NUL that would read as padding) is never
        # a word of checked text: it is left out (its bytes past 16 are not looked at: a token
        # that long goes to the dictionary, which such a word never reaches either)
        spaced = (words.view(np.uint8).reshape(-1, MEDIUM)[:len(tokens)] <= 32)
        spaced &= np.arange(MEDIUM) < lengths[:, None]
        usable = (lengths >= 1) & ~spaced.any(axis=1)
        starts = np.arange(len(tokens), dtype=np.int64) * MEDIUM
        first = word_keys(words, starts, lengths)
        second = word_keys(words, starts + SHORT, np.clip(lengths - SHORT, 0, SHORT))
        short = np.flatnonzero(usable & (lengths <= SHORT))
        self.short = hashing.KeyTable(first.take(short).view(np.int64), short)     # key -> id
        medium = np.flatnonzero(usable & (lengths > SHORT) & (lengths <= MEDIUM))
        self.medium_first, self.medium_second = first.take(medium), second.take(medium)
        self.medium_ids = medium.astype(np.int64)
        # a salt under which no two of the vocabulary's medium words share a key and none is 0
        # (distinct words have distinct halves: one fails only with a 64-bit collision, 4 in a
        # row never)
        self.salt = next(s for s in range(len(_MIX)) if self._distinct(_mix(
            self.medium_first, self.medium_second, s)))
        # mixed key -> the word's place among the medium words
        self.medium = hashing.KeyTable(_mix(self.medium_first, self.medium_second, self.salt),
                                       np.arange(len(medium)))
        self.long = {tokens[i]: i for i in np.flatnonzero(usable & (lengths > MEDIUM)).tolist()}

    def ids(self, block: bytes) -> tuple:
        """(ids, per_line) of a checked block of whole lines: the id of every word (int64, -1
        where the vocabulary lacks it) and how many words each line holds."""
        split = split_words(block)
        if split is None:                       # a non-ASCII space: read as strings
            words, per_line = token_lists(block)
            return np.fromiter(map(self.index.get, words, repeat(-1)), dtype=np.int64,
                               count=len(words)), per_line
        words, starts, lengths, per_line = split
        return self.lookup(block, words, starts, lengths), per_line

    def lookup(self, block: bytes, words: np.ndarray, starts: np.ndarray,
               lengths: np.ndarray) -> np.ndarray:
        """Ids of the words at `starts` (of `lengths` bytes) of a block split by `split_words`
        (`words`: its uint64 words), -1 where the vocabulary lacks one."""
        first = word_keys(words, starts, lengths)
        ids = self.short.get(first.view(np.int64))
        longer = np.flatnonzero(lengths > SHORT)
        if len(longer):
            medium = longer[lengths.take(longer) <= MEDIUM]
            if len(medium):
                ids[medium] = self._medium_ids(words, starts.take(medium), lengths.take(medium),
                                               first.take(medium))
            for at in longer[lengths.take(longer) > MEDIUM].tolist():
                start = int(starts[at])
                word = block[start:start + int(lengths[at])].decode("utf-8")
                ids[at] = self.long.get(word, -1)
        return ids

    @staticmethod
    def _distinct(keys: np.ndarray) -> bool:
        return len(np.unique(keys)) == len(keys) and bool(keys.all())

    def _medium_ids(self, words, starts, lengths, first) -> np.ndarray:
        if not len(self.medium_ids):
            return np.full(len(starts), -1, dtype=np.int64)
        second = word_keys(words, starts + SHORT, lengths - SHORT)
        rows = self.medium.get(_mix(first, second, self.salt))
        safe = np.maximum(rows, 0)
        same = ((rows >= 0) & (self.medium_first.take(safe) == first)
                & (self.medium_second.take(safe) == second))
        return np.where(same, self.medium_ids.take(safe), -1)


class FirstSeen:
    """Provisional ids for the words of blocks of text while the vocabulary is still being read
    (`nextword.text.vocabulary.CorpusIds`). `numbers`, a dictionary from word to id whose
    missing words take the next id, stays the authority; the keys of the words of up to 8 bytes
    seen so far sit in a hash table, so that a block costs one probe per word and only words not
    seen before are made strings. Words of 9 bytes or more are made strings once per block in
    which they occur."""

    def __init__(self, numbers: dict):
        self.numbers = numbers
        self.table = hashing.KeyTable(np.empty(0, np.int64), np.empty(0, np.int64))  # key -> id
        self.recent: dict = {}                          # key -> id, seen since the table was made

    def ids(self, block: bytes) -> tuple:
        """(ids, per_line) of a checked block of whole lines, as `WordIndex.ids`."""
        split = split_words(block)
        if split is None:                       # a non-ASCII space: read as strings
            words, per_line = token_lists(block)
            return np.fromiter(map(self.numbers.__getitem__, words), dtype=np.int64,
                               count=len(words)), per_line
        words, starts, lengths, per_line = split
        first = word_keys(words, starts, lengths).view(np.int64)
        ids = np.empty(len(starts), dtype=np.int64)
        short = np.flatnonzero(lengths <= SHORT)
        ids[short] = self._short_ids(first.take(short))
        longer = np.flatnonzero(lengths > SHORT)
        if len(longer):
            ids[longer] = self._longer_ids(block, words, starts.take(longer), lengths.take(longer),
                                           first.take(longer))
        return ids, per_line

    def _short_ids(self, keys: np.ndarray) -> np.ndarray:
        ids = self.table.get(keys)
        unknown = np.flatnonzero(ids < 0)
        if not len(unknown):
            return ids
        new, inverse = np.unique(keys.take(unknown), return_inverse=True)
        ids[unknown] = np.fromiter(map(self._id_of_key, new.tolist()), dtype=np.int64,
                                   count=len(new)).take(inverse)
        if len(self.recent) > max(1024, len(self.table) // 4):     # grown: make the table again
            keys, key_ids = self.table.items()
            self.table = hashing.KeyTable(
                np.concatenate([keys, np.fromiter(self.recent, np.int64)]),
                np.concatenate([key_ids, np.fromiter(self.recent.values(), np.int64)]))
            self.recent.clear()
        return ids

    def _id_of_key(self, key: int) -> int:
        found = self.recent.get(key)
        if found is None:
            word = (key % (1 << 64)).to_bytes(SHORT, "little").rstrip(b"\0").decode("utf-8")
            found = self.recent[key] = self.numbers[word]
        return found

    def _longer_ids(self, block, words, starts, lengths, first) -> np.ndarray:
        """Ids of words over 8 bytes: those of up to 16 made a string once per distinct word
        of the block (the first occurrence of each 64-bit key; every occurrence is checked to
        hold the same bytes), longer ones one by one (rare)."""
        ids = np.empty(len(starts), dtype=np.int64)
        medium = np.flatnonzero(lengths <= MEDIUM)
        if len(medium):
            at = starts.take(medium)
            one, n = first.take(medium).view(np.uint64), lengths.take(medium)
            two = word_keys(words, at + SHORT, n - SHORT)
            _, first_of, inverse = np.unique(_mix(one, two, 0), return_index=True,
                                             return_inverse=True)
            if not ((one.take(first_of).take(inverse) == one).all()
                    and (two.take(first_of).take(inverse) == two).all()):
                first_of = inverse = np.arange(len(medium))     # a shared key: one by one
            found = [self.numbers[block[s:s + k].decode("utf-8")]
                     for s, k in zip(at.take(first_of).tolist(), n.take(first_of).tolist())]
            ids[medium] = np.array(found, dtype=np.int64).take(inverse)
        for i in np.flatnonzero(lengths > MEDIUM).tolist():
            start = int(starts[i])
            ids[i] = self.numbers[block[start:start + int(lengths[i])].decode("utf-8")]
        return ids
