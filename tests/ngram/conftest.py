"""Tiny corpora for the n-gram engine tests, with their counts written out."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from nextword.ngram.counts import PaddedStream, count_ngrams
from nextword.text.vocabulary import Vocabulary

DATA = Path(os.environ.get("NEXTWORD_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.fixture
def abba():
    """<s> a b </s> / <s> a b </s> / <s> b a </s>

    unigrams  a 3, b 3, </s> 3 (N = 9), <s> 3 (context only), <unk> 0; |V| = 4 (<unk> a b </s>)
    bigrams   <s> a 2, a b 2, b </s> 2, <s> b 1, b a 1, a </s> 1
    """
    return [["a", "b"], ["a", "b"], ["b", "a"]]


@pytest.fixture
def abba_counts(abba):
    def make(order):
        vocab = Vocabulary.build(abba)
        stream = PaddedStream.from_sentences(vocab.encode(s) for s in abba)
        return vocab, count_ngrams(stream, len(vocab), order)
    return make


@pytest.fixture(scope="session")
def small_text():
    """~1,500 sentences of the embedded corpus: enough for count-of-counts at order 3."""
    from nextword.text.corpora import load_corpus

    return list(load_corpus("default:train"))[:1500]


@pytest.fixture(scope="session")
def small_test_text():
    from nextword.text.corpora import load_corpus

    return list(load_corpus("default:test"))[:200]


@pytest.fixture
def ptb_env(monkeypatch):
    """PTB from the shared data folder (the KenLM reference figures were measured on it)."""
    monkeypatch.setenv("NEXTWORD_DATA", str(DATA))
    return DATA
