"""The suffix array and the index's tables against direct computation."""
import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.infinigram import index as index_module
from nextword.infinigram.index import SuffixArrayIndex
from nextword.infinigram.suffix_array import suffix_array, suffix_array_numpy


def brute_force_sa(x):
    """Sort the suffixes themselves (a shorter suffix that is a prefix sorts first)."""
    return np.array(sorted(range(len(x)), key=lambda i: tuple(x[i:].tolist())))


@pytest.mark.parametrize("n, alphabet", [(1, 1), (2, 1), (7, 2), (300, 2), (500, 5), (400, 300)])
def test_suffix_array_builders_agree_with_sorting(n, alphabet):
    rng = np.random.default_rng(n)
    x = rng.integers(0, alphabet, size=n).astype(np.uint16)
    expected = brute_force_sa(x)
    assert np.array_equal(suffix_array_numpy(x), expected)
    assert np.array_equal(suffix_array(x, "divsufsort"), expected)
    assert suffix_array(x, "numpy").dtype == np.int32


def test_suffix_array_of_a_repeated_string():
    """'a a a a' has its suffixes in order of length: 3, 2, 1, 0."""
    x = np.zeros(4, dtype=np.uint16)
    assert suffix_array(x, "numpy").tolist() == [3, 2, 1, 0]
    assert suffix_array(x, "divsufsort").tolist() == [3, 2, 1, 0]


def test_unknown_builder_is_one_error():
    with pytest.raises(NextwordError, match="unknown suffix-array builder"):
        suffix_array(np.zeros(3, dtype=np.uint16), "quick")


def test_layout_and_tables_two_sentences(two_sentences):
    """</s> a b </s> a c </s>: ids </s> 2, a 3, b 4, c 5. Bigrams (positions 0..5 with their
    next): </s> a, a b, b </s>, </s> a, a c, c </s> -> 5 types.
    N1+(v •): </s> 1 (a), a 2 (b, c), b 1, c 1. N1+(• v): a 1, b 1, c 1, </s> 2 (b, c)."""
    index = SuffixArrayIndex.from_sentences(two_sentences, builder="numpy")
    assert index.tokens.tolist() == [2, 3, 4, 2, 3, 5, 2]
    assert index.sentences == 2 and index.n == 7
    assert index.unigram.tolist() == [0, 0, 3, 2, 1, 1]
    assert index.followers.tolist() == [0, 0, 1, 2, 1, 1]
    assert index.predecessors.tolist() == [0, 0, 2, 1, 1, 1]
    assert index.tokens.dtype == np.uint16 and index.sa.dtype == np.int32


def test_tables_against_direct_counts(random_corpus):
    index = SuffixArrayIndex.from_sentences(random_corpus)
    t = index.tokens.astype(int).tolist()
    bigrams = set(zip(t[:-1], t[1:]))
    for v in range(len(index.vocab)):
        assert index.unigram[v] == t.count(v)
        assert index.followers[v] == sum(1 for a, _ in bigrams if a == v)
        assert index.predecessors[v] == sum(1 for _, b in bigrams if b == v)


def test_save_and_open_memory_mapped(tmp_path, random_corpus):
    index = SuffixArrayIndex.from_sentences(random_corpus)
    index.save(tmp_path / "ix")
    loaded = SuffixArrayIndex.open(tmp_path / "ix")
    for name in ("tokens", "sa", "unigram", "followers", "predecessors"):
        assert np.array_equal(getattr(loaded, name), getattr(index, name))
    assert isinstance(loaded.sa.base, np.memmap) or loaded.sa.base is not None   # a map, not a copy
    assert loaded.vocab == index.vocab and loaded.sentences == len(random_corpus)
    assert loaded.count(["w1", "w2"]) == index.count(["w1", "w2"])
    assert (tmp_path / "ix" / "infinigram" / "model.json").exists()


def test_open_errors(tmp_path, random_corpus):
    with pytest.raises(NextwordError, match="no such file"):
        SuffixArrayIndex.open(tmp_path / "missing")
    SuffixArrayIndex.from_sentences(random_corpus).save(tmp_path / "ix")
    (tmp_path / "ix" / "tokens.npy").write_bytes(b"not an array")
    with pytest.raises(NextwordError, match="tokens.npy: cannot read array"):
        SuffixArrayIndex.open(tmp_path / "ix")


def test_bad_layout_is_refused(two_sentences):
    vocab = SuffixArrayIndex.from_sentences(two_sentences).vocab
    with pytest.raises(NextwordError, match="must start and end with </s>"):
        SuffixArrayIndex.from_ids(np.array([3, 4, 2]), vocab)
    with pytest.raises(NextwordError, match="vocabulary ids other than <s>"):
        SuffixArrayIndex.from_ids(np.array([2, 1, 2]), vocab)


def test_a_corpus_too_large_for_memory_says_what_it_needs(monkeypatch, two_sentences):
    monkeypatch.setattr(index_module, "BUILD_BYTES_PER_TOKEN", 2**50)
    with pytest.raises(NextwordError, match=r"needs about .* GiB .* split the corpus"):
        SuffixArrayIndex.from_sentences(two_sentences)


@pytest.mark.parametrize("name", ["index", "model"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"nextword.infinigram.{name}"))
    assert result.attempted > 0 and result.failed == 0
