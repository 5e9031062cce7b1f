"""The radix sort gives NumPy's stable orders: np.argsort(kind="stable"), np.lexsort, np.unique."""
import numpy as np
import pytest

from nextword.ngram import radix


@pytest.mark.parametrize("bits", [1, 7, 16, 17, 33, 62])
def test_argsort_and_unique_are_numpys(bits):
    rng = np.random.default_rng(bits)
    values = rng.integers(0, 1 << bits, size=5000, dtype=np.int64)
    values[:2000] = values[2000:4000]                   # repeats at every width: stability shows
    assert np.array_equal(radix.argsort(values, bits), np.argsort(values, kind="stable"))
    distinct, counts, inverse = radix.unique(values, bits, return_inverse=True)
    expected = np.unique(values, return_counts=True, return_inverse=True)
    assert np.array_equal(distinct, expected[0]) and np.array_equal(inverse, expected[1])
    assert np.array_equal(counts, expected[2])
    assert all(np.array_equal(a, b) for a, b in zip(radix.unique(values, bits), (expected[0], expected[2])))


def test_by_hand():
    """Digits of 0x1_0002 over 17 bits: 0x0002, then 0x0001. Keys 5 3 5 0: stable order 3 1 0 2."""
    assert [d.tolist() for d in radix.digits(np.array([0x10002]), 17)] == [[2], [1]]
    assert radix.argsort(np.array([5, 3, 5, 0]), 3).tolist() == [3, 1, 0, 2]
    distinct, counts, inverse = radix.unique(np.array([5, 3, 5, 0]), 3, return_inverse=True)
    assert (distinct.tolist(), counts.tolist(), inverse.tolist()) == ([0, 3, 5], [1, 1, 2], [2, 1, 2, 0])
    assert radix.argsort(np.empty(0, np.int64), 8).tolist() == []
    assert [a.tolist() for a in radix.unique(np.empty(0, np.int64), 8)] == [[], []]


def test_sorted_search_is_searchsorted_for_keys_and_for_floats():
    """Many queries are sorted first (by radix for non-negative integer keys): the answers are
    np.searchsorted's, for keys, for keys with a negative one, and for cumulative sums."""
    from nextword.ngram.counts import SORT_QUERIES_ABOVE, sorted_search

    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 1 << 34, size=10000))
    cum = np.cumsum(rng.random(1000) * 1000)                # up to ~500,000: past 16 bits
    many = 2 * SORT_QUERIES_ABOVE
    for table, query in ((keys, rng.integers(0, 1 << 34, size=many)),
                         (keys, np.append(rng.integers(0, 1 << 34, size=many), -5)),
                         (cum, rng.random(many) * cum[-1])):
        for side in ("left", "right"):
            assert np.array_equal(sorted_search(table, query, side), np.searchsorted(table, query, side))


def test_unique_overwrite_sorts_in_place_with_the_same_result():
    rng = np.random.default_rng(5)
    values = rng.integers(0, 1 << 20, size=3000, dtype=np.int64)
    expected = radix.unique(values.copy(), 20, return_inverse=True)
    mine = values.copy()
    got = radix.unique(mine, 20, return_inverse=True, overwrite=True)
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    assert np.array_equal(mine, np.sort(values))            # the caller's array, sorted
    assert radix.unique(np.array([5, 3, 5, 0]), 3, overwrite=True)[1].tolist() == [1, 1, 2]


def test_unique_gives_where_each_value_first_occurs():
    """Keys 5 3 5 0: 0 first at 3, 3 at 1, 5 at 0; with and without the inverse."""
    assert radix.unique(np.array([5, 3, 5, 0]), 3, return_first=True)[2].tolist() == [3, 1, 0]
    values = np.random.default_rng(2).integers(0, 50, size=2000, dtype=np.int64)
    distinct, _, inverse, first = radix.unique(values.copy(), 6, return_inverse=True,
                                               return_first=True, overwrite=True)
    expected = np.unique(values, return_index=True)
    assert np.array_equal(distinct, expected[0]) and np.array_equal(first, expected[1])
    assert np.array_equal(values[first], distinct) and np.array_equal(distinct[inverse], values)
