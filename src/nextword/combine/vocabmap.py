"""Models trained on the same text may number the same words differently: map the ids.

A combination speaks the vocabulary of its first component; ``to_component[k][i]`` is the id
in component k of the word with id i in that vocabulary, so component k reads
``to_component[k][ids]`` and its distribution, read as ``logprobs_k[to_component[k]]``, lists
the words in the combination's order.
"""
from __future__ import annotations

import numpy as np

from nextword.errors import NextwordError
from nextword.text.vocabulary import Vocabulary

SHOWN = 8      # differing words named in an error message


def id_map(vocab: Vocabulary, other: Vocabulary, names: tuple[str, str] = ("first", "other")) -> np.ndarray:
    """The (len(vocab),) array of ids in `other` of each word of `vocab`; the two must hold the
    same words, else a one-line error names the words only one of them has."""
    if vocab.tokens == other.tokens:
        return np.arange(len(vocab), dtype=np.int64)
    mine, theirs = set(vocab.tokens), set(other.tokens)
    if mine != theirs:
        only_mine = sorted(mine - theirs, key=vocab.index.get)
        only_theirs = sorted(theirs - mine, key=other.index.get)
        parts = []
        for name, words in ((names[0], only_mine), (names[1], only_theirs)):
            if words:
                shown = " ".join(words[:SHOWN]) + (" ..." if len(words) > SHOWN else "")
                parts.append(f"{len(words):,} only in {name} ({shown})")
        raise NextwordError("the models must share their vocabulary, but they differ: "
                            + "; ".join(parts))
    return np.fromiter((other.index[t] for t in vocab.tokens), dtype=np.int64, count=len(vocab))
