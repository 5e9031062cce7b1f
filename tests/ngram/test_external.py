"""Bounded-memory Kneser–Ney (nextword.ngram.external) builds the in-memory model, to rounding."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.model import load_model
from nextword.ngram import external, hashing
from nextword.ngram.arpa import read_arpa, write_arpa
from nextword.ngram.external import _sort_order, build_on_disk, parse_size, rows_in, sum_rows
from nextword.ngram.kneser_ney import KneserNey, ModifiedKneserNey
from nextword.ngram.model import NgramModel


def assert_same_model(disk, memory, tol=1e-9, estimator=True):
    """Same n-gram sets (trie keys equal) and the same numbers to `tol` in natural log."""
    assert disk.order == memory.order and disk.vocab == memory.vocab
    for k in range(2, memory.order + 1):
        assert np.array_equal(disk.keys[k], memory.keys[k]), k
    for k in range(1, memory.order + 1):
        np.testing.assert_allclose(disk.tables.logprob[k], memory.tables.logprob[k], rtol=0, atol=tol)
        if k < memory.order:
            np.testing.assert_allclose(disk.tables.logbackoff[k], memory.tables.logbackoff[k],
                                       rtol=0, atol=tol)
    if estimator:
        assert disk.estimator == memory.estimator


@pytest.fixture(scope="module")
def ptb_sentences():
    from nextword.text.corpora import data_dir
    DATA = data_dir()

    lines = (DATA / "ptb" / "ptb.train.txt").read_text().splitlines()[:2000]
    return [line.split() for line in lines]


def test_hand_computed_bigram(abba, tmp_path):
    """<s> a b </s> ×2, <s> b a </s> with the fallback discounts D = 0.5, 1, 1.5 (the corpus is
    too small for its own): a(a b) = 2, a(a </s>) = 1, Σ a(a •) = 3,
    u(b | a) = (2 - 1)/3, γ(a) = (0.5 + 1)/3; unigram adjusted counts a(b) = 2 (after <s>, a),
    a(a) = 2, a(</s>) = 2 (after a, b), Σ = 6, γ(ε) = 3·1/6, |V| = 4:
    P(b) = (2 - 1)/6 + 0.5/4 = 7/24, P(b | a) = 1/3 + 0.5 · 7/24 = 0.479167 (as the docstring
    of ModifiedKneserNey computes in memory). `prob` starts a sentence: after <s>, a(<s> a) = 2,
    a(<s> b) = 1, u(b | <s>) = (1 - 0.5)/3, γ(<s>) = (0.5 + 1)/3, so
    P(b | <s>) = 1/6 + 0.5 · 7/24."""
    build_on_disk(abba, 2, tmp_path / "m", memory=1 << 20,
                  estimator=ModifiedKneserNey(discount_fallback=True), temp_dir=tmp_path)
    lm = load_model(tmp_path / "m")
    assert lm.prob("b") == pytest.approx(1 / 6 + 0.5 * 7 / 24, abs=1e-12)
    assert lm.prob("b", ("a",)) == pytest.approx(1 / 3 + 0.5 * 7 / 24, abs=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]          # spill folder gone


@pytest.mark.parametrize("order,estimator", [(2, ModifiedKneserNey()), (3, KneserNey()),
                                             (4, ModifiedKneserNey())])
def test_equals_in_memory_on_small_text(small_text, tmp_path, order, estimator):
    memory = NgramModel.fit(small_text, order, estimator)
    build_on_disk(small_text, order, tmp_path / "m", memory=1 << 20, estimator=estimator,
                  temp_dir=tmp_path)
    assert_same_model(load_model(tmp_path / "m"), memory)


@pytest.mark.parametrize("prune", [None, (0, 1, 1, 2, 2)])
def test_ptb_many_spills_equals_in_memory(ptb_sentences, tmp_path, prune):
    """2,000 PTB sentences (43k words), order 5, in 1 MB: 17 chunks, 43 partitions."""
    memory = NgramModel.fit(ptb_sentences, 5, ModifiedKneserNey(), prune=prune)
    info = build_on_disk(ptb_sentences, 5, tmp_path / "m", memory=1 << 20, prune=prune,
                         temp_dir=tmp_path, arpa=tmp_path / "m.arpa")
    assert info["chunks"] >= 10 and info["partitions"] >= 20
    disk = load_model(tmp_path / "m")
    assert_same_model(disk, memory)
    for k in range(2, 6):          # hash tables written a bucket at a time: those of `save`
        assert np.array_equal(disk.slots[k], hashing.build(memory.keys[k])), k
    assert info["ngrams"] == {1: len(memory.vocab),
                              **{k: len(memory.keys[k]) for k in range(2, 6)}}
    # the ARPA file: same entries as the in-memory model's, to 1e-6 in log10
    write_arpa(memory, tmp_path / "ref.arpa")
    got, ref = read_arpa(tmp_path / "m.arpa"), read_arpa(tmp_path / "ref.arpa")
    assert_same_model(got, ref, tol=1e-6 * np.log(10), estimator=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "m.arpa", "ref.arpa"]


def test_peak_memory_stays_near_the_budget(ptb_sentences, tmp_path):
    """NumPy allocations (tracemalloc sees them) stay under the 2 MB budget plus the fixed part
    (vocabulary, V-sized arrays, spill index: ~3 MB here), far under the in-memory peak."""
    tracemalloc.start()
    NgramModel.fit(ptb_sentences, 5, ModifiedKneserNey())
    in_memory = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    build_on_disk(ptb_sentences, 5, tmp_path / "m", memory=2 << 20, temp_dir=tmp_path)
    on_disk = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert on_disk < 5 << 20 and 2 * on_disk < in_memory


class Boom(Exception):
    pass


@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt])
def test_spill_folder_removed_on_failure(small_text, tmp_path, monkeypatch, error):
    def fail(self, *args):
        assert any(self.spill.root.iterdir())                    # runs were spilled
        raise error()

    monkeypatch.setattr(external._Job, "interpolate", fail)
    with pytest.raises(error):
        build_on_disk(small_text, 3, tmp_path / "m", memory=1 << 20, temp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_rejects_what_it_cannot_build(abba, tmp_path):
    from nextword.ngram.estimators import AddDelta

    with pytest.raises(NextwordError, match="Kneser-Ney only"):
        build_on_disk(abba, 2, tmp_path / "m", 1 << 20, estimator=AddDelta())
    with pytest.raises(NextwordError, match="order >= 2"):
        build_on_disk(abba, 1, tmp_path / "m", 1 << 20)
    with pytest.raises(NextwordError, match="no such folder"):
        build_on_disk(abba, 2, tmp_path / "m", 1 << 20, temp_dir=tmp_path / "nope")
    with pytest.raises(NextwordError, match="discount"):                  # as in memory
        build_on_disk(abba, 2, tmp_path / "m", 1 << 20, temp_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_parse_size():
    assert parse_size("100M") == 100 << 20
    assert parse_size("1.5G") == int(1.5 * (1 << 30))
    assert parse_size("2048k") == 2 << 20
    for bad in ("lots", "10X", "100"):
        with pytest.raises(NextwordError):
            parse_size(bad)


@pytest.mark.parametrize("bits", [1, 5, 16, 17, 24])
def test_the_radix_sort_gives_lexsorts_order(bits):
    """Stable: equal rows keep their input order, as np.lexsort keeps it (ids of 17 and 24 bits
    take two 16-bit digits each; `tie` sorts last)."""
    rng = np.random.default_rng(bits)
    grams = rng.integers(0, 1 << bits, size=(3000, 4)).astype(np.int32)
    grams[:1000] = grams[1000:2000]                    # repeated rows at any width
    tie = rng.integers(0, 3, size=3000)
    assert np.array_equal(_sort_order(grams, bits), np.lexsort(grams.T[::-1]))
    assert np.array_equal(_sort_order(grams, bits, tie), np.lexsort(np.vstack([tie, grams.T[::-1]])))


def test_row_helpers_by_hand():
    """Rows (2 1), (0 5), (2 1), (0 5), (1 0) with counts 1..5: sorted distinct rows
    (0 5): 2 + 4, (1 0): 5, (2 1): 1 + 3; the row of (2 1) in that table is 2."""
    grams = np.array([[2, 1], [0, 5], [2, 1], [0, 5], [1, 0]], dtype=np.int32)
    table, counts = sum_rows(grams, np.arange(1, 6), bits=3)
    assert table.tolist() == [[0, 5], [1, 0], [2, 1]] and counts.tolist() == [6, 5, 4]
    assert rows_in(table, np.array([[2, 1], [0, 5], [2, 1]], np.int32), bits=3).tolist() == [2, 0, 2]
    # one bit per word: 62 words a key, so a 70-word row needs two keys and still sorts
    wide = np.array([[1] * 70, [1] * 69 + [0], [0] + [1] * 69], dtype=np.int32)
    table, counts = sum_rows(wide, np.ones(3, np.int64), bits=1)
    assert [row[0] for row in table.tolist()] == [0, 1, 1] and table[1, -1] == 0
    assert rows_in(table, wide, bits=1).tolist() == [2, 1, 0]         # 62 words, then 8 by rank


@pytest.mark.parametrize("queries_sorted", [True, False])
def test_rows_in_finds_every_row(queries_sorted):
    """5-grams of 16-bit ids (three words, then the rank and two more): each query's row."""
    rng = np.random.default_rng(5)
    grams = np.minimum(rng.zipf(1.3, size=(20000, 5)), 40000).astype(np.int32)
    table, _ = sum_rows(grams, np.ones(len(grams), np.int64), bits=16)
    rows = rng.integers(0, len(table), size=5000)
    rows = np.sort(rows) if queries_sorted else rows
    assert np.array_equal(rows_in(table, table[rows], bits=16), rows)
