"""Linear and log-linear mixtures: EM against a hand-solved optimum, normalisation, alignment
of components, vocabulary maps, storage, and the CLI."""
import math

import numpy as np
import pytest
from click.testing import CliRunner

from nextword.cli import cli, main
from nextword.combine.distributions import sentence_distributions
from nextword.combine.mixture import Mixture, fit_linear, fit_loglinear
from nextword.combine.vocabmap import id_map
from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.model import load_model
from nextword.ngram import AddDelta, NgramModel
from nextword.ngram import ModifiedKneserNey
from nextword.generate import SamplingConfig
from nextword.text.vocabulary import BOS_ID, Vocabulary

TRAIN = [line.split() for line in ["the cat sat on the mat", "the dog ran in the park",
                                   "a cat sat", "a dog ran", "the cat ran"] * 3]
TEST = [line.split() for line in ["the dog sat on the mat", "a cat ran in the park", "the zebra"]]


def permuted(vocab: Vocabulary, seed=0) -> Vocabulary:
    """The same words, the non-reserved ones in another order."""
    words = vocab.tokens[3:]
    order = np.random.default_rng(seed).permutation(len(words))
    return Vocabulary(vocab.tokens[:3] + [words[i] for i in order],
                      vocab.counts[:3] + [vocab.counts[3 + i] for i in order])


@pytest.fixture
def models():
    vocab = Vocabulary.build(TRAIN)
    bigram = NgramModel.fit(TRAIN, order=2, estimator=AddDelta(0.5), vocab=vocab)
    trigram = NgramModel.fit(TRAIN, order=3, estimator=ModifiedKneserNey(discount_fallback=True), vocab=vocab)
    return bigram, trigram


# ---- EM --------------------------------------------------------------------------------------
def test_em_reaches_the_hand_computed_optimum():
    """Two token types: 2 tokens with (P1, P2) = (0.6, 0.2) and 1 with (0.1, 0.5).
    L(λ) = 2 ln(0.2 + 0.4λ) + ln(0.5 - 0.4λ);  L'(λ) = 0  <=>  2·0.4/(0.2 + 0.4λ) = 0.4/(0.5 - 0.4λ)
    <=> 2 (0.5 - 0.4λ) = 0.2 + 0.4λ  <=>  λ = 0.8 / 1.2 = 2/3."""
    logprobs = np.log([[0.6, 0.2], [0.6, 0.2], [0.1, 0.5]])
    history = fit_linear(logprobs, tolerance=1e-12)
    assert history[0].weights == [0.5, 0.5]
    # first EM step by hand: r = 0.6·0.5/(0.4) = 0.75 (twice) and 0.05/0.3 = 1/6 -> (1.5 + 1/6)/3
    assert history[1].weights[0] == pytest.approx((0.75 * 2 + 1 / 6) / 3)
    lam = history[-1].weights[0]
    assert lam == pytest.approx(2 / 3, abs=1e-5)
    best = math.exp(-(2 * math.log(0.2 + 0.4 * 2 / 3) + math.log(0.5 - 0.4 * 2 / 3)) / 3)
    assert history[-1].perplexity == pytest.approx(best, rel=1e-9)
    ppls = [h.perplexity for h in history]
    assert all(a >= b - 1e-12 for a, b in zip(ppls, ppls[1:]))      # EM never gets worse


def test_em_with_disjoint_support_needs_one_step():
    """Component 1 predicts 3 tokens, component 2 the other 1 (each gives the other's 0):
    the posteriors are 0/1, so λ = (3/4, 1/4) after one step whatever the start."""
    with np.errstate(divide="ignore"):
        logprobs = np.log([[0.5, 0.0]] * 3 + [[0.0, 0.25]])
    history = fit_linear(logprobs, weights=[0.1, 0.9])
    assert history[1].weights == pytest.approx([0.75, 0.25])
    assert history[-1].weights == pytest.approx([0.75, 0.25])


def test_linear_mixture_scores_are_the_weighted_sum(models):
    bigram, trigram = models
    sentences = [bigram.vocab.encode(s) for s in TEST]
    p1 = np.concatenate(list(bigram.sentence_logprobs(sentences)))
    p2 = np.concatenate(list(trigram.sentence_logprobs(sentences)))
    mix = Mixture([bigram, trigram], [0.3, 0.7])
    got = np.concatenate(list(mix.sentence_logprobs(sentences)))
    np.testing.assert_allclose(np.exp(got), 0.3 * np.exp(p1) + 0.7 * np.exp(p2), rtol=1e-12)


