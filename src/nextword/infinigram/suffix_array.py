"""The suffix array of a token-id array: libdivsufsort (pydivsufsort) or NumPy prefix doubling.

SA[r] is the start of the r-th smallest suffix of the token array, comparing suffixes token by
token, a suffix that is a prefix of another (it ran into the end of the array) being smaller.
All suffixes that begin with a string u then lie in one range of ranks [lo, hi): that is what
makes the count of any n-gram two binary searches (see `nextword.infinigram.query`).
"""
from __future__ import annotations

import numpy as np

from nextword.errors import NextwordError

BUILDERS = ("auto", "divsufsort", "numpy")


def suffix_array(tokens: np.ndarray, builder: str = "auto") -> np.ndarray:
    """SA of `tokens` (unsigned ints) as int32 when it has fewer than 2**31 entries, else int64.

    builder "divsufsort": libdivsufsort through pydivsufsort (the `index` extra), O(N log N)
    in C; "numpy": prefix doubling below, no dependency, several times slower (measured in
    docs/infinigram.md); "auto": divsufsort when installed, else numpy.
    """
    if builder not in BUILDERS:
        raise NextwordError(f"unknown suffix-array builder {builder!r}; choose one of {', '.join(BUILDERS)}")
    if builder == "auto":
        try:
            import pydivsufsort  # noqa: F401
            builder = "divsufsort"
        except ModuleNotFoundError:
            builder = "numpy"
    if builder == "divsufsort":
        sa = _divsufsort(tokens)
    else:
        sa = suffix_array_numpy(tokens)
    return sa.astype(index_dtype(len(tokens)), copy=False)


def index_dtype(n: int):
    return np.int32 if n < 2**31 else np.int64


def _divsufsort(tokens: np.ndarray) -> np.ndarray:
    try:
        from pydivsufsort import divsufsort
    except ModuleNotFoundError:
        raise NextwordError("the divsufsort builder needs pydivsufsort, which is not installed: "
                            "pip install 'nextword[index]' (or use --builder numpy)") from None
    if len(tokens) == 0:
        return np.zeros(0, dtype=np.int64)
    # pydivsufsort sorts the big-endian bytes of wider integers and keeps the suffixes that start
    # on a token boundary: byte order is then token order
    return np.asarray(divsufsort(np.ascontiguousarray(tokens)))


def suffix_array_numpy(tokens: np.ndarray) -> np.ndarray:
    """Prefix doubling (Manber & Myers 1993) with NumPy sorts.

    rank_h[i] orders suffixes by their first h tokens; sorting the pairs
    (rank_h[i], rank_h[i + h]) gives rank_2h (a suffix shorter than i + h gets -1 there, so it
    sorts first). Stop when every rank is distinct: after ceil(log2(L + 1)) rounds, L the
    longest repeated substring. Each round is one stable argsort of N int64 keys.
    """
    n = len(tokens)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # dense ranks of the single tokens (0..n-1 fits the pair key below)
    _, rank = np.unique(tokens, return_inverse=True)
    rank = rank.astype(np.int64).reshape(-1)
    order = np.argsort(rank, kind="stable")
    h = 1
    while True:
        second = np.full(n, -1, dtype=np.int64)
        second[: n - h] = rank[h:] if h < n else second[:0]
        key = rank * (n + 1) + (second + 1)                  # (rank_h[i], rank_h[i+h]) in one int64
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        new_group = np.empty(n, dtype=bool)
        new_group[0] = True
        np.not_equal(sorted_key[1:], sorted_key[:-1], out=new_group[1:])
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.cumsum(new_group) - 1               # dense rank of the 2h-prefix
        if new_group.all():
            return order
        h *= 2
