"""Kneser–Ney and modified Kneser–Ney, checked by hand and against KenLM's published figures."""
from __future__ import annotations

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.ngram.kneser_ney import (KneserNey, ModifiedKneserNey, adjusted_counts,
                                       count_of_counts, modified_discounts, single_discount)
from nextword.ngram.model import NgramModel


def row(counts, k, gram, vocab):
    """Row of a k-gram (tokens) in table k."""
    ids = [vocab.index[t] for t in gram]
    r = ids[0]
    for j, w in enumerate(ids[1:], start=2):
        r = int(counts.lookup(j, np.array([r]), np.array([w]))[0])
    return r


def test_adjusted_counts_trigram(abba_counts):
    """Order 3 on <s> a b </s> ×2 / <s> b a </s>.

    Trigrams (raw, highest order): <s> a b 2, a b </s> 2, <s> b a 1, b a </s> 1.
    Bigrams: starting with <s> keep raw counts: <s> a 2, <s> b 1;
             others count distinct left words: a b <- {<s>} = 1, b </s> <- {a} = 1,
             b a <- {<s>} = 1, a </s> <- {b} = 1.
    Unigrams: a <- {<s>, b} = 2, b <- {a, <s>} = 2, </s> <- {b, a} = 2, <s> 0, <unk> 0.
    """
    vocab, counts = abba_counts(3)
    a = adjusted_counts(counts)
    assert a[3][row(counts, 3, ["<s>", "a", "b"], vocab)] == 2
    assert a[3][row(counts, 3, ["b", "a", "</s>"], vocab)] == 1
    assert a[2][row(counts, 2, ["<s>", "a"], vocab)] == 2
    assert a[2][row(counts, 2, ["<s>", "b"], vocab)] == 1
    assert a[2][row(counts, 2, ["a", "b"], vocab)] == 1
    assert a[2][row(counts, 2, ["b", "</s>"], vocab)] == 1
    assert [int(a[1][vocab.index[t]]) for t in ["<unk>", "<s>", "</s>", "a", "b"]] == [0, 0, 2, 2, 2]


def test_chen_goodman_discounts():
    """n1..n4 = 10, 5, 3, 2: Y = 10 / (10 + 2·5) = 0.5,
    D1 = 1 - 2·0.5·5/10 = 0.5, D2 = 2 - 3·0.5·3/5 = 1.1, D3+ = 3 - 4·0.5·2/3 = 5/3."""
    a = np.array([1] * 10 + [2] * 5 + [3] * 3 + [4] * 2 + [7] * 4)
    n = count_of_counts(a)
    assert n[1:].tolist() == [10, 5, 3, 2]
    assert modified_discounts(n, 2) == pytest.approx((0.5, 1.1, 5 / 3))
    assert single_discount(n, 2) == pytest.approx((0.5, 0.5, 0.5))


def test_modified_kneser_ney_bigram_by_hand(abba):
    """Bigram MKN on the abba corpus; every count-of-count is degenerate there, so the
    fallback discounts D = 0.5, 1, 1.5 apply to both orders (and the notes say so).

    Unigrams: a(a) = a(b) = a(</s>) = 2, Σ = 6; u(a) = (2 - 1)/6; γ(ε) = 3·D2/6 = 1/2;
              P(a) = 1/6 + (1/2)/4 = 7/24, P(<unk>) = 1/8.
    Context a: c(a b) = 2, c(a </s>) = 1, Σ = 3; u(b|a) = (2 - 1)/3 = 1/3;
              γ(a) = (D1 + D2)/3 = 1/2; P(b|a) = 1/3 + 1/2·7/24 = 23/48,
              P(</s>|a) = (1 - 0.5)/3 + 1/2·7/24 = 15/48, P(a|a) = 7/48, P(<unk>|a) = 3/48.
    """
    lm = NgramModel.fit(abba, order=2, estimator=ModifiedKneserNey(discount_fallback=True))
    assert lm.prob("b", ("a",)) == pytest.approx(23 / 48)
    assert lm.prob("</s>", ("a",)) == pytest.approx(15 / 48)
    assert lm.prob("a", ("a",)) == pytest.approx(7 / 48)
    assert lm.prob("<unk>", ("a",)) == pytest.approx(3 / 48)
    assert np.exp(lm.tables.logprob[1][lm.vocab.index["a"]]) == pytest.approx(7 / 24)
    assert np.exp(lm.tables.logbackoff[1][lm.vocab.index["a"]]) == pytest.approx(0.5)
    assert lm.estimator["discounts"] == [[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]]
    assert len(lm.estimator["notes"]) == 2 and "fallback" in lm.estimator["notes"][0]


