import math

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.generate import generate
from nextword.model import load_model
from nextword.ngram.estimators import MLE, AddDelta, make_estimator
from nextword.ngram.model import NgramModel
from manifest_helpers import drop_manifest


def test_batched_scoring_equals_stepwise_probabilities(random_corpus):
    """sentence_logprobs (vectorised over a batch) == next_logprobs/advance token by token."""
    for order in (1, 2, 3, 5):
        lm = NgramModel.fit(random_corpus[:150], order=order, estimator=AddDelta(0.1))
        held_out = [lm.vocab.encode(s + ["never-seen"]) for s in random_corpus[150:170]]
        for sentence, logprobs in zip(held_out, lm.sentence_logprobs(held_out)):
            state, expected = lm.initial_state(), []
            for token in [*sentence.tolist(), 2]:
                expected.append(lm.next_logprobs(state)[token])
                state = lm.advance(state, token)
            np.testing.assert_allclose(logprobs, expected, rtol=0, atol=1e-12)


def test_perplexity_by_hand(two_sentences):
    """Bigram add-δ (δ = 1/4) on 'a b': P(a|<s>) P(b|a) P(</s>|b) over 3 predicted tokens."""
    lm = NgramModel.fit(two_sentences, order=2, estimator=AddDelta(0.25))
    result = evaluate(lm, [["a", "b"]])
    log_prob = math.log(2.25 / 3.25) + math.log(1.25 / 3.25) + math.log(1.25 / 2.25)
    assert result.tokens == 3 and result.sentences == 1 and result.oov == 0
    assert result.log_prob == pytest.approx(log_prob)
    assert result.perplexity == pytest.approx(math.exp(-log_prob / 3))
    assert result.bits_per_token == pytest.approx(-log_prob / 3 / math.log(2))


def test_oov_tokens_are_unk_and_reported_both_ways(two_sentences):
    """'a zebra': P(a|<s>) = 2.25/3.25; P(<unk>|a) = 0.25/3.25 (OOV);
    P(</s>|<unk>): c(<unk>) = 0, unseen context -> unigram (2 + 0.25)/(6 + 1.25)."""
    lm = NgramModel.fit(two_sentences, order=2, estimator=AddDelta(0.25))
    result = evaluate(lm, [["a", "zebra"]])
    kept = math.log(2.25 / 3.25) + math.log(2.25 / 7.25)
    assert result.oov == 1 and result.tokens == 3
    assert result.log_prob == pytest.approx(kept + math.log(0.25 / 3.25))
    assert result.log_prob_excluding_oov == pytest.approx(kept)
    assert result.perplexity_excluding_oov == pytest.approx(math.exp(-kept / 2))


def test_the_literal_unk_is_a_word_of_the_vocabulary_not_an_oov(two_sentences):
    """'<unk>' written in the text has <unk>'s id, as 'zebra' gets, but only 'zebra' is OOV;
    the OOV log-probabilities of several sentences are all taken out."""
    lm = NgramModel.fit(two_sentences, order=2, estimator=AddDelta(0.25))
    literal, unknown = evaluate(lm, [["a", "<unk>"]]), evaluate(lm, [["a", "zebra"]])
    assert literal.log_prob == unknown.log_prob
    assert (literal.oov, unknown.oov) == (0, 1)
    assert literal.log_prob_excluding_oov == literal.log_prob
    both = evaluate(lm, [["a", "zebra"], ["b"], ["zebra", "<unk>", "a"]])
    p_zebra_after_a = math.log(0.25 / 3.25)           # P(<unk> | a), as above
    p_zebra_first = math.log(0.25 / 3.25)             # P(<unk> | <s>): c(<s>) = 2, +0.25 · 5
    assert both.oov == 2 and both.tokens == 3 + 2 + 4
    assert both.log_prob_excluding_oov == pytest.approx(
        both.log_prob - p_zebra_after_a - p_zebra_first)


def test_mle_gives_infinite_perplexity_to_unseen_bigrams(two_sentences):
    lm = NgramModel.fit(two_sentences, order=2, estimator=MLE())
    assert evaluate(lm, [["a", "b"]]).perplexity == pytest.approx((0.5 * 1 * 1) ** (-1 / 3))
    assert evaluate(lm, [["b", "a"]]).perplexity == math.inf


def test_save_and_load_round_trip(tmp_path, random_corpus):
    lm = NgramModel.fit(random_corpus, order=3, estimator=AddDelta(0.25))
    lm.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, NgramModel) and loaded.vocab == lm.vocab
    assert loaded.describe() == lm.describe()
    a, b = evaluate(lm, random_corpus[:30]), evaluate(loaded, random_corpus[:30])
    assert a == b
    assert generate(lm, 3, seed=5) == generate(loaded, 3, seed=5)


def test_corrupt_model_directory_is_a_clear_error(tmp_path, random_corpus):
    lm = NgramModel.fit(random_corpus, order=2, estimator=AddDelta(0.25))
    lm.save(tmp_path / "m")
    (tmp_path / "m" / "arrays" / "keys_2.npy").write_bytes(b"not numpy")
    with pytest.raises(NextwordError, match="keys_2.npy: 9 bytes, but model.json recorded"):
        load_model(tmp_path / "m")
    drop_manifest(tmp_path / "m")
    with pytest.raises(NextwordError, match="keys_2.npy: cannot read array"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text("{")
    with pytest.raises(NextwordError, match="model.json: not a valid JSON"):
        load_model(tmp_path / "m")
    with pytest.raises(NextwordError, match="no such model"):
        load_model(tmp_path / "missing")


def test_order_must_be_positive(two_sentences):
    with pytest.raises(NextwordError, match="--order must be a whole number from 1 to 20"):
        NgramModel.fit(two_sentences, order=0, estimator=MLE())


def test_an_order_longer_than_every_sentence_scores():
    """[['b']] as a 4-gram stupid-backoff model: no 4-gram is stored (an empty table), which
    the scorer once indexed. <s> b b </s>, alpha 0.4, N = 2 predicted tokens (b, </s>):
    S(b | <s>) = 1; S(b | <s> b) = 0.4 * 0.4 * c(b) / N = 0.16 * 1/2; S(</s> | <s> b b): the
    4-gram and 3-gram are unseen, b </s> is seen once after one b: 0.4 * 0.4 * 1."""
    lm = NgramModel.fit([["b"]], 4, make_estimator("stupid-backoff"))
    assert len(lm.keys[4]) == 0
    scores = next(iter(lm.sentence_logprobs([lm.vocab.encode(["b", "b"])])))
    np.testing.assert_allclose(scores, np.log([1.0, 0.16 * 0.5, 0.16]), rtol=1e-12)
