"""The hash tables over the trie's keys: the same rows as a binary search, saved with the model,
and the scorer that walks them gives what the token-by-token distribution gives."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nextword.errors import NextwordError
from nextword.model import load_model
from nextword.ngram import hashing
from nextword.ngram.counts import lookup
from nextword.ngram.estimators import make_estimator
from nextword.ngram.model import NgramModel


def binary_search_rows(keys, query):
    return lookup(keys, 1, query, np.zeros(len(query), dtype=np.int64))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10**12), max_size=300, unique=True),
       st.lists(st.integers(-5, 10**12), max_size=100))
def test_find_agrees_with_binary_search(keys, extra):
    keys = np.array(sorted(keys), dtype=np.int64)
    present = list(keys[::3])
    query = np.array(present + extra, dtype=np.int64)
    slots = hashing.build(keys)
    assert hashing.check(slots, len(keys)) is None
    np.testing.assert_array_equal(hashing.find(slots, keys, query), binary_search_rows(keys, query))


def test_every_key_found_in_a_crowded_table():
    # consecutive keys: many share home slots' neighbourhoods; every one is found at its row
    keys = np.arange(0, 50_000, 1, dtype=np.int64) * 7
    slots = hashing.build(keys)
    assert len(slots) >= 2 * len(keys) + 1 and slots[-1] == hashing.EMPTY
    assert (np.sort(slots[slots >= 0]) == np.arange(len(keys))).all()   # each row once
    np.testing.assert_array_equal(hashing.find(slots, keys, keys), np.arange(len(keys)))
    absent = keys + 3
    assert (hashing.find(slots, keys, absent) == -1).all()


def test_an_empty_slot_never_reads_as_a_row():
    # an EMPTY slot (-1) reads the last key for the gather; the query equal to it must still be
    # found only at its own slot, and other queries never match an empty slot
    keys = np.array([5, 10**9], dtype=np.int64)
    slots = hashing.build(keys)
    assert list(hashing.find(slots, keys, np.array([5, 6, 10**9, 0]))) == [0, -1, 1, -1]
    assert list(hashing.find(hashing.build(keys[:0]), keys[:0], np.array([5]))) == [-1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-2**63, 2**63 - 1).filter(bool), max_size=300, unique=True),
       st.lists(st.integers(-2**63, 2**63 - 1), max_size=100))
def test_a_key_table_gives_what_a_dictionary_gives(keys, extra):
    values = list(range(7, 7 + 3 * len(keys), 3))
    table = hashing.KeyTable(np.array(keys, dtype=np.int64), np.array(values, dtype=np.int64))
    query = keys[::2] + extra + [0]
    expected = [dict(zip(keys, values)).get(q, -1) for q in query]
    assert table.get(np.array(query, dtype=np.int64)).tolist() == expected


def test_a_crowded_key_table_finds_every_key_past_its_home():
    # random keys: some share a home slot and go on past it; a free slot ends each search
    keys = np.unique(np.random.default_rng(5).integers(1, 2**62, 20_000))
    table = hashing.KeyTable(keys, np.arange(len(keys)))
    assert len(table.keys) >= len(keys) / hashing.KEY_LOAD and table.keys[-1] == 0
    assert (np.sort(table.keys[table.keys != 0]) == keys).all()
    assert (table.get(keys) == np.arange(len(keys))).all()
    held, values = table.items()
    assert len(table) == len(keys) and (keys.take(values) == held).all()
    past_home = table.keys[hashing.home(keys, table.m)] != keys
    assert past_home.any()                                  # the rounds were exercised
    absent = np.setdiff1d(keys + 3, keys)
    assert (table.get(absent) == -1).all()
    assert hashing.KeyTable(keys[:0], keys[:0]).get(keys[:5]).tolist() == [-1] * 5


def test_a_large_key_table_fills_up_to_its_most_and_no_further(monkeypatch):
    # past KEY_SLOTS a table fills beyond KEY_LOAD, never beyond MAX_KEY_LOAD (a search would
    # otherwise run through long stretches of occupied slots)
    monkeypatch.setattr(hashing, "KEY_SLOTS", 1000)
    keys = np.unique(np.random.default_rng(6).integers(1, 2**62, 5000))
    table = hashing.KeyTable(keys, np.arange(len(keys)))
    assert table.m == hashing.slot_count(len(keys), hashing.MAX_KEY_LOAD) == 2 * len(keys)
    assert (table.get(keys) == np.arange(len(keys))).all()
    monkeypatch.setattr(hashing, "KEY_SLOTS", 2 * len(keys) + 1000)
    assert hashing.KeyTable(keys, np.arange(len(keys))).m == 2 * len(keys) + 1000
    small = hashing.KeyTable(keys[:100], np.arange(100))
    assert small.m == hashing.slot_count(100, hashing.KEY_LOAD)


def test_a_key_table_refuses_a_zero_key():
    with pytest.raises(ValueError, match="non-zero"):
        hashing.KeyTable(np.array([3, 0]), np.array([0, 1]))


def test_home_is_in_range():
    keys = np.array([0, 1, 2**40, 2**62], dtype=np.int64)
    for m in (1, 3, 1000):
        h = hashing.home(keys, m)
        assert ((h >= 0) & (h < m)).all()


KN = make_estimator("modified-kneser-ney", discount_fallback=True)
SENTENCES = [s.split() for s in (
    "the cat sat on the mat", "the dog sat on the log", "a cat saw the dog",
    "the cat saw a log", "on the mat the cat sat", "a dog")]
TEST = [s.split() for s in ("the cat sat on a log", "zebra on the mat", "the the the", "dog")]


@pytest.mark.parametrize("name", ["modified-kneser-ney", "stupid-backoff", "katz", "add-delta"])
def test_batch_scores_equal_the_stepwise_distribution(name):
    params = {"discount_fallback": True} if name == "modified-kneser-ney" else {}
    # the batch scorer walks the hash tables; next_logprobs computes every word's ln P by the
    # generic path: the two agree for every estimator, stupid backoff's unseen-context
    # factor included
    lm = NgramModel.fit(SENTENCES, order=3, estimator=make_estimator(name, **params))
    for sentence, scores in zip(TEST, lm.sentence_logprobs(lm.vocab.encode(s) for s in TEST)):
        ids = list(lm.vocab.encode(sentence)) + [lm.vocab.index["</s>"]]
        state = lm.initial_state()
        expected = []
        for token in ids:
            expected.append(lm.next_logprobs(state)[token])
            state = lm.advance(state, token)
        np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("size", [0, 1, 7, 5000])
def test_written_in_buckets_equals_built_whole(tmp_path, monkeypatch, size):
    """`write` makes the slots one range of home slots at a time (here 1 to ~size/2 buckets, the
    last with the overflow tail), scanning the keys 64 at a time: the array `build` makes."""
    monkeypatch.setattr(hashing, "SCAN_KEYS", 64)
    keys = np.unique(np.random.default_rng(size).integers(0, 1 << 40, size=size))
    expected = hashing.build(keys)
    for memory in (1 << 30, size * hashing.BUCKET_BYTES // 3, 100):
        hashing.write(keys, tmp_path / "h.npy", memory)
        got = np.load(tmp_path / "h.npy")
        assert got.dtype == expected.dtype and np.array_equal(got, expected), memory


def test_writing_in_buckets_stays_in_its_budget(tmp_path, monkeypatch):
    """300,000 keys in 2 MB (their table alone is 2.4 MB): eight buckets, peak under 2 MB."""
    import tracemalloc

    monkeypatch.setattr(hashing, "SCAN_KEYS", 4096)
    keys = np.unique(np.random.default_rng(1).integers(0, 1 << 40, size=300_000))
    tracemalloc.start()
    hashing.write(keys, tmp_path / "h.npy", 2 << 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 << 20
    assert np.array_equal(np.load(tmp_path / "h.npy"), hashing.build(keys))


def test_saved_tables_load_mapped_and_old_folders_still_score(tmp_path):
    lm = NgramModel.fit(SENTENCES, order=3, estimator=KN)
    lm.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert {"hash_2", "hash_3"} <= set(meta["arrays"])
    loaded = load_model(tmp_path / "m")
    assert all(isinstance(loaded.slots[k], np.ndarray) for k in (2, 3))
    expected = [list(s) for s in lm.sentence_logprobs(lm.vocab.encode(s) for s in TEST)]
    got = [list(s) for s in loaded.sentence_logprobs(loaded.vocab.encode(s) for s in TEST)]
    assert got == expected
    # a folder written before the tables existed: no hash arrays, binary search, same scores
    for k in (2, 3):
        (tmp_path / "m" / "arrays" / f"hash_{k}.npy").unlink()
        del meta["files"][f"arrays/hash_{k}.npy"]
    meta["arrays"] = [a for a in meta["arrays"] if not a.startswith("hash_")]
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    old = load_model(tmp_path / "m")
    assert old.hash_table(2) is None
    assert [list(s) for s in old.sentence_logprobs(old.vocab.encode(s) for s in TEST)] == expected


def test_a_hash_array_of_the_wrong_size_is_refused(tmp_path):
    lm = NgramModel.fit(SENTENCES, order=2, estimator=KN)
    lm.save(tmp_path / "m")
    short = np.full(3, hashing.EMPTY, dtype=hashing.SLOT_DTYPE)
    np.save(tmp_path / "m" / "arrays" / "hash_2.npy", short)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    del meta["files"]                    # past the checksums: the shape check must catch it
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(NextwordError, match="hash_2.npy: 3 slots do not fit a table"):
        load_model(tmp_path / "m")


def test_a_row_beyond_the_keys_is_a_clear_error():
    """A damaged slot array (a row past the table) is a NextwordError, not an IndexError."""
    keys = np.arange(0, 400, 4, dtype=np.int64)
    slots = hashing.build(keys)
    assert hashing.find(slots, keys, keys).tolist() == list(range(100))
    slots[slots >= 0] += 1000
    with pytest.raises(NextwordError, match="damaged"):
        hashing.find(slots, keys, keys)


def test_a_model_reads_its_tables_with_the_load_they_were_built_with(tmp_path):
    """New tables are built at LOAD and model.json says so; a folder saved before the load was
    recorded has tables at 0.5 (LEGACY_LOAD) and still scores the same; a wrong or malformed
    load is refused, not misread."""
    lm = NgramModel.fit(SENTENCES, order=3, estimator=KN)
    lm.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["hash_load"] == hashing.LOAD == 0.35
    assert len(np.load(tmp_path / "m" / "arrays" / "hash_3.npy")) >= len(lm.keys[3]) / 0.35 + 1
    expected = [list(s) for s in lm.sentence_logprobs(lm.vocab.encode(s) for s in TEST)]

    def rewrite(**changes):
        new = {k: v for k, v in meta.items() if k not in ("files", "hash_load")}
        new.update(changes)
        (tmp_path / "m" / "model.json").write_text(json.dumps(new))

    for k in (2, 3):       # the tables a model saved before the load was recorded holds
        np.save(tmp_path / "m" / "arrays" / f"hash_{k}.npy",
                hashing.build(lm.keys[k], hashing.LEGACY_LOAD))
    rewrite()
    old = load_model(tmp_path / "m")
    assert old.hash_load == 0.5 and old.hash_table(3) is not None
    assert [list(s) for s in old.sentence_logprobs(old.vocab.encode(s) for s in TEST)] == expected
    rewrite(hash_load=0.35)          # the same small tables read as if built at 0.35
    with pytest.raises(NextwordError, match="hash_2.npy: .* slots do not fit a table"):
        load_model(tmp_path / "m")
    for bad in (0, 1.5, "half", True):
        rewrite(hash_load=bad)
        with pytest.raises(NextwordError, match="malformed n-gram model .*hash_load"):
            load_model(tmp_path / "m")