@pytest.mark.parametrize("combination,weights", [("linear", [0.25, 0.75]),
                                                 ("log-linear", [0.8, 0.6])])
def test_mixture_distributions_sum_to_one(models, combination, weights):
    mix = Mixture(list(models), weights, combination)
    state = mix.initial_state()
    for word in ["the", "cat", "sat", "zebra", "on"]:
        p = np.exp(mix.next_logprobs(state))
        assert p.sum() == pytest.approx(1.0, abs=1e-12) and p[BOS_ID] == 0
        state = mix.advance(state, int(mix.vocab.encode([word])[0]))
    sentences = [mix.vocab.encode(s) for s in TEST]
    for ids, dist, scores in zip(sentences, mix.sentence_distributions(sentences),
                                 mix.sentence_logprobs(sentences)):
        np.testing.assert_allclose(np.exp(dist).sum(axis=1), 1.0, atol=1e-12)
        targets = np.append(ids, 2)
        np.testing.assert_allclose(dist[np.arange(len(targets)), targets], scores, atol=1e-12)


def test_loglinear_equals_normalised_product_by_hand(models):
    """P(w | h) = P1^0.8 P2^0.6 / Σ_w' P1^0.8 P2^0.6, checked at one history word by word."""
    bigram, trigram = models
    mix = Mixture([bigram, trigram], [0.8, 0.6], "log-linear")
    state = mix.state_for(mix.vocab.encode(["<s>", "the"]))
    p1 = np.exp(bigram.next_logprobs(state[0]))
    p2 = np.exp(trigram.next_logprobs(state[1]))
    product = p1 ** 0.8 * p2 ** 0.6
    np.testing.assert_allclose(np.exp(mix.next_logprobs(state)), product / product.sum(), rtol=1e-10)


def test_ngram_distributions_match_the_pairwise_scores(models):
    """The vectorised full distributions agree with next_logprobs at every position."""
    for model in models:
        sentences = [model.vocab.encode(s) for s in TEST]
        for ids, dist in zip(sentences, sentence_distributions(model, sentences)):
            state = model.initial_state()
            for t, token in enumerate(list(ids) + [2]):
                np.testing.assert_allclose(dist[t], model.next_logprobs(state), atol=1e-12)
                state = model.advance(state, int(token))


def test_loglinear_fit_finds_the_best_weight():
    """Log-linear weights maximise the likelihood: the fitted λ beats its neighbours, and on
    data drawn from P1 alone (component 2 uniform) the fit puts λ1 near 1."""
    rng = np.random.default_rng(0)
    P, V = 400, 6
    p1 = rng.dirichlet(np.ones(V) * 0.5, size=P)                    # sharp, the true model
    targets = np.array([rng.choice(V, p=row) for row in p1])
    D = np.stack([np.log(p1), np.full((P, V), -math.log(V))], axis=-1)
    history = fit_loglinear(D, targets, steps=20)
    lam = np.array(history[-1].weights)

    def loglik(l):
        s = D @ l
        return np.mean(s[np.arange(P), targets] - np.log(np.exp(s).sum(1)))
    assert loglik(lam) >= max(loglik(lam + d) for d in np.eye(2) * 1e-3) - 1e-12
    assert loglik(lam) >= max(loglik(lam - d) for d in np.eye(2) * 1e-3) - 1e-12
    assert lam[0] == pytest.approx(1.0, abs=0.15)


# ---- vocabularies ----------------------------------------------------------------------------
def test_permuted_vocabulary_is_mapped(models, tmp_path):
    bigram, trigram = models
    other_vocab = permuted(trigram.vocab)
    assert other_vocab.tokens != trigram.vocab.tokens
    shuffled = NgramModel.fit(TRAIN, order=3, estimator=ModifiedKneserNey(discount_fallback=True),
                              vocab=other_vocab)
    direct = Mixture([bigram, trigram], [0.4, 0.6])
    mapped = Mixture([bigram, shuffled], [0.4, 0.6])
    assert evaluate(mapped, TEST).log_prob == pytest.approx(evaluate(direct, TEST).log_prob, abs=1e-9)
    state_a, state_b = direct.state_for(direct.vocab.encode(["the"])), mapped.state_for(
        mapped.vocab.encode(["the"]))
    np.testing.assert_allclose(mapped.next_logprobs(state_b), direct.next_logprobs(state_a), atol=1e-12)
    ids = id_map(bigram.vocab, other_vocab)
    assert [other_vocab.tokens[i] for i in ids] == bigram.vocab.tokens


