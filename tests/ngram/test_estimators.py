"""Exact numbers on the two-sentence corpus (see conftest: N = 6, |V| = 5)."""
import math

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.ngram.estimators import MLE, AddDelta, make_estimator
from nextword.ngram.model import NgramModel


def test_mle_unigram_and_bigram(two_sentences):
    lm = NgramModel.fit(two_sentences, order=2, estimator=MLE())
    assert lm.prob("b", ("a",)) == pytest.approx(1 / 2)         # c(a b) / c(a) = 1/2
    assert lm.prob("a", ("a",)) == 0.0                          # seen context, unseen word
    assert lm.prob("a", ()) == pytest.approx(2 / 2)             # <s> implied: c(<s> a) / c(<s>)
    unigram = NgramModel.fit(two_sentences, order=1, estimator=MLE())
    assert unigram.prob("a", ()) == pytest.approx(2 / 6)        # unigram: c(a) / N


def test_lecture_example_students_opened_their():
    """count('students opened their') = 1000, count('... books') = 400 -> P = 0.4 under MLE."""
    sentences = [["students", "opened", "their", "books"]] * 400 + \
                [["students", "opened", "their", "exams"]] * 600
    lm = NgramModel.fit(sentences, order=4, estimator=MLE())
    assert lm.prob("books", ("students", "opened", "their")) == pytest.approx(0.4)


def test_add_delta_default_is_a_quarter(two_sentences):
    assert AddDelta().delta == 0.25
    lm = NgramModel.fit(two_sentences, order=2, estimator=AddDelta())
    assert lm.prob("b", ("a",)) == pytest.approx((1 + 0.25) / (2 + 0.25 * 5))
    assert lm.prob("a", ("a",)) == pytest.approx((0 + 0.25) / (2 + 0.25 * 5))   # unseen word
    assert lm.prob("a", ()) == pytest.approx((2 + 0.25) / (2 + 0.25 * 5))   # after <s>
    unigram = NgramModel.fit(two_sentences, order=1, estimator=AddDelta())
    assert unigram.prob("a", ()) == pytest.approx((2 + 0.25) / (6 + 0.25 * 5))
    assert unigram.prob("<unk>", ()) == pytest.approx(0.25 / (6 + 0.25 * 5))


def test_laplace_is_delta_one(two_sentences):
    lm = NgramModel.fit(two_sentences, order=2, estimator=make_estimator("laplace"))
    assert lm.prob("</s>", ("b",)) == pytest.approx((1 + 1) / (1 + 5))


def test_backoff_when_the_context_was_never_seen(two_sentences):
    """c(<unk>) = 0: the bigram context is unseen, so P(a | <unk>) = P_unigram(a)."""
    lm = NgramModel.fit(two_sentences, order=3, estimator=AddDelta(0.25))
    assert lm.prob("a", ("zebra",)) == pytest.approx((2 + 0.25) / (6 + 0.25 * 5))
    # trigram context (b a) unseen, bigram context (a) seen: add-δ on the bigram
    assert lm.prob("c", ("b", "a")) == pytest.approx((1 + 0.25) / (2 + 0.25 * 5))
    # trigram context (<s> a) seen: c(<s> a b) = 1, c(<s> a) = 2
    assert lm.prob("b", ("a",)) == pytest.approx((1 + 0.25) / (2 + 0.25 * 5))
    assert lm.logprob("b", ("a",)) == pytest.approx(math.log(1.25 / 3.25))


@pytest.mark.parametrize("estimator", [MLE(), AddDelta(0.25), AddDelta(1.0), AddDelta(0.01)])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_distribution_sums_to_one(random_corpus, estimator, order):
    lm = NgramModel.fit(random_corpus, order=order, estimator=estimator)
    rng = np.random.default_rng(order)
    V = len(lm.vocab)
    for _ in range(40):
        length = int(rng.integers(0, order + 1))
        state = (1,) + tuple(int(x) for x in rng.integers(0, V, size=length) if x != 1)
        probs = np.exp(lm.next_logprobs(state[-max(order - 1, 1):] if order > 1 else ()))
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
        assert probs[1] == 0.0                                 # <s> is never predicted
        if estimator.delta > 0:
            assert probs[np.arange(V) != 1].min() > 0          # smoothed: nothing impossible


def test_delta_must_be_positive():
    for bad in (0.0, -0.5):
        with pytest.raises(NextwordError, match="delta must be > 0"):
            AddDelta(bad)
    with pytest.raises(NextwordError, match="unknown smoothing"):
        make_estimator("good-turing-magic")
