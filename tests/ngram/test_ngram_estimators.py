"""Witten–Bell, absolute discounting, Katz and stupid backoff by hand; every normalised
estimator sums to 1; the counterparts in NLTK `lm` give the same probabilities."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.ngram.absolute import AbsoluteDiscounting
from nextword.ngram.estimators import ESTIMATORS, make_estimator
from nextword.ngram.katz import Katz, good_turing_discounts
from nextword.ngram.model import NgramModel
from nextword.ngram.stupid_backoff import StupidBackoff
from nextword.ngram.witten_bell import WittenBell


def test_witten_bell_by_hand(abba):
    """Unigrams: N = 9, N1+(•) = 3 (a, b, </s>): P(a) = 3/12 + (3/12)/4 = 5/16, P(<unk>) = 1/16.
    Context a: c(a) = 3, N1+(a •) = 2 (b, </s>): P(b|a) = 2/5 + 2/5 · 5/16 = 21/40."""
    lm = NgramModel.fit(abba, order=2, estimator=WittenBell())
    assert lm.prob("b", ("a",)) == pytest.approx(21 / 40)
    assert lm.prob("a", ("a",)) == pytest.approx(2 / 5 * 5 / 16)
    assert np.exp(lm.tables.logprob[1][0]) == pytest.approx(1 / 16)


def test_absolute_discounting_by_hand(abba):
    """D = 0.5. Unigrams: P(a) = (3 - 0.5)/9 + (0.5·3/9)/4 = 11.5/36.
    Context a: P(b|a) = (2 - 0.5)/3 + (0.5·2/3) · 11.5/36."""
    lm = NgramModel.fit(abba, order=2, estimator=AbsoluteDiscounting(0.5))
    assert lm.prob("b", ("a",)) == pytest.approx(1.5 / 3 + (0.5 * 2 / 3) * 11.5 / 36)
    assert lm.prob("a", ("a",)) == pytest.approx((0.5 * 2 / 3) * 11.5 / 36)


def test_absolute_discount_estimated_from_count_of_counts(small_text):
    """D_k = n1 / (n1 + 2 n2) of the raw k-gram counts."""
    lm = NgramModel.fit(small_text, order=2, estimator=AbsoluteDiscounting())
    c = lm.counts[2]
    n1, n2 = (c == 1).sum(), (c == 2).sum()
    assert lm.estimator["discounts"][1] == pytest.approx(n1 / (n1 + 2 * n2))


def test_good_turing_discounts():
    """n1..n6 = 20, 8, 4, 3, 2, 1, K = 5: common = 6·1/20 = 0.3;
    r* = 2·8/20 = 0.8 -> d1 = (0.8 - 0.3)/0.7; r = 2: 3·4/8 = 1.5 -> d2 = (0.75 - 0.3)/0.7."""
    c = np.array([1] * 20 + [2] * 8 + [3] * 4 + [4] * 3 + [5] * 2 + [6] * 1 + [9])
    d = good_turing_discounts(c, 5)
    assert d[1] == pytest.approx(0.5 / 0.7)
    assert d[2] == pytest.approx(0.45 / 0.7)
    assert d[6] == 1.0


def test_katz_by_hand(abba):
    """Good–Turing is undefined on this corpus, so d_r = 1 - 0.5/r (noted).
    Unigrams: d_3 = 5/6: 5/6 · 3/9 = 5/18 each for a, b, </s>; left-over 1/6 over |V| = 4:
              P(a) = 5/18 + 1/24 = 23/72, P(<unk>) = 3/72.
    Context a: P(b|a) = d_2 · 2/3 = 1/2, P(</s>|a) = d_1 · 1/3 = 1/6;
              α(a) = (1 - 2/3) / (1 - 46/72) = 12/13; P(a|a) = 12/13 · 23/72."""
    lm = NgramModel.fit(abba, order=2, estimator=Katz())
    assert lm.prob("b", ("a",)) == pytest.approx(0.5)
    assert lm.prob("</s>", ("a",)) == pytest.approx(1 / 6)
    assert lm.prob("a", ("a",)) == pytest.approx(12 / 13 * 23 / 72)
    assert "Good-Turing" in lm.estimator["notes"][0]


def test_stupid_backoff_by_hand_and_refused_perplexity(abba):
    """S(b|a) = 2/3; S(a|b) = 1/3; S(</s>|<s>) = 0.4 · 3/9 (never seen after <s>)."""
    lm = NgramModel.fit(abba, order=2, estimator=StupidBackoff())
    assert lm.prob("b", ("a",)) == pytest.approx(2 / 3)
    assert lm.prob("a", ("b",)) == pytest.approx(1 / 3)
    assert lm.prob("</s>", ("<s>",)) == pytest.approx(0.4 * 3 / 9)
    assert not lm.normalised
    with pytest.raises(NextwordError, match="not probabilities"):
        evaluate(lm, abba)
    assert evaluate(lm, abba, allow_unnormalised=True).normalised is False


def test_stupid_backoff_multiplies_for_unseen_contexts(abba):
    """Trigram, context (b, b) never seen: S(a | b b) = 0.4 · S(a | b) = 0.4 · 1/3."""
    lm = NgramModel.fit(abba, order=3, estimator=StupidBackoff())
    assert lm.prob("a", ("b", "b")) == pytest.approx(0.4 / 3)


@pytest.mark.parametrize("name", [n for n in ESTIMATORS if n not in ("mle", "stupid-backoff")])
def test_every_normalised_estimator_sums_to_one(small_text, name):
    lm = NgramModel.fit(small_text, order=3, estimator=make_estimator(name, discount_fallback=True))
    rng = np.random.default_rng(1)
    states = [lm.initial_state()] + [(1,) + tuple(lm.vocab.encode(s[:2]).tolist()) for s in small_text[:30]]
    states += [tuple(int(x) for x in rng.integers(3, len(lm.vocab), 2)) for _ in range(30)]
    for state in states:
        probs = np.exp(lm.next_logprobs(state[-2:]))
        assert probs.sum() == pytest.approx(1.0, abs=1e-9)
        assert (np.delete(probs, 1) > 0).all()                    # every outcome but <s> has mass


def test_unknown_smoothing_lists_choices():
    with pytest.raises(NextwordError, match="modified-kneser-ney"):
        make_estimator("good-turing")


# ---- NLTK lm 3.10 as a peer: bigrams, where its padding (n-1 markers) equals ours ---------------
def _nltk_fit(cls, text, *args):
    from nltk.lm.preprocessing import padded_everygram_pipeline

    grams, words = padded_everygram_pipeline(2, text)
    model = cls(*args, order=2)
    model.fit(grams, words)
    return model


def _pairs(text):
    for sentence in text[:20]:
        padded = ["<s>"] + sentence + ["</s>"]
        yield from zip(padded[:-1], padded[1:])


def test_same_as_nltk_mle_and_lidstone(small_text):
    """Same counts, same formula. Convention: NLTK's |V| counts <s> (its vocabulary holds every
    padded token and <UNK>), ours does not; with NLTK's |V| = len(vocab) the numbers agree."""
    from nltk.lm import MLE, Laplace, Lidstone

    from nextword.ngram.counts import PaddedStream, count_ngrams
    from nextword.text.vocabulary import Vocabulary

    vocab = Vocabulary.build(small_text)
    counts = count_ngrams(PaddedStream.from_sentences(vocab.encode(s) for s in small_text), len(vocab), 2)
    for ours, theirs, V in [
        (make_estimator("mle"), _nltk_fit(MLE, small_text), vocab.num_outcomes),
        (make_estimator("add-delta", delta=0.1), _nltk_fit(Lidstone, small_text, 0.1), len(vocab)),
        (make_estimator("laplace"), _nltk_fit(Laplace, small_text), len(vocab)),
    ]:
        assert len(theirs.vocab) == len(vocab)
        lm = NgramModel(vocab, 2, counts.keys, ours.estimate(counts, V), {"name": ours.name})
        for h, w in _pairs(small_text):
            assert lm.prob(w, (h,)) == pytest.approx(theirs.score(w, [h]), rel=1e-9)