def test_different_words_are_named(models):
    bigram, _ = models
    other = NgramModel.fit(TRAIN + [["a", "hippo"]], order=2, estimator=AddDelta(0.5))
    with pytest.raises(NextwordError, match=r"1 only in model 2 \(hippo\)"):
        Mixture([bigram, other], [0.5, 0.5])


# ---- storage and the CLI ---------------------------------------------------------------------
def test_mix_command_fits_saves_and_evaluates(models, tmp_path):
    bigram, trigram = models
    bigram.save(tmp_path / "bi")
    trigram.save(tmp_path / "tri")
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(" ".join(s) for s in TEST) + "\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["mix", str(tmp_path / "bi"), str(tmp_path / "tri"),
                                 "--valid", str(valid), "-o", str(tmp_path / "mix")])
    assert result.exit_code == 0, result.output
    assert "EM   0: weights 0.5000, 0.5000" in result.output
    meta = (tmp_path / "mix" / "model.json").read_text()
    assert '"../bi"' in meta and '"../tri"' in meta           # relative to the mixture's folder
    loaded = load_model(tmp_path / "mix")
    sentences = [loaded.vocab.encode(s) for s in TEST]
    matrix = np.concatenate(list(Mixture([bigram, trigram], [0.5, 0.5]).component_logprobs(sentences)))
    expected = fit_linear(matrix)[-1]
    assert loaded.weights == pytest.approx(expected.weights)
    assert evaluate(loaded, TEST).perplexity == pytest.approx(expected.perplexity)
    out = runner.invoke(cli, ["eval", str(tmp_path / "mix"), "--corpus", str(valid)])
    assert out.exit_code == 0 and f"perplexity {expected.perplexity:.2f}" in out.output
    assert runner.invoke(cli, ["info", str(tmp_path / "mix")]).exit_code == 0
    gen = runner.invoke(cli, ["generate", str(tmp_path / "mix"), "--seed", "1", "-k", "2"])
    assert gen.exit_code == 0 and len(gen.output.splitlines()) == 2
    hand = runner.invoke(cli, ["mix", str(tmp_path / "bi"), str(tmp_path / "tri"),
                               "--weights", "0.2,0.8", "-o", str(tmp_path / "hand")])
    assert hand.exit_code == 0 and load_model(tmp_path / "hand").weights == [0.2, 0.8]


