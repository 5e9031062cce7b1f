"""The batched n-gram sampler draws exactly the distribution next_logprobs gives."""
import sys

import numpy as np
import pytest
from chi_square import chi_square, chi_square_critical
from hypothesis import given, settings, strategies as st

from nextword.generate import (SamplingConfig, generate, sample_sentences, sampling_distribution,
                               sampling_distributions)
from nextword.ngram.estimators import AddDelta, make_estimator
from nextword.ngram.model import NgramModel
from nextword.ngram.sampling import NgramSampler, seed_key, uniforms

DRAWS = 50_000


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


@pytest.mark.parametrize("top_k", [None, 2])          # 2: top-k read level by level
def test_same_seed_same_text_whatever_the_batch_size(corpus, top_k):
    lm = NgramModel.fit(corpus, order=4, estimator=make_estimator("modified-kneser-ney", discount_fallback=True))
    config = SamplingConfig(max_length=12, top_k=top_k)
    assert NgramSampler(lm, config).top_k_levels == (top_k is not None)
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


def test_inverse_cdf_rows_draws_each_rows_columns_with_mass():
    """One search over the rows' running sums laid end to end (row i's shifted by 2i): each u
    gives the first column of its row whose sum exceeds u times the row's total; never a
    column without mass, even where the shift rounds the target past the row's last sum (row 1,
    u just under 1: 3 - 2^-52 rounds to 3)."""
    from nextword.ngram.sampling import _inverse_cdf_rows

    probs = np.array([[0.0, 0.5, 0.0, 0.5, 0.0], [0.25, 0.75, 0.0, 0.0, 0.0]])
    row = np.array([0, 0, 0, 0, 1, 1, 1])
    u = np.array([0.0, 0.49, 0.5, 1 - 2 ** -53, 0.0, 0.25, 1 - 2 ** -53])
    assert _inverse_cdf_rows(probs, row, u).tolist() == [1, 1, 3, 3, 0, 1, 1]


def test_backoff_weights_past_the_float_range_at_a_low_temperature(tmp_path):
    """After "<s> a": bo(<s> a) = 10^10 and T = 0.03, so bo^(1/T) = e^768 leaves the float
    range; the bigram level holds no word of its own (b, its only word, is the trigram's), and
    inf · 0 made that level's mass NaN: every draw was word -1. The level masses of such a
    history are now taken in logs, and the draws follow the distribution: bo(a) = 10^-10 makes
    the unigram level p(w) itself, so b, c, </s> and a are nearly even (one thousandth of a
    decade apart, raised to 1/T) and <unk> never drawn."""
    from nextword.ngram.arpa import read_arpa

    path = tmp_path / "large-backoff.arpa"
    path.write_text("\\data\\\nngram 1=6\nngram 2=2\nngram 3=1\n\n\\1-grams:\n"
                    "-0.5\t<s>\t0\n-0.6\t<unk>\n-0.302\ta\t-10\n-0.3\tb\n-0.3\tc\n"
                    "-0.301\t</s>\n\n\\2-grams:\n-0.2\t<s> a\t10\n-0.3\ta b\n\n"
                    "\\3-grams:\n-0.3\t<s> a b\n\n\\end\\\n")
    lm = read_arpa(path)
    observed, expected = draw_counts(lm, SamplingConfig(temperature=0.03), ["<s>", "a"])
    statistic, df = chi_square(observed, expected)
    assert df >= 3 and statistic < chi_square_critical(df), (statistic, df)
    assert observed[lm.vocab.index["<unk>"]] == 0


def test_a_level_mass_that_is_not_a_number_takes_the_exact_draw(corpus):
    """Rows whose level masses sum to NaN (no level to trust) take the whole distribution's
    draw, as rows whose masses all underflowed do; none is left at word -1."""
    lm = NgramModel.fit(corpus, 3, make_estimator("katz"))
    sampler = NgramSampler(lm, SamplingConfig())
    contexts = sampler.advance(sampler.start(6), np.array([3, 4, 5, 6, 7, 8]))
    key, sentence, step = seed_key(2), np.arange(6), np.ones(6, dtype=np.int64)
    levels = sampler._backoff_levels(contexts)
    levels[[1, 4], 0] = np.nan
    words = sampler._draw_levels(contexts, key, sentence, step, levels, sampler._backoff_word,
                                 sampler._in_backoff_level(contexts),
                                 sampler._backoff_word_by_search)
    assert (words >= 0).all()
    assert words[[1, 4]].tolist() == sampler._draw_full(contexts, key, sentence, step,
                                                         np.array([1, 4])).tolist()


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


