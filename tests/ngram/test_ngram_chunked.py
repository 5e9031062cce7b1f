"""Counting in chunks with a merge gives exactly the counts of one pass."""
from __future__ import annotations

import numpy as np
import pytest

from nextword.ngram.counts import PaddedStream, count_ngrams, count_ngrams_chunked, merge_counts
from nextword.ngram.estimators import make_estimator
from nextword.ngram.model import NgramModel
from nextword.text.vocabulary import Vocabulary


def test_merge_two_chunks_by_hand(abba):
    """Chunk 1 = <s> a b </s> ×2, chunk 2 = <s> b a </s>: merged bigrams are the fixture's
    <s> a 2, a b 2, b </s> 2, <s> b 1, b a 1, a </s> 1."""
    vocab = Vocabulary.build(abba)
    count = lambda part: count_ngrams(PaddedStream.from_sentences(vocab.encode(s) for s in part), len(vocab), 2)
    merged = merge_counts(count(abba[:2]), count(abba[2:]))
    got = {" ".join(vocab.decode(g)): int(c) for g, c in zip(merged.ngrams(2), merged.counts[2])}
    assert got == {"<s> a": 2, "a b": 2, "b </s>": 2, "<s> b": 1, "b a": 1, "a </s>": 1}


@pytest.mark.parametrize("chunk_tokens", [300, 997, 10 ** 9])
def test_chunked_equals_one_pass(small_text, chunk_tokens):
    vocab = Vocabulary.build(small_text)
    encoded = [vocab.encode(s) for s in small_text] + [vocab.encode([])]
    whole = count_ngrams(PaddedStream.from_sentences(encoded), len(vocab), 4)
    chunked = count_ngrams_chunked(iter(encoded), len(vocab), 4, chunk_tokens=chunk_tokens)
    for k in range(1, 5):
        assert np.array_equal(whole.counts[k], chunked.counts[k])
        if k > 1:
            assert np.array_equal(whole.keys[k], chunked.keys[k])


def test_fit_stream_equals_fit(small_text, small_test_text):
    from nextword.evaluate import evaluate

    estimator = make_estimator("modified-kneser-ney")
    a = NgramModel.fit(small_text, order=3, estimator=estimator)
    b = NgramModel.fit_stream(small_text, order=3, estimator=estimator, chunk_tokens=5000)
    assert evaluate(a, small_test_text).log_prob == pytest.approx(evaluate(b, small_test_text).log_prob)


@pytest.mark.parametrize("chunk_tokens", [1, 300, 997, 10 ** 9])
def test_flat_chunks_equal_one_pass(small_text, chunk_tokens):
    """count_ngrams_flat (ids + lengths, chunks of whole sentences sliced out) = one count."""
    from nextword.ngram.counts import count_ngrams_flat
    from nextword.text.vocabulary import read_corpus

    sentences = small_text + [[]]
    vocab, words, lengths = read_corpus(sentences)
    whole = count_ngrams(PaddedStream.from_sentences(vocab.encode(s) for s in sentences),
                         len(vocab), 4)
    flat = count_ngrams_flat(words, lengths, len(vocab), 4, chunk_tokens=chunk_tokens)
    for k in range(1, 5):
        assert np.array_equal(whole.counts[k], flat.counts[k])
        if k > 1:
            assert np.array_equal(whole.keys[k], flat.keys[k])
    empty = count_ngrams_flat(words[:0], lengths[:0], len(vocab), 4)
    assert empty.counts[1].sum() == 0