def test_same_as_nltk_kneser_ney_bigram(small_text):
    """NLTK's interpolated KN: discount 0.1 at the top order, its unigram level is the plain
    continuation distribution N1+(• w) / N1+(• •) (no discount, no uniform share, so unseen
    words get 0). Our KN with discounts (0, 0, 0) for unigrams and 0.1 for bigrams is that model."""
    from nltk.lm import KneserNeyInterpolated

    from nextword.ngram.kneser_ney import ModifiedKneserNey

    theirs = _nltk_fit(KneserNeyInterpolated, small_text)
    lm = NgramModel.fit(small_text, order=2,
                        estimator=ModifiedKneserNey(discounts=((0, 0, 0), (0.1, 0.1, 0.1))))
    for h, w in _pairs(small_text):
        assert lm.prob(w, (h,)) == pytest.approx(theirs.score(w, [h]), rel=1e-9)


def test_same_recursion_as_nltk_witten_bell(small_text):
    """NLTK's Witten–Bell ends in the MLE unigram with <s> counted; ours interpolates the unigram
    with the uniform distribution. Above the unigram the recursion is the same:
    P(w|h) = α(w|h) + γ(h) P(w), with NLTK's α and γ, and our own P(w)."""
    from nltk.lm import WittenBellInterpolated

    theirs = _nltk_fit(WittenBellInterpolated, small_text)
    lm = NgramModel.fit(small_text, order=2, estimator=WittenBell())
    for h, w in _pairs(small_text):
        alpha, gamma = theirs.estimator.alpha_gamma(w, (h,))
        unigram = math.exp(lm.tables.logprob[1][lm.vocab.index[w]])
        assert lm.prob(w, (h,)) == pytest.approx(alpha + gamma * unigram, rel=1e-9)