PRUNED_ARPA = """\\data\\
ngram 1=5
ngram 2=2
ngram 3=1

\\1-grams:
-1.0 </s>
-99 <s> -0.3
-0.7 a -0.2
-0.8 b -0.1
-0.9 c

\\2-grams:
-0.4 <s> a -0.05
-0.5 a b -0.02

\\3-grams:
-0.2 <s> a c

\\end\\
"""


@pytest.mark.parametrize("smoothing", ["modified-kneser-ney", "katz", "witten-bell",
                                       "stupid-backoff", "add-delta", "pruned-arpa"])
def test_whole_distributions_from_the_children_equal_the_probes(corpus, smoothing, tmp_path):
    """The whole distributions after many histories (`NgramModel.distributions`: level 0, then
    each stored context's children), which the exact draws and `next_logprobs` read, equal
    `_logprobs`' probes of every (history, word) to the bit, for histories met while sampling
    and for the unstored and before-<s> rows; a model whose trigram lacks its suffix bigram (a
    pruned ARPA file) too."""
    from nextword.ngram.arpa import read_arpa

    if smoothing == "pruned-arpa":
        (tmp_path / "p.arpa").write_text(PRUNED_ARPA)
        lm = read_arpa(tmp_path / "p.arpa")
    else:
        lm = NgramModel.fit(corpus, order=3,
                            estimator=make_estimator(smoothing, discount_fallback=True))
    sampler = NgramSampler(lm, SamplingConfig(top_p=0.5))
    assert sampler.full
    size, V = 64, lm.vocab_size
    contexts = sampler.start(size)
    rng = np.random.default_rng(0)
    seen = [contexts]
    for _ in range(4):
        contexts = sampler.advance(contexts, rng.integers(3, V, size=size))
        seen.append(contexts)
    seen.append([None] + [np.full(size, row) for row in (-1, -2)[:lm.order - 1]])
    for contexts in seen:
        repeated = [None] + [np.repeat(c, V) for c in contexts[1:]]
        probed = lm._logprobs(repeated, np.tile(np.arange(V), size)).reshape(size, V)
        assert np.array_equal(lm.distributions(contexts, size), probed)
    for context in ([], [3], [4, 3], [V - 1, 3, 4]):
        state = lm.state_for(np.array(context[:V]) % V)
        rows = [None] + [np.full(V, row) for row in lm.context_rows(state)[1:]]
        probed = lm._logprobs(rows, np.arange(V))
        probed[1] = -np.inf                                               # <s>
        assert np.array_equal(lm.next_logprobs(state), probed)


def stable_sort_filters(weights: np.ndarray, k: int | None, p: float | None) -> np.ndarray:
    """The definitions, by a stable sort of every row by decreasing weight: the first k; then
    the first tokens whose running share of the row's mass (summed in that order) reaches p."""
    rows = np.arange(len(weights))[:, None]
    if k is not None and k < weights.shape[1]:
        keep = np.argsort(-weights, axis=1, kind="stable")[:, :k]
        mask = np.zeros(weights.shape, dtype=bool)
        mask[rows, keep] = True
        weights = np.where(mask, weights, 0.0)
    if p is not None and p < 1:
        order = np.argsort(-weights, axis=1, kind="stable")
        cumulative = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
        cumulative /= cumulative[:, -1:]
        kept = (cumulative < p).sum(axis=1, keepdims=True) + 1
        mask = np.zeros(weights.shape, dtype=bool)
        mask[rows, order] = np.arange(weights.shape[1])[None, :] < kept
        weights = np.where(mask, weights, 0.0)
    return weights


@settings(max_examples=120, deadline=None)
@given(st.lists(st.lists(st.sampled_from([-np.inf, -3.0, -2.0, -1.5, -1.0, -0.5]), min_size=6,
                         max_size=6), min_size=1, max_size=5),
       st.one_of(st.none(), st.integers(1, 7)),
       st.one_of(st.none(), st.sampled_from([0.1, 0.3, 0.5, 0.62, 0.9, 0.99])))
def test_top_k_and_top_p_keep_what_a_stable_sort_keeps(rows, k, p):
    """Exactly k tokens, ties with the k-th broken by the lower id; then the nucleus of mass p
    with its boundary ties by lower id too: whatever the ties (rows of few distinct values, many
    tied; rows with fewer than k tokens of any mass), the same numbers to the bit."""
    logprobs = np.array(rows)
    logprobs[:, 0] = np.maximum(logprobs[:, 0], -1.0)             # every row has some mass
    probs = sampling_distributions(logprobs, SamplingConfig(top_k=k, top_p=p))
    weights = stable_sort_filters(np.exp(logprobs - logprobs.max(axis=1, keepdims=True)), k, p)
    assert np.array_equal(probs, weights / weights.sum(axis=1, keepdims=True))
    if k is not None:
        assert (np.count_nonzero(probs, axis=1) <= k).all()


