"""Tokenisers: whitespace splitting for pre-tokenised corpora, a Unicode word tokenizer for raw text.

>>> word_tokenize("Le café coûte 3,50 €, n'est-ce pas?")
['Le', 'café', 'coûte', '3,50', '€', ',', "n'est-ce", 'pas', '?']
>>> word_tokenize("한국어를 배웁니다.")
['한국어를', '배웁니다', '.']
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable

# A word is a run of letters, digits and combining marks (any script: \w is Unicode-aware),
# possibly joined by an apostrophe, hyphen, dot or comma *between* two word characters
# ("don't", "state-of-the-art", "3.14", "3,50"). Any other non-space character is a token alone.
_WORD = re.compile(r"\w+(?:[-'’.,]\w+)*|[^\w\s]", re.UNICODE)


def whitespace_tokenize(line: str) -> list[str]:
    """Split on whitespace: the convention of PTB and WikiText, which arrive tokenised."""
    return line.split()


def word_tokenize(line: str, lowercase: bool = False) -> list[str]:
    """Split raw text into words and punctuation marks, in any script (NFC-normalised first)."""
    line = unicodedata.normalize("NFC", line)
    if lowercase:
        line = line.lower()
    return _WORD.findall(line)


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "whitespace": whitespace_tokenize,
    "word": word_tokenize,
    "word-lower": lambda line: word_tokenize(line, lowercase=True),
}


def get_tokenizer(name: str) -> Callable[[str], list[str]]:
    from nextword.errors import NextwordError

    try:
        return TOKENIZERS[name]
    except KeyError:
        raise NextwordError(
            f"unknown tokenizer {name!r}; choose one of {', '.join(TOKENIZERS)}"
        ) from None