def test_discount_fallback_is_explained(abba):
    with pytest.raises(NextwordError, match="--discount-fallback") as error:
        NgramModel.fit(abba, order=2, estimator=ModifiedKneserNey())
    assert "small or artificial corpus" in str(error.value) and "\n" not in str(error.value)


def test_discounts_out_of_range_refused(abba):
    with pytest.raises(NextwordError, match="out of range"):
        NgramModel.fit(abba, order=2, estimator=ModifiedKneserNey(discounts=((0.5, 2.5, 1), (0.5, 1, 1.5))))


@pytest.mark.parametrize("estimator", [ModifiedKneserNey(), KneserNey()])
def test_distributions_sum_to_one(small_text, estimator):
    lm = NgramModel.fit(small_text, order=3, estimator=estimator)
    states = [lm.initial_state()] + [(1,) + tuple(lm.vocab.encode(s[:2]).tolist()) for s in small_text[:40]]
    states += [(int(a), int(b)) for a, b in np.random.default_rng(0).integers(0, len(lm.vocab), (40, 2))]
    for state in states:
        probs = np.exp(lm.next_logprobs(state[-2:]))
        assert probs.sum() == pytest.approx(1.0, abs=1e-9)
        assert (probs[np.arange(len(probs)) != 1] > 0).all()     # every outcome gets mass


def test_ptb_trigram_matches_lmplz(ptb_env):
    """KenLM's lmplz (interpolated modified KN, PTB's <unk> as a word): test perplexity 148.28."""
    from nextword.text.corpora import load_corpus

    lm = NgramModel.fit(list(load_corpus("ptb:train")), order=3, estimator=ModifiedKneserNey())
    assert evaluate(lm, load_corpus("ptb:test")).perplexity == pytest.approx(148.28, abs=0.01)


@pytest.mark.parametrize("prune", [None, (0, 0, 1)])
def test_consumed_counts_give_the_same_model(small_text, prune):
    """Without keep_counts the estimate drops each order's raw counts once read: the same
    tables, pruned ones included, and no raw counts left on the model."""
    kept, dropped = (NgramModel.fit_stream(iter(small_text), order=4, estimator=ModifiedKneserNey(),
                                           prune=prune, keep_counts=keep) for keep in (True, False))
    assert dropped.counts is None and (kept.counts is not None) == (prune is None)
    for k in range(1, 5):
        if k > 1:
            assert np.array_equal(kept.keys[k], dropped.keys[k])
        assert np.array_equal(kept.tables.logprob[k], dropped.tables.logprob[k])
        if k < 4:
            assert np.array_equal(kept.tables.logbackoff[k], dropped.tables.logbackoff[k],
                                  equal_nan=True)


@pytest.mark.parametrize("consumable", [False, True])
def test_consumed_counts_are_freed_before_the_interpolation(small_text, monkeypatch, consumable):
    """Consumable counts are gone (no reference left anywhere) by the time the interpolation,
    the estimate's peak, runs; kept ones are still there."""
    import weakref

    from nextword.ngram import kneser_ney
    from nextword.ngram.counts import PaddedStream, count_ngrams
    from nextword.text.vocabulary import Vocabulary

    vocab = Vocabulary.build(small_text)
    counts = count_ngrams(PaddedStream.from_sentences(vocab.encode(s) for s in small_text),
                          len(vocab), 4)
    counts.consumable = consumable
    refs = [weakref.ref(c) for c in counts.counts[1:]]
    alive = []
    real = kneser_ney.interpolate

    def spy(*args, **kwargs):
        alive.extend(ref() is not None for ref in refs)
        return real(*args, **kwargs)

    monkeypatch.setattr(kneser_ney, "interpolate", spy)
    ModifiedKneserNey().estimate(counts, vocab.num_outcomes)
    assert alive == [not consumable] * 4