@pytest.mark.parametrize("columns", [1, 3, 1024])
def test_nucleus_found_past_the_first_columns_of_the_running_mass(columns, monkeypatch):
    """The nucleus is counted in the first columns of each row's running mass, and in more
    where a row's share has not reached p there: wide nuclei (flat rows) and narrow ones (peaked
    rows) in one batch give the stable sort's nucleus to the bit, at any starting width."""
    generate_module = sys.modules["nextword.generate"]
    monkeypatch.setattr(generate_module, "NUCLEUS_COLUMNS", columns)
    rng = np.random.default_rng(7)
    logprobs = np.concatenate([rng.normal(0, 0.1, (3, 40)), rng.normal(0, 4, (3, 40)),
                               np.round(rng.normal(0, 1, (3, 40)))])       # ties at the edge
    logprobs[:, 1] = -np.inf
    for p in (0.2, 0.9, 0.99):
        weights = stable_sort_filters(np.exp(logprobs - logprobs.max(axis=1, keepdims=True)),
                                      None, p)
        probs = sampling_distributions(logprobs, SamplingConfig(top_p=p))
        assert np.array_equal(probs, weights / weights.sum(axis=1, keepdims=True))
    assert np.count_nonzero(probs[:3], axis=1).min() > 3     # flat rows: wider than 3 columns


@pytest.mark.parametrize("smoothing,order", [("modified-kneser-ney", 1), ("modified-kneser-ney", 3),
                                             ("modified-kneser-ney", 5), ("katz", 3),
                                             ("witten-bell", 4), ("stupid-backoff", 3),
                                             ("pruned-arpa", 3)])
@pytest.mark.parametrize("check_after", [0, 10 ** 9])      # suffixes checked at once, or never
def test_top_k_read_level_by_level_is_the_whole_distributions_top_k(corpus, smoothing, order,
                                                                     check_after, tmp_path,
                                                                     monkeypatch):
    """The k best words found from the first words of each level (`_top_k`) are those of the
    whole distribution after the history (the k largest ln P, ties by lower id), with the same
    values to the bit, for histories met while sampling and unstored or before-<s> ones; most
    histories are read this way (it is unsure of those with a tie at the edge of what it read,
    many in a corpus this small: 65-100% are sure); and every draw is the whole distribution's
    draw. Whether a word is covered is asked of every higher context, or, once the model is
    found to store every suffix (not the pruned file), of the next one up. (The vocabulary is
    small, so the share of it up to which top-k reads the levels is lifted.)"""
    from nextword.ngram import sampling
    from nextword.ngram.arpa import read_arpa

    monkeypatch.setattr(sampling, "TOP_K_SHARE", 1)
    monkeypatch.setattr(sampling, "SUFFIX_CHECK_AFTER", check_after)

    if smoothing == "pruned-arpa":
        (tmp_path / "p.arpa").write_text(PRUNED_ARPA)
        lm = read_arpa(tmp_path / "p.arpa")
    else:
        lm = NgramModel.fit(corpus, order=order,
                            estimator=make_estimator(smoothing, discount_fallback=True))
    size, V = 300, lm.vocab_size
    rng = np.random.default_rng(order)
    for config in (SamplingConfig(top_k=1), SamplingConfig(top_k=2, temperature=0.5),
                   SamplingConfig(top_k=3), SamplingConfig(top_k=5, top_p=0.6),
                   SamplingConfig(top_k=min(12, V - 1), temperature=1.7)):
        sampler = NgramSampler(lm, config)
        assert sampler.top_k_levels and not sampler.full
        k = config.top_k
        contexts = sampler.start(size)
        seen = [contexts]
        for _ in range(5):
            contexts = sampler.advance(contexts, rng.integers(2, V, size=size))
            seen.append(contexts)
        seen.append([None] + [np.full(size, (-1, -2)[j % 2]) for j in range(lm.order - 1)])
        sure = 0
        for step, contexts in enumerate(seen):
            ids, logprobs, unsure = sampler._top_k(contexts, size)
            whole = lm.distributions(contexts, size)
            whole[:, 1] = -np.inf                                          # <s>
            best = np.sort(np.argsort(-whole, axis=1, kind="stable")[:, :k], axis=1)
            assert np.array_equal(ids[~unsure], best[~unsure]), (config, step)
            assert np.array_equal(logprobs[~unsure],
                                  np.take_along_axis(whole, best, axis=1)[~unsure])
            sure += int((~unsure).sum())
            sentence, steps = np.arange(size), np.full(size, step)
            key = seed_key(step)
            assert np.array_equal(sampler.draw(contexts, key, sentence, steps),
                                  sampler._draw_full(contexts, key, sentence, steps,
                                                     np.arange(size)))
        assert sure > 0.5 * size * len(seen), (config, sure)
        assert bool(sampler.one_probe) == (check_after == 0 and order > 1
                                           and smoothing != "pruned-arpa")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from([-np.inf, -4.0, -2.5, -1.0, -0.5, 0.0]), min_size=0,
                         max_size=9), min_size=1, max_size=6),
       st.integers(1, 5), st.randoms(use_true_random=False))
