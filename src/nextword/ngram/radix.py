"""Stable sorting of integer keys by 16-bit digits, least significant first (LSD radix sort).

NumPy's stable argsort of a uint16 array is a radix sort (linear time); of an int64 array it is
a merge sort (timsort), and its default quicksort is no faster on random keys: ~105 ns per key
at a few million keys here, where one 16-bit pass costs ~15-25 ns (the argsort of the digit and
two gathers). A key of b bits takes ceil(b / 16) passes, so the n-gram keys (trie keys of 20-40
bits, 5-grams of 16-bit word ids) sort 1.5-3x faster, with np.argsort(kind="stable")'s order.
"""
from __future__ import annotations

import numpy as np

DIGIT_BITS = 16


def digits(values: np.ndarray, bits: int) -> list:
    """The 16-bit digits (uint16) of non-negative integers below 2**bits, least significant
    first; at least one."""
    return [((values >> shift) if shift else values).astype(np.uint16)
            for shift in range(0, max(bits, 1), DIGIT_BITS)]


def lex_argsort(keys: list) -> np.ndarray:
    """The stable order of rows by several digit arrays (uint16, least significant first), as
    np.lexsort(keys) orders them."""
    order = None
    for digit in keys:
        step = np.argsort(digit if order is None else digit[order], kind="stable")
        order = step if order is None else order[step]
    return order


def argsort(values: np.ndarray, bits: int) -> np.ndarray:
    """np.argsort(values, kind="stable") for non-negative integers below 2**bits."""
    if len(values) == 0:
        return np.empty(0, dtype=np.intp)
    return lex_argsort(digits(values, bits))


def first_of_runs(ordered: np.ndarray) -> np.ndarray:
    """For sorted values: True where a value differs from the one before it."""
    new = np.empty(len(ordered), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    return new


def unique(values: np.ndarray, bits: int, return_inverse: bool = False,
           overwrite: bool = False, return_first: bool = False) -> tuple:
    """np.unique(values, return_counts=True[, return_inverse=True]) for non-negative integers
    below 2**bits: (sorted distinct values, their counts[, the index of each value's]
    [, where each distinct value first occurs in `values`], in that order).
    With `overwrite`, `values` is sorted in place (one array fewer at the peak)."""
    order = argsort(values, bits)
    if overwrite:
        values[:] = values.take(order)
        ordered = values
    else:
        ordered = values.take(order)
    new = first_of_runs(ordered)
    starts = np.flatnonzero(new)
    distinct = ordered.take(starts)
    counts = np.diff(np.append(starts, len(ordered)))
    first = (order.take(starts),) if return_first else ()   # the sort is stable: the first
    del starts
    if not return_inverse:
        return (distinct, counts, *first)
    del ordered, values                         # the ranks need `new` and `order` only
    rank = np.cumsum(new, dtype=np.intp)
    del new
    rank -= 1
    inverse = np.empty(len(rank), dtype=np.intp)
    inverse[order] = rank
    return (distinct, counts, inverse, *first)
