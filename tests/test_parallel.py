"""in_pairs: every item computed once, finished in order on the calling thread, two at a time."""
from __future__ import annotations

import threading

import pytest

from nextword.parallel import in_pairs


@pytest.mark.parametrize("count", [0, 1, 2, 5, 6])
def test_every_item_finished_in_order_on_this_thread(count):
    computed, finished = [], []
    caller = threading.get_ident()

    def compute(item):
        computed.append((item, threading.get_ident()))
        return item * item

    def finish(item, result):
        assert threading.get_ident() == caller
        finished.append((item, result))

    in_pairs(iter(range(count)), compute, finish)         # an iterator, not a list
    assert finished == [(i, i * i) for i in range(count)]
    assert sorted(item for item, _ in computed) == list(range(count))
    # the second item of each pair is computed on the helper thread
    helpers = {item for item, thread in computed if thread != caller}
    assert helpers == set(range(1, count, 2))


def test_the_two_items_of_a_pair_run_at_the_same_time():
    both = threading.Barrier(2, timeout=10)          # broken (an error) if they ran in turn
    in_pairs([1, 2], lambda item: both.wait(), lambda item, result: None)


def test_an_error_in_the_helper_stops_the_loop():
    finished = []

    def compute(item):
        if item == 3:
            raise ValueError("item 3")
        return item

    with pytest.raises(ValueError, match="item 3"):
        in_pairs(range(8), compute, lambda item, result: finished.append(item))
    assert finished == [0, 1, 2]


def test_the_helper_computes_under_the_callers_numpy_error_state():
    """np.errstate is a context variable: the helper runs in a copy of the caller's context,
    so a division by zero the caller asked to raise raises there too (only the helper's item
    divides here)."""
    import numpy as np

    def compute(item):
        return np.log(np.zeros(1)) if item == 2 else item

    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            in_pairs([1, 2], compute, lambda item, result: None)
    with np.errstate(divide="ignore"):
        results = []
        in_pairs([1, 2], compute, lambda item, result: results.append(result))
    assert results[0] == 1 and results[1].tolist() == [-np.inf]