def test_the_k_best_of_each_group(groups, k, random):
    """`_best`: the k largest values of each group, ties by lower word, in word order, and the
    k-th value (-inf and the `none` word filling a group of fewer), against Python's sort;
    the candidates of the groups given mixed together."""
    from nextword.ngram.sampling import _best

    group, word, value = [], [], []
    for g, values in enumerate(groups):
        words = random.sample(range(100), len(values))
        group += [g] * len(values)
        word += words
        value += values
    mixed = list(range(len(group)))
    random.shuffle(mixed)
    ids, values, kth = _best(np.array(group, dtype=np.int64)[mixed],
                             np.array(word, dtype=np.int64)[mixed], np.array(value)[mixed],
                             len(groups), k, 1000)
    for g in range(len(groups)):
        mine = sorted((-v, w) for gg, w, v in zip(group, word, value) if gg == g)[:k]
        expected = sorted((w, -v) for v, w in mine) + [(1000, -np.inf)] * (k - len(mine))
        assert ids[g].tolist() == [w for w, _ in expected]
        assert values[g].tolist() == [v for _, v in expected]
        assert kth[g] == (-mine[k - 1][0] if len(mine) >= k else -np.inf)


def test_top_k_leaves_a_tie_made_by_rounding_to_the_whole_distribution(monkeypatch):
    """Two words whose ln p differ by one ulp read in that order, but whose ln P after a context
    of ln bo = -1000 round to the same value: the k-th best is a tie that the lower id wins,
    and the lower id was left unread. `_top_k` says it is unsure, and the draw is the whole
    distribution's, which keeps the lower id."""
    from nextword.ngram import sampling

    monkeypatch.setattr(sampling, "TOP_K_SHARE", 1)
    lm = NgramModel.fit([["w3", "w4", "w5", "w6"], ["w6", "w5"]], order=2,
                        estimator=make_estimator("modified-kneser-ney", discount_fallback=True))
    index, t = lm.vocab.index, lm.tables
    low, high = sorted([index["w4"], index["w5"]])
    t.logprob[1][:] = -50.0 - np.arange(lm.vocab_size)          # ranked by id, far below
    t.logprob[1][1] = -np.inf                                    # <s>
    t.logprob[1][index["w3"]] = -1.0
    t.logprob[1][high] = -3.0                                    # read before `low` ...
    t.logprob[1][low] = np.nextafter(-3.0, -np.inf)
    t.logbackoff[1][0] = -1000.0                                 # ... but equal after <unk>
    assert -3.0 - 1000.0 == np.nextafter(-3.0, -np.inf) - 1000.0
    sampler = NgramSampler(lm, SamplingConfig(top_k=2))
    assert sampler.top_k_levels
    size = 2000
    contexts = [None, np.zeros(size, dtype=np.int64)]            # <unk>: no word stored after it
    ids, _, unsure = sampler._top_k([None, contexts[1][:1]], 1)
    assert ids[0].tolist() == sorted([index["w3"], high]) and unsure[0]
    whole = lm.distributions(contexts, size)
    assert whole[0, low] == whole[0, high]
    words = sampler.draw(contexts, seed_key(1), np.arange(size), np.zeros(size, dtype=np.int64))
    assert set(words.tolist()) == {index["w3"], low}


def test_top_k_reads_the_levels_only_for_a_small_share_of_the_vocabulary(corpus):
    """k <= V / TOP_K_SHARE: the levels; a larger k: the whole distribution, which is faster
    there; add-δ (no backoff levels) and top-p alone: the whole distribution."""
    from nextword.ngram.sampling import TOP_K_SHARE

    lm = NgramModel.fit(corpus, order=3, estimator=make_estimator("modified-kneser-ney",
                                                                  discount_fallback=True))
    V = lm.vocab_size
    assert NgramSampler(lm, SamplingConfig(top_k=V // TOP_K_SHARE or 1)).top_k_levels == (
        TOP_K_SHARE <= V)
    assert NgramSampler(lm, SamplingConfig(top_k=V // TOP_K_SHARE + 1)).full
    assert NgramSampler(lm, SamplingConfig(top_p=0.5)).full
    assert NgramSampler(NgramModel.fit(corpus, order=2, estimator=AddDelta(0.25)),
                        SamplingConfig(top_k=1)).full
