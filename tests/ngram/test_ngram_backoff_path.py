"""NgramModel.backoff_path: the orders tried, the one that answered, γ and the discounts; its
probabilities are next_logprobs' own."""
import math

import numpy as np
import pytest

from nextword.ngram import AddDelta, NgramModel
from nextword.ngram.estimators import make_estimator
from nextword.ngram.kneser_ney import ModifiedKneserNey
from nextword.text.vocabulary import BOS_ID

ESTIMATORS = ["mle", "add-delta", "kneser-ney", "modified-kneser-ney", "katz", "witten-bell",
              "absolute", "stupid-backoff"]
CONTEXTS = [[BOS_ID], [BOS_ID, 3], [BOS_ID, 3, 4, 5], [3, 4], [], [5, 5, 5], [BOS_ID, 0],
            [7, 8, 9, 10]]


def test_by_hand_on_a_kneser_ney_bigram():
    """a b / a b / b a, modified Kneser-Ney with the fallback discounts D = 0.5, 1, 1.5.
    After a: a(a b) = 2, a(a </s>) = 1 -> γ(a) = (D1·1 + D2·1) / 3 = (0.5 + 1) / 3 = 1/2.
    "a a" was never seen: the 2-gram is tried, γ(a) applied, the unigram answers:
    P(a | a) = γ(a) · P(a). "a b" is stored: the 2-gram answers with no γ."""
    lm = NgramModel.fit([["a", "b"], ["a", "b"], ["b", "a"]], order=2,
                        estimator=ModifiedKneserNey(discount_fallback=True))
    a, b = lm.vocab.encode(["a", "b"]).tolist()
    path = lm.backoff_path([BOS_ID, a], np.array([a, b]))
    assert path["rule"] == "backoff"
    assert [s["order"] for s in path["steps"]] == [2, 1]
    assert path["steps"][0]["context"] == [a] and path["steps"][0]["status"] == "stored"
    assert math.exp(path["steps"][0]["log_gamma"]) == pytest.approx(0.5)
    assert path["steps"][0]["discount"] == [0.5, 1.0, 1.5]
    assert path["steps"][1]["context"] == [] and path["steps"][1]["log_gamma"] is None
    assert path["answered"].tolist() == [1, 2]
    unigram = np.exp(lm.tables.logprob[1])                  # P(w), the order that answers last
    assert np.exp(path["logprob"]) == pytest.approx([0.5 * unigram[a], lm.prob("b", ("a",))])
    assert lm.prob("b", ("a",)) == pytest.approx(1 / 3 + 0.5 * unigram[b])


def test_contexts_that_reach_before_the_sentence_start_or_were_never_seen():
    lm = NgramModel.fit([["a", "b"], ["a", "b"], ["b", "a"]], order=3,
                        estimator=ModifiedKneserNey(discount_fallback=True))
    a, b = lm.vocab.encode(["a", "b"]).tolist()
    start = lm.backoff_path([BOS_ID], np.array([a]))
    assert [s["status"] for s in start["steps"]] == ["before-start", "stored", "stored"]
    assert start["steps"][0]["context"] is None and start["steps"][0]["log_gamma"] == 0.0
    assert start["answered"].tolist() == [2]                  # "<s> a" is stored
    unseen = lm.backoff_path([b, b], np.array([a]))
    assert unseen["steps"][0]["status"] == "unseen"           # "b b" never occurred
    assert unseen["answered"].tolist() == [2]                 # "b a" did


def test_uniform_rule_of_add_delta_answers_from_the_longest_seen_context():
    """<s> a b </s> / <s> a c </s>, δ = 1/4, |V| = 5: after "a", c(a) = 2, so γ(a) = 5δ/(2 + 5δ)
    and a word never seen after a gets γ(a)/|V| = δ/(2 + 5δ)."""
    lm = NgramModel.fit([["a", "b"], ["a", "c"]], order=2, estimator=AddDelta(0.25))
    a, b = lm.vocab.encode(["a", "b"]).tolist()
    path = lm.backoff_path([BOS_ID, a], np.array([a, b]))
    assert path["rule"] == "uniform"
    assert math.exp(path["steps"][0]["log_gamma"]) == pytest.approx(1.25 / 3.25)
    assert path["answered"].tolist() == [2, 2] and path["stored"].tolist() == [False, True]
    assert np.exp(path["logprob"]) == pytest.approx([0.25 / 3.25, 1.25 / 3.25])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_path_probabilities_are_next_logprobs_for_every_estimator(name, random_corpus):
    estimator = make_estimator(name, discount_fallback=True, discount=0.5)
    lm = NgramModel.fit(random_corpus, order=3, estimator=estimator)
    words = np.arange(len(lm.vocab))
    for context in CONTEXTS:
        expected = lm.next_logprobs(lm.state_for(np.array(context)))
        path = lm.backoff_path(context, words)
        assert path["logprob"][BOS_ID] == -np.inf
        finite = np.isfinite(expected)
        assert (np.isfinite(path["logprob"]) == finite).all()
        np.testing.assert_allclose(path["logprob"][finite], expected[finite], rtol=1e-12)
        # the order that answered never exceeds the context available
        assert path["answered"].max() <= min(lm.order, len(lm.state_for(np.array(context))) + 1)
