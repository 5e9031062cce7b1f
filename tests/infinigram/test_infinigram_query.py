"""Counts, continuations, longest suffixes and per-position statistics against direct counts."""
from collections import Counter

import numpy as np
import pytest

from nextword.infinigram import query
from nextword.infinigram.index import SuffixArrayIndex
from nextword.text.vocabulary import EOS_ID


@pytest.fixture
def index(random_corpus):
    return SuffixArrayIndex.from_sentences(random_corpus)


def occurrences(tokens, ngram):
    k = len(ngram)
    return [p for p in range(len(tokens) - k + 1) if tokens[p:p + k] == list(ngram)]


def test_count_every_ngram_against_a_direct_count(index):
    """Every n-gram of the corpus up to n = 6, plus as many random ones (mostly absent)."""
    t = index.tokens.astype(int).tolist()
    rng = np.random.default_rng(1)
    queries = [tuple(t[p:p + n]) for n in range(1, 7) for p in rng.integers(0, len(t) - n, 40)]
    queries += [tuple(rng.integers(2, len(index.vocab), size=n)) for n in range(1, 7) for _ in range(40)]
    counts = query.count(index, [np.array(q) for q in queries])
    assert counts.tolist() == [len(occurrences(t, q)) for q in queries]
    assert any(c == 0 for c in counts) and any(c > 1 for c in counts)


def test_count_edge_cases(index, two_sentences):
    assert query.count(index, [np.array([], dtype=int)])[0] == index.n      # the empty n-gram
    tiny = SuffixArrayIndex.from_sentences(two_sentences)
    assert tiny.count(["<s>", "a"]) == 2          # <s> is the </s> before a sentence
    assert tiny.count(["b", "</s>", "a", "c"]) == 1   # across a sentence boundary: as stored
    assert tiny.count(["zebra"]) == 0 and tiny.count(["a", "zebra"]) == 0
    assert tiny.count(["<unk>"]) == 0
    assert tiny.count(["<s>"]) == tiny.count(["</s>"]) == 2     # once per sentence


def test_continuations_against_a_direct_count(index):
    t = index.tokens.astype(int).tolist()
    for context in [(), (EOS_ID,), (index.tokens[5],), tuple(t[10:12]), tuple(t[20:23]), (7, 7, 7, 7)]:
        expected = Counter(t[p + len(context)] for p in range(len(t) - len(context))
                           if tuple(t[p:p + len(context)]) == context)
        if context == ():
            expected[t[0]] -= 1                       # the leading </s> is never predicted
            expected = +expected
        ids, counts = query.continuations(index, np.array(context, dtype=int))
        assert dict(zip(ids.tolist(), counts.tolist())) == expected


def test_continuations_by_word(two_sentences):
    tiny = SuffixArrayIndex.from_sentences(two_sentences)
    assert tiny.continuations(["a"]) == {"b": 1, "c": 1}
    assert tiny.continuations(["<s>"]) == {"a": 2}
    assert tiny.continuations(["c", "</s>"]) == {}                 # the corpus ends there
    assert tiny.continuations([]) == {"</s>": 2, "a": 2, "b": 1, "c": 1}


def test_longest_suffix(two_sentences):
    tiny = SuffixArrayIndex.from_sentences(two_sentences)
    assert tiny.longest_suffix(["c", "<s>", "a"]) == (2, 2)      # "<s> a"; "c <s> a" never
    assert tiny.longest_suffix(["b", "a"]) == (1, 2)
    assert tiny.longest_suffix(["zebra"]) == (0, 7)
    # "c </s>" occurs once, at the very end: no word follows it
    ids = tiny.encode(["c", "</s>"])
    assert query.longest_suffix(tiny, ids) == (2, 1)
    assert query.longest_suffix(tiny, ids, followed=True) == (1, 2)   # </s> before sentence 2


def test_distinct_counts_against_direct(index):
    t = index.tokens.astype(int).tolist()
    strings = [tuple(t[p:p + n]) for n in (1, 2, 3) for p in range(0, 200, 7)]
    lo, hi = query.ranges(index, [np.array(s) for s in strings])
    lengths = np.array([len(s) for s in strings])
    after = query.distinct_next(index, lo, hi, lengths)
    before = query.distinct_previous(index, lo, hi)
    around = query.distinct_previous(index, lo, hi, lengths)
    best, best_count = query.most_frequent_next(index, lo, hi, lengths)
    for i, s in enumerate(strings):
        where = occurrences(t, s)
        nxt = [t[p + len(s)] for p in where if p + len(s) < len(t)]
        prev = [t[p - 1] if p else None for p in where]
        assert after[i] == len(set(nxt))
        assert before[i] == len(set(prev))
        assert around[i] == len({(t[p - 1] if p else None, t[p + len(s)])
                                 for p in where if p + len(s) < len(t)})
        counts = Counter(nxt)
        top = max(counts.values())
        assert best_count[i] == top and best[i] == min(w for w, c in counts.items() if c == top)


def test_suffix_levels_against_direct_counts(index):
    """Each position's every context length: c(h) (followed), c(h w), as counted directly."""
    t = index.tokens.astype(int).tolist()
    stream = np.array([EOS_ID, 3, 4, 5, 3, EOS_ID, EOS_ID, 6, 6, 9, EOS_ID])
    start = np.array([0] * 6 + [6] * 5)
    seen = {}
    for level in query.suffix_levels(index, stream, start):
        for j, pos in enumerate(level.at.tolist()):
            seen[(pos, level.length)] = (int(level.c_h[j]), int(level.c_hw[j]))
    expected = {}
    for pos in range(len(stream)):
        for k in range(1, pos - start[pos] + 1):
            h = stream[pos - k:pos].tolist()
            c_h = sum(1 for p in occurrences(t, h) if p + k < len(t))
            if c_h:
                expected[(pos, k)] = (c_h, len(occurrences(t, h + [int(stream[pos])])))
    assert seen == expected


def test_one_query_at_a_time_equals_all_at_once(index):
    """Few queries take Python's bisect, many the vectorised window search: same ranges."""
    t = index.tokens.astype(int).tolist()
    rng = np.random.default_rng(2)
    queries = [np.array(t[p:p + n]) for n in (1, 2, 4, 9) for p in rng.integers(0, len(t) - n, 15)]
    queries += [np.array([3, 4, 5, 6]), np.array([EOS_ID] * 3), np.array([3, -1])]
    lo, hi = query.ranges(index, queries)
    assert len(queries) > query.SCALAR_QUERIES
    for i, q in enumerate(queries):
        one_lo, one_hi = query.ranges(index, [q])
        assert (one_hi[0] - one_lo[0]) == (hi[i] - lo[i]) == len(occurrences(t, q.tolist()))
        if hi[i] > lo[i]:
            assert one_lo[0] == lo[i]
