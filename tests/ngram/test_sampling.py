"""The batched n-gram sampler draws exactly the distribution next_logprobs gives."""
import math

import numpy as np
import pytest

from nextword.generate import SamplingConfig, generate, sample_sentences, sampling_distribution
from nextword.ngram.estimators import AddDelta, make_estimator
from nextword.ngram.model import NgramModel
from nextword.ngram.sampling import NgramSampler, seed_key, uniforms

DRAWS = 50_000


def chi_square_critical(df: int, z: float = 3.719) -> float:
    """Wilson–Hilferty: the chi-square quantile at the normal quantile z (3.719: p = 1e-4)."""
    c = 2.0 / (9.0 * df)
    return df * (1.0 - c + z * math.sqrt(c)) ** 3


def chi_square(observed: np.ndarray, expected: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic, cells with expected < 5 pooled into one."""
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return float(((obs - exp) ** 2 / exp).sum()), len(exp) - 1


def draw_counts(lm, config, context, seed=5):
    """DRAWS tokens after `context` (a list of words, '<s>' allowed) through the batched sampler."""
    state = lm.state_for(lm.vocab.encode(context))
    sampler = NgramSampler(lm, config)
    contexts = [None] + [np.full(DRAWS, row, dtype=np.int64) for row in lm.context_rows(state)[1:]]
    words = sampler.draw(contexts, seed_key(seed), np.arange(DRAWS), np.zeros(DRAWS, np.int64))
    expected = sampling_distribution(lm.next_logprobs(state), config) * DRAWS
    return np.bincount(words, minlength=lm.vocab_size), expected


@pytest.fixture(scope="module")
def corpus():
    """Skewed random sentences over 30 words: many levels stored, many backed off to."""
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    p = 1.0 / np.arange(1, 31)
    return [list(rng.choice(words, size=rng.integers(1, 10), p=p / p.sum())) for _ in range(400)]


CONFIGS = [SamplingConfig(), SamplingConfig(temperature=0.6), SamplingConfig(temperature=1.7),
           SamplingConfig(top_k=4), SamplingConfig(top_p=0.8, temperature=0.9)]
CONTEXTS = [["<s>"], ["<s>", "w0"], ["w0", "w1"], ["w17", "w23"], ["w29", "w28", "w27"]]


@pytest.mark.parametrize("smoothing", ["modified-kneser-ney", "katz", "witten-bell",
                                       "stupid-backoff", "add-delta", "mle"])
def test_sampled_frequencies_match_the_distribution(corpus, smoothing):
    lm = NgramModel.fit(corpus, order=3, estimator=make_estimator(smoothing, discount_fallback=True))
    for config in CONFIGS:
        for context in CONTEXTS:
            observed, expected = draw_counts(lm, config, context)
            assert observed[expected == 0].sum() == 0, (config, context)
            statistic, df = chi_square(observed, expected)
            assert statistic < chi_square_critical(df), (smoothing, config, context, statistic, df)


def test_the_chi_square_test_can_fail(corpus):
    """Draws at T = 1 are told apart from the T = 0.6 distribution: the test has power."""
    lm = NgramModel.fit(corpus, order=3, estimator=make_estimator("modified-kneser-ney", discount_fallback=True))
    observed, _ = draw_counts(lm, SamplingConfig(), ["<s>", "w0"])
    _, sharper = draw_counts(lm, SamplingConfig(temperature=0.6), ["<s>", "w0"])
    statistic, df = chi_square(observed, sharper)
    assert statistic > 10 * chi_square_critical(df)


def test_unigram_and_five_gram_models_sample_their_distribution(corpus):
    for order in (1, 5):
        lm = NgramModel.fit(corpus, order=order, estimator=make_estimator("modified-kneser-ney", discount_fallback=True))
        observed, expected = draw_counts(lm, SamplingConfig(), ["w0", "w1", "w0", "w2"])
        statistic, df = chi_square(observed, expected)
        assert statistic < chi_square_critical(df)


def test_same_seed_same_text_whatever_the_batch_size(corpus):
    lm = NgramModel.fit(corpus, order=4, estimator=make_estimator("modified-kneser-ney", discount_fallback=True))
    config = SamplingConfig(max_length=12)
    one = list(sample_sentences(lm, 40, seed=9, config=config, batch_size=1))
    assert one == list(sample_sentences(lm, 40, seed=9, config=config, batch_size=7))
    assert one == list(sample_sentences(lm, 40, seed=9, config=config, batch_size=1000))
    assert one != list(sample_sentences(lm, 40, seed=10, config=config))
    # and the first sentences do not depend on how many follow
    assert list(sample_sentences(lm, 5, seed=9, config=config)) == one[:5]
    assert all(1 <= len(s) + 1 and len(s) <= 12 and "<s>" not in s and "</s>" not in s for s in one)


def test_sentence_lengths_follow_the_model():
    """'a b' alone: every sampled sentence is 'a b' (P = 1 at each step under MLE)."""
    lm = NgramModel.fit([["a", "b"]], order=2, estimator=make_estimator("mle"))
    assert generate(lm, 20, seed=1) == [["a", "b"]] * 20


def test_uniforms_are_uniform_and_keyed():
    u = uniforms(seed_key(1), np.arange(200_000), np.zeros(200_000, np.int64), 0)
    assert 0 <= u.min() and u.max() < 1
    counts = np.bincount((u * 20).astype(int), minlength=20)
    statistic, df = chi_square(counts, np.full(20, 10_000.0))
    assert statistic < chi_square_critical(df)
    assert not np.array_equal(u, uniforms(seed_key(2), np.arange(200_000), np.zeros(200_000, np.int64), 0))


def test_add_delta_top_k_sampling_keeps_k_words(corpus):
    lm = NgramModel.fit(corpus, order=2, estimator=AddDelta(0.25))
    observed, _ = draw_counts(lm, SamplingConfig(top_k=3), ["w17"])
    assert np.count_nonzero(observed) == 3
