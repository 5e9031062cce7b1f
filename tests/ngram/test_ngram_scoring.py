"""The batched scorer (match table, sorted searches) against the one-token-at-a-time path,
and evaluation's OOV bookkeeping, on sentences with OOVs, empty lines and a literal <unk>."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nextword.evaluate import evaluate
from nextword.ngram.estimators import ESTIMATORS, make_estimator
from nextword.ngram.model import NgramModel

MIXED = [["zebra", "the", "value"], [], ["<unk>", "of", "the"], ["the", "zebra", "zebra", "is"],
         ["a"], ["the", "value", "of", "a", "name", "is", "a", "name"]]


def slow_logprobs(lm, sentence):
    """ln P of each word and </s>, one next_logprobs call per token (the sampling path)."""
    state, out = lm.initial_state(), []
    for token in list(lm.vocab.encode(sentence)) + [lm.vocab.index["</s>"]]:
        out.append(lm.next_logprobs(state)[token])
        state = lm.advance(state, int(token))
    return np.array(out)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("order", [1, 2, 4])
def test_batched_scores_equal_token_by_token(small_text, small_test_text, name, order):
    lm = NgramModel.fit(small_text, order=order, estimator=make_estimator(name, discount_fallback=True))
    text = MIXED + small_test_text[:30]
    batched = list(lm.sentence_logprobs(lm.vocab.encode(s) for s in text))
    for sentence, scores in zip(text, batched):    # the same bits: the same sums, in the same order
        np.testing.assert_array_equal(scores, slow_logprobs(lm, sentence))


def test_evaluate_counts_oovs_and_excludes_them(small_text):
    """OOV = a token outside the vocabulary (the literal <unk> is in it); the figure excluding
    OOVs drops their positions only."""
    lm = NgramModel.fit(small_text, order=3, estimator=make_estimator("modified-kneser-ney"))
    result = evaluate(lm, MIXED)
    per_sentence = [slow_logprobs(lm, s) for s in MIXED]
    assert result.tokens == sum(len(s) + 1 for s in MIXED) and result.sentences == len(MIXED)
    assert result.oov == 3                                   # zebra three times
    assert result.log_prob == pytest.approx(sum(float(p.sum()) for p in per_sentence))
    oov_part = per_sentence[0][0] + per_sentence[3][1] + per_sentence[3][2]
    assert result.log_prob_excluding_oov == pytest.approx(result.log_prob - oov_part)
    assert result.perplexity == pytest.approx(math.exp(-result.log_prob / result.tokens))


def test_evaluate_streams_in_blocks(small_text, small_test_text, monkeypatch):
    """Blocks of 7 sentences give the same totals as one block."""
    import sys

    ev = sys.modules["nextword.evaluate"]         # the package re-exports a function of that name

    lm = NgramModel.fit(small_text, order=3, estimator=make_estimator("kneser-ney"))
    whole = evaluate(lm, small_test_text)
    monkeypatch.setattr(ev, "FLUSH_SENTENCES", 7)
    original = ev.encode_sentences
    monkeypatch.setattr(ev, "encode_sentences", lambda m, s, q: original(m, s, q, block_size=7))
    assert evaluate(lm, small_test_text).as_dict() == pytest.approx(whole.as_dict())


def test_the_flat_path_gives_evaluate_s_bits(small_text, small_test_text, monkeypatch):
    """`evaluate` of an n-gram model (a block of sentences as one array: `flat_logprobs`) gives
    the same Evaluation, to the bit, as the path every model takes (a sentence at a time), with
    OOVs in several blocks of FLUSH_SENTENCES sentences: the same sums in the same order."""
    import importlib

    # the module: `nextword.evaluate`, the package's attribute, is the function
    evaluate_module = importlib.import_module("nextword.evaluate")

    class SentenceAtATime:                     # the model without flat_logprobs
        def __init__(self, lm):
            self.lm, self.vocab, self.normalised = lm, lm.vocab, lm.normalised

        def sentence_logprobs(self, sentences):
            return self.lm.sentence_logprobs(sentences)

    monkeypatch.setattr(evaluate_module, "FLUSH_SENTENCES", 4)
    lm = NgramModel.fit(small_text, order=3, estimator=make_estimator("modified-kneser-ney"))
    text = (MIXED + small_test_text[:20]) * 2
    flat, general = evaluate(lm, text), evaluate(SentenceAtATime(lm), text)
    assert flat == general and flat.oov > 3
