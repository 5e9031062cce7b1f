from collections import Counter

import numpy as np

from nextword.ngram.counts import PaddedStream, count_ngrams
from nextword.text.vocabulary import Vocabulary


def naive_counts(sentences, order):
    """The definition, in plain Python: k-grams inside <s> w1 .. wm </s>, k = 1..order."""
    counts = Counter()
    for sentence in sentences:
        padded = ["<s>", *sentence, "</s>"]
        for k in range(1, order + 1):
            for i in range(len(padded) - k + 1):
                counts[tuple(padded[i:i + k])] += 1
    return counts


def table_counts(sentences, order):
    vocab = Vocabulary.build(sentences)
    stream = PaddedStream.from_sentences(vocab.encode(s) for s in sentences)
    counts = count_ngrams(stream, len(vocab), order)
    found = Counter()
    for k in range(1, order + 1):
        grams = counts.ngrams(k) if k > 1 else np.arange(len(vocab))[:, None]
        for gram, c in zip(grams, counts.counts[k]):
            if c:
                found[tuple(vocab.decode(gram))] = int(c)
    return found


def test_two_sentences_by_hand(two_sentences):
    found = table_counts(two_sentences, 3)
    assert found[("<s>", "a")] == 2 and found[("a", "b")] == 1 and found[("c", "</s>")] == 1
    assert found[("<s>", "a", "b")] == 1
    assert found[("<s>",)] == 2 and found[("</s>",)] == 2
    assert ("<s>", "<s>") not in found and ("</s>", "<s>") not in found   # never across sentences


def test_counts_equal_the_definition_for_every_order(random_corpus):
    assert table_counts(random_corpus, 5) == naive_counts(random_corpus, 5)


def test_keys_are_sorted_and_unique(random_corpus):
    vocab = Vocabulary.build(random_corpus)
    stream = PaddedStream.from_sentences(vocab.encode(s) for s in random_corpus)
    counts = count_ngrams(stream, len(vocab), 4)
    for k in range(2, 5):
        assert np.all(np.diff(counts.keys[k]) > 0)
        # every k-gram's prefix is a stored (k-1)-gram: the trie is closed under prefixes
        assert counts.parents(k).max() < counts.size(k - 1)


def test_empty_sentences_count_as_s_slash_s():
    found = table_counts([[], ["x"]], 2)
    assert found[("<s>", "</s>")] == 1 and found[("<s>", "x")] == 1


def test_suffix_rows_found_while_counting_are_the_searched_ones(random_corpus):
    """count_ngrams reads each k-gram's suffix row off the position after one of its
    occurrences; all_suffix_rows searches the tables: the same rows, the same dtypes, and each
    row names the k-gram without its first word. Counts merged from chunks carry none."""
    from nextword.ngram.counts import all_suffix_rows, merge_counts

    vocab = Vocabulary.build(random_corpus)
    stream = PaddedStream.from_sentences(vocab.encode(s) for s in random_corpus)
    counts = count_ngrams(stream, len(vocab), 5)
    searched = all_suffix_rows(counts.keys, len(vocab), 5)
    for k in range(2, 6):
        assert counts.suffix[k].dtype == searched[k].dtype
        assert np.array_equal(counts.suffix[k], searched[k])
        lower = counts.ngrams(k - 1) if k > 2 else np.arange(len(vocab))[:, None]
        assert np.array_equal(lower[counts.suffix[k]], counts.ngrams(k)[:, 1:])
    merged = merge_counts(counts, count_ngrams(PaddedStream.from_sentences([vocab.encode(["x"])]),
                                               len(vocab), 5))
    assert merged.suffix is None
    assert all(np.array_equal(a, b) for a, b in zip(merged.suffix_rows()[2:],
                                                    all_suffix_rows(merged.keys, len(vocab), 5)[2:]))
