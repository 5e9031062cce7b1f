import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.generate import SamplingConfig, generate, sampling_distribution
from nextword.ngram.estimators import AddDelta
from nextword.ngram.model import NgramModel


@pytest.fixture
def lm(random_corpus):
    return NgramModel.fit(random_corpus, order=3, estimator=AddDelta(0.25))


def test_same_seed_same_sentences(lm):
    assert generate(lm, 5, seed=11) == generate(lm, 5, seed=11)
    assert generate(lm, 5, seed=11) != generate(lm, 5, seed=12)


def test_sentences_end_at_eos_or_length_cap(lm):
    for sentence in generate(lm, 20, seed=0, config=SamplingConfig(max_length=3)):
        assert len(sentence) <= 3 and "</s>" not in sentence and "<s>" not in sentence


def test_top_k_one_is_greedy(lm):
    a = generate(lm, 3, seed=1, config=SamplingConfig(top_k=1, max_length=10))
    b = generate(lm, 3, seed=2, config=SamplingConfig(top_k=1, max_length=10))
    assert a == b


def test_sampling_distribution_temperature_top_k_top_p():
    logprobs = np.append(np.log([0.5, 0.3, 0.15, 0.05]), -np.inf)     # the last: like <s>
    assert sampling_distribution(logprobs, SamplingConfig()) == pytest.approx(np.exp(logprobs))
    # T = 1/2 squares then renormalises: p^2 / sum p^2
    squared = np.exp(logprobs) ** 2
    assert sampling_distribution(logprobs, SamplingConfig(temperature=0.5)) == pytest.approx(
        squared / squared.sum())
    assert sampling_distribution(logprobs, SamplingConfig(top_k=2)) == pytest.approx(
        [0.5 / 0.8, 0.3 / 0.8, 0, 0, 0])
    # top-p 0.7: 0.5 < 0.7, 0.5 + 0.3 >= 0.7 -> keep two
    assert sampling_distribution(logprobs, SamplingConfig(top_p=0.7)) == pytest.approx(
        [0.5 / 0.8, 0.3 / 0.8, 0, 0, 0])


def test_bad_sampling_settings():
    for kwargs in ({"temperature": 0}, {"temperature": 1e-320}, {"temperature": 0.0009},
                   {"top_k": 0}, {"top_p": 1.5}, {"max_length": 0}):
        with pytest.raises(NextwordError):
            SamplingConfig(**kwargs)


def test_top_k_keeps_exactly_k_tokens_even_among_ties():
    # five tokens tied at 0.15 around the k-th place: top-2 keeps 0.25 and the lowest-id 0.15
    probs = np.array([0.15, 0.25, 0.15, 0.15, 0.15, 0.15])
    kept = sampling_distribution(np.log(probs), SamplingConfig(top_k=2))
    assert np.count_nonzero(kept) == 2
    assert kept == pytest.approx([0.15 / 0.4, 0.25 / 0.4, 0, 0, 0, 0])


def test_top_k_under_add_delta_keeps_k_of_many_equal_unseen_words():
    # after "a" only "b" was seen; add-δ gives the other six outcomes (c..g, </s>, <unk>) one
    # equal share each: top-3 keeps b and two of the tied ones, not all of them
    lm = NgramModel.fit([["a", "b"], ["c", "d", "e", "f", "g"]], order=2, estimator=AddDelta(0.25))
    logprobs = lm.next_logprobs(lm.state_for(lm.vocab.encode(["a"])))
    kept = sampling_distribution(logprobs, SamplingConfig(top_k=3))
    assert np.count_nonzero(kept) == 3
    assert kept[lm.vocab.index["b"]] == kept.max()
    assert kept.sum() == pytest.approx(1.0)


def test_numpy_rnn_samples_many_sentences_at_once(random_corpus):
    """The NumPy RNN's batched step is `advance` row by row; the text ignores the batch size."""
    from nextword.generate import sample_sentences
    from nextword.reference.model import NumpyRNNModel
    from nextword.text.vocabulary import Vocabulary

    lm = NumpyRNNModel.initialise(Vocabulary.build(random_corpus), 8, 16, seed=3)
    sampler = lm.batch_sampler(SamplingConfig())
    state = sampler.init(4)
    np.testing.assert_allclose(sampler.logprobs(state)[2], lm.next_logprobs(lm.initial_state()),
                               atol=1e-12)
    moved = sampler.step(state, np.array([3, 4, 5, 6]))
    np.testing.assert_allclose(moved[1], lm.advance(lm.initial_state(), 4), atol=1e-12)
    config = SamplingConfig(max_length=6)
    assert list(sample_sentences(lm, 15, seed=1, config=config, batch_size=1)) == \
        list(sample_sentences(lm, 15, seed=1, config=config, batch_size=15))


def test_inverse_cdf_by_blocks_is_the_running_sum_search():
    """Integer weights summing to 256 add up exactly in any order, so the blocks' two-step
    search must give what one running sum gives: the first column whose running sum exceeds
    u · 256, for u at every boundary and between, never a column without mass; rows longer than
    a block, with a ragged last block and empty blocks."""
    from nextword.generate import DRAW_BLOCK, inverse_cdf

    rng = np.random.default_rng(3)
    V = 3 * DRAW_BLOCK + 17
    weights = np.zeros((4, V))
    for row, cells in zip(weights, (5, 40, 100, V)):
        at = rng.choice(V, size=cells, replace=False)
        at = at[at >= DRAW_BLOCK] if cells == 40 else at          # row 1: its first block empty
        row[at] = 1.0
        row[at[0]] += 256 - row.sum()                               # the row sums to 256
    cdf = np.cumsum(weights, axis=1)
    u = np.concatenate([np.arange(256) / 256, (np.arange(256) + 0.5) / 256])
    for r in range(len(weights)):
        expected = np.count_nonzero(cdf[r][None, :] <= (u * 256)[:, None], axis=1)
        got = inverse_cdf(np.repeat(weights[r:r + 1], len(u), axis=0), u)
        assert np.array_equal(got, expected)
        assert (weights[r, got] > 0).all()


def test_inverse_cdf_searches_a_row_whole_when_its_block_sums_round_apart():
    """1, then weights of 1e-16 and a last column of none: the block's sum (pairwise) exceeds 1,
    the running sum inside it (each 1e-16 lost against 1) stays at 1, so a u near 1 falls past
    the block's running sum: the row is searched whole, and the draw is its last column with
    mass, not the block's last column."""
    from nextword.generate import DRAW_BLOCK, inverse_cdf

    weights = np.array([[1.0] + [1e-16] * (DRAW_BLOCK - 2) + [0.0] * 6])
    assert np.add.reduceat(weights, [0, DRAW_BLOCK], axis=1)[0, 0] > 1.0      # the premise
    assert inverse_cdf(weights, np.array([1 - 2 ** -53])).tolist() == [DRAW_BLOCK - 2]
    assert inverse_cdf(weights, np.array([0.5])).tolist() == [0]


def test_sampling_distributions_leave_their_input_alone():
    """The weights are worked in place, but never in the caller's array (at T = 1 the scaled
    log-probabilities are the input itself)."""
    from nextword.generate import sampling_distributions

    logprobs = np.log(np.array([[0.5, 0.3, 0.15, 0.05], [0.1, 0.2, 0.3, 0.4]]))
    before = logprobs.copy()
    for config in (SamplingConfig(), SamplingConfig(temperature=0.5, top_k=3, top_p=0.6)):
        sampling_distributions(logprobs, config)
        assert np.array_equal(logprobs, before)