def test_mix_command_errors_are_one_line(models, tmp_path, capsys):
    bigram, _ = models
    bigram.save(tmp_path / "bi")
    NgramModel.fit(TRAIN + [["a", "hippo"]], order=2, estimator=AddDelta(0.5)).save(tmp_path / "other")
    runner = CliRunner()
    for args, message in [
        (["--weights", "0.5"], "1 weights for 2 models"),
        (["--weights", "0.5,x"], "expected numbers"),
        ([], "give --valid"),
    ]:
        code = main(["mix", str(tmp_path / "bi"), str(tmp_path / "bi"), "-o", str(tmp_path / "m"),
                     *args])
        err = capsys.readouterr().err
        assert code != 0 and err.startswith("nextword: error: ") and message in err, err
        assert len(err.splitlines()) == 1
    code = main(["mix", str(tmp_path / "bi"), str(tmp_path / "other"), "--weights", "0.5,0.5",
                 "-o", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code != 0 and "1 only in " in err and "(hippo)" in err, err
    assert not (tmp_path / "m").exists()


def test_mix_never_overwrites_another_model_or_its_own_components(models, tmp_path, capsys):
    """A folder holding another kind of model survives (unless --force); no --force may put the
    mixture over or around a model it combines, which would delete that component."""
    bigram, trigram = models
    bigram.save(tmp_path / "bi")
    trigram.save(tmp_path / "tri")
    trigram.save(tmp_path / "keep")
    before = evaluate(load_model(tmp_path / "keep"), TEST).perplexity
    mix = ["mix", str(tmp_path / "bi"), str(tmp_path / "tri"), "--weights", "0.5,0.5", "-o"]
    for output, force, message in [(tmp_path / "keep", [], "holds an ngram model, not a mixture"),
                                   (tmp_path / "tri", ["--force"], "one of the models combined"),
                                   (tmp_path, ["--force"], "one of the models combined")]:
        code = main([*mix, str(output), *force])
        err = capsys.readouterr().err
        assert code != 0 and err.startswith("nextword: error: ") and message in err, err
        assert len(err.splitlines()) == 1
    assert evaluate(load_model(tmp_path / "keep"), TEST).perplexity == before
    assert evaluate(load_model(tmp_path / "tri"), TEST).perplexity == evaluate(trigram, TEST).perplexity
    assert main([*mix, str(tmp_path / "keep"), "--force"]) == 0         # replaced, whole
    replaced = load_model(tmp_path / "keep")
    assert isinstance(replaced, Mixture) and replaced.weights == [0.5, 0.5]
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["model.json"]   # no n-gram left
    assert main([*mix, str(tmp_path / "keep")]) == 0                   # a mixture over a mixture


def test_saved_mixture_in_memory_components_round_trip(models, tmp_path):
    mix = Mixture(list(models), [0.3, 0.7], "log-linear")
    mix.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.combination == "log-linear" and loaded.weights == [0.3, 0.7]
    assert evaluate(loaded, TEST).log_prob == pytest.approx(evaluate(mix, TEST).log_prob, abs=1e-10)


def test_mix_command_log_linear(models, tmp_path):
    """--log-linear fits by Newton steps on sampled lines (here every line: 3 lines, 3+ positions
    asked) and saves a mixture whose validation perplexity is the one printed."""
    bigram, trigram = models
    bigram.save(tmp_path / "bi")
    trigram.save(tmp_path / "tri")
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(" ".join(s) for s in TEST) + "\n")
    r = CliRunner().invoke(cli, ["mix", str(tmp_path / "bi"), str(tmp_path / "tri"), "--log-linear",
                                 "--valid", str(valid), "--sample-positions", "100",
                                 "-o", str(tmp_path / "ll")])
    assert r.exit_code == 0, r.output
    assert "Newton  0: weights 0.5000, 0.5000" in r.output
    loaded = load_model(tmp_path / "ll")
    assert loaded.combination == "log-linear"
    sentences = [loaded.vocab.encode(s) for s in TEST]
    D, targets = [], []
    for ids, dists in zip(sentences, loaded.component_distributions(sentences)):
        D.append(dists[:, [i for i in range(len(loaded.vocab)) if i != BOS_ID]])
        full = np.append(ids, 2)
        targets.append(full - (full > BOS_ID))            # <s>'s column (id 1) is gone
    expected = fit_loglinear(np.concatenate(D), np.concatenate(targets))[-1]
    assert loaded.weights == pytest.approx(expected.weights, rel=1e-5)
    assert evaluate(loaded, TEST).perplexity == pytest.approx(expected.perplexity, rel=1e-5)
    assert f"perplexity {expected.perplexity:.2f}" in r.output.splitlines()[-2]


def test_distributions_of_kept_lines_only(models):
    bigram, trigram = models
    mix = Mixture([bigram, trigram], [0.5, 0.5])
    sentences = [mix.vocab.encode(s) for s in TEST]
    every = list(mix.component_distributions(sentences))
    some = list(mix.component_distributions(sentences, keep=lambda i: i == 1))
    assert some[0] is None and some[2] is None
    np.testing.assert_array_equal(some[1], every[1])


def test_info_names_components_and_weights(models, tmp_path, capsys):
    bigram, trigram = models
    Mixture([bigram, trigram], [0.25, 0.75]).save(tmp_path / "m")
    assert main(["info", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "linear component component-1: ngram, weight 0.2500" in out
    assert "linear component component-2: ngram, weight 0.7500" in out


def test_perplexity_of_a_diverged_reading_is_inf_not_an_error():
    """Tuning tries learning rates that can diverge: a mean ln P of -1000 must rank as inf."""
    from nextword.combine.mixture import perplexity

    assert perplexity(np.array([-1000.0, -1000.0])) == math.inf
    assert perplexity(np.array([math.log(0.5), math.log(0.125)])) == pytest.approx(4.0)   # (2·8)^½


# ---- sampling many sentences at once ----------------------------------------------------------
def rnn_like(vocab: Vocabulary):
    """A NumPy RNN with random weights: a component that steps a batch its own way."""
    from nextword.reference.model import NumpyRNNModel

    return NumpyRNNModel.initialise(vocab, 3, 8)


def test_batched_mixture_steps_give_next_logprobs(models):
    """The batched sampler's distributions after each prefix are `next_logprobs`' after it: to
    the bit for n-gram components (their whole distributions, combined element by element as
    `_combine` combines them, or by `_combine` itself when log-linear), to rounding with an RNN
    (its batch in one matrix product)."""
    bigram, trigram = models
    shuffled = NgramModel.fit(TRAIN, order=3, estimator=ModifiedKneserNey(discount_fallback=True),
                              vocab=permuted(trigram.vocab))
    prefixes = [[], ["the"], ["the", "cat"], ["a", "dog", "ran", "in"], ["zebra", "the"]]
    rnn = rnn_like(trigram.vocab)
    for components, combination, exact in (([bigram, shuffled], "linear", True),
                                           ([bigram, shuffled], "log-linear", True),
                                           ([trigram, rnn], "linear", False)):
        lm = Mixture(components, [0.3, 0.7], combination)
        sampler = lm.batch_sampler(SamplingConfig())
        for prefix in prefixes:
            ids = lm.vocab.encode(prefix)
            state = sampler.init(3)
            for token in ids:
                state = sampler.step(state, np.full(3, token))
            batched = sampler.logprobs(sampler.select(state, np.array([2])))[0]
            expected = lm.next_logprobs(lm.state_for(ids))
            if exact:
                assert np.array_equal(batched, expected), prefix
            else:
                np.testing.assert_allclose(batched, expected, rtol=0, atol=1e-9)


def test_batched_mixture_draws_its_distribution_whatever_the_batch_size(models):
    """First words of 20,000 sentences by the batched sampler against the mixture's first
    distribution (chi-square at p = 1e-4), and the same text at batch sizes 1, 7 and 256."""
    from chi_square import chi_square, chi_square_critical
    from nextword.generate import sample_sentences, sampling_distribution

    bigram, trigram = models
    lm = Mixture([trigram, rnn_like(trigram.vocab)], [0.6, 0.4])
    config = SamplingConfig(temperature=0.8, max_length=1)
    draws = 20_000
    first = [s[0] if s else "</s>" for s in sample_sentences(lm, draws, seed=3, config=config)]
    observed = np.bincount(lm.vocab.encode(first), minlength=len(lm.vocab))
    expected = sampling_distribution(lm.next_logprobs(lm.initial_state()), config) * draws
    statistic, df = chi_square(observed, expected)
    assert df >= 5 and statistic < chi_square_critical(df), (statistic, df)
    texts = [list(sample_sentences(lm, 20, seed=5, config=SamplingConfig(), batch_size=size))
             for size in (1, 7, 256)]
    assert texts[0] == texts[1] == texts[2]


def test_a_mixture_with_a_component_stepped_one_sentence_at_a_time_samples_that_way(models):
    """A component without batched steps: no batched sampler, and `generate` draws one
    sentence at a time (the same text for the same seed)."""
    from nextword.generate import generate
    from nextword.model import LanguageModel

    bigram, trigram = models

    class OneAtATime(LanguageModel):
        vocab, normalised = trigram.vocab, True

        def sentence_logprobs(self, sentences):
            return trigram.sentence_logprobs(sentences)

        def initial_state(self):
            return trigram.initial_state()

        def next_logprobs(self, state):
            return trigram.next_logprobs(state)

        def advance(self, state, token):
            return trigram.advance(state, token)

        def save(self, directory, force=False):
            raise NotImplementedError

    lm = Mixture([bigram, OneAtATime()], [0.5, 0.5])
    assert lm.batch_sampler(SamplingConfig()) is None
    text = generate(lm, 5, seed=2)
    assert len(text) == 5 and text == generate(lm, 5, seed=2)
