"""The continuous cache and dynamic evaluation on a tiny trained LSTM: formulas against a
token-by-token reference, normalisation, causality, storage, the CLI, and mixing with n-grams."""
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from nextword.cli import cli
from nextword.combine.adapted import AdaptedLM
from nextword.combine.cache import CacheConfig
from nextword.combine.dynamic import DynamicConfig
from nextword.combine.mixture import Mixture
from nextword.evaluate import evaluate
from nextword.model import load_model
from nextword.neural.recurrent import RecurrentConfig
from nextword.ngram import AddDelta, NgramModel
from nextword.text.vocabulary import BOS_ID, EOS_ID, Vocabulary

LINES = ["the cat sat on the mat", "the dog ran in the park", "a cat sat", "a dog ran"]
TEST = [line.split() for line in ["the dog sat on the mat", "a cat ran in the park",
                                  "the cat sat", "a dog ran in the mat"]]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def lstm_path(tmp_path_factory):
    """A 1-layer LSTM (16 units) trained by 150 Adam steps on the stream of the four lines."""
    from nextword.neural.batching import token_stream
    from nextword.neural.model import NeuralLM
    from nextword.neural.recurrent import build_net
    from nextword.neural.train import full_softmax_loss

    sentences = [line.split() for line in LINES * 12]
    vocab = Vocabulary.build(sentences)
    torch.manual_seed(0)
    net = build_net(RecurrentConfig("lstm", len(vocab), embedding_dim=16, hidden_dim=16,
                                    num_layers=1, dropout=0.0, tie=False))
    stream = torch.as_tensor(token_stream(vocab.encode(s) for s in sentences))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for step in range(150):
        i = (step * 16) % (len(stream) - 17)
        features, _ = net(stream[i: i + 16, None], net.initial_state(1))
        loss = full_softmax_loss(net, features, stream[i + 1: i + 17, None])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = tmp_path_factory.mktemp("lstm") / "lstm"
    NeuralLM(net.eval(), vocab).save(path)
    return path


@pytest.fixture
def lstm(lstm_path):
    return load_model(lstm_path)


def encoded(vocab, sentences):
    return [vocab.encode(s) for s in sentences]


def scores(model, sentences):
    return np.concatenate(list(model.sentence_logprobs(encoded(model.vocab, sentences))))


def stream_of(vocab, sentences):
    """</s> s1 </s> s2 </s> ...: inputs are stream[:-1], targets stream[1:]."""
    return np.concatenate([[EOS_ID]] + [np.append(vocab.encode(s), EOS_ID) for s in sentences])


# ---- the plain reader is the neural model's own stream scoring --------------------------------
def test_without_cache_or_dynamic_scores_equal_the_model(lstm):
    np.testing.assert_allclose(scores(AdaptedLM(lstm), TEST), scores(lstm, TEST), atol=1e-5)


# ---- cache --------------------------------------------------------------------------------------
def reference_cache(lstm, sentences, config: CacheConfig) -> np.ndarray:
    """Token by token, as Grave et al. write it: h(t) from the model step by step, then
    p_cache(w) = Σ_{i in [t-L, t-1], x(i+1) = w} exp(θ h(t)·h(i))
                 / Σ_{i in [t-L, t-1]} exp(θ h(t)·h(i))."""
    stream = stream_of(lstm.vocab, sentences)
    net = lstm.net
    state = net.initial_state(1)
    hs, out = [], []
    with torch.no_grad():
        for t in range(len(stream) - 1):
            features, state = net(torch.tensor([[int(stream[t])]]), state)
            h = features[0, 0]
            p_model = torch.softmax(net.logits(h), dim=-1).double().numpy()
            target = int(stream[t + 1])
            past = range(max(0, t - config.size), t)
            if past:
                w = np.array([math.exp(config.theta * float(h @ hs[i])) for i in past])
                hit = np.array([float(stream[i + 1] == target) for i in past])
                p = (1 - config.lam) * p_model[target] + config.lam * (w * hit).sum() / w.sum()
            else:
                p = p_model[target]
            out.append(math.log(p))
            hs.append(h)
    return np.array(out)


@pytest.mark.parametrize("size", [3, 1000])
def test_cache_matches_the_token_by_token_formula(lstm, size, monkeypatch):
    from nextword.combine import adapted
    monkeypatch.setattr(adapted, "STATIC_CHUNK", 7)           # the cache carried across chunks
    config = CacheConfig(size=size, theta=0.7, lam=0.3)
    np.testing.assert_allclose(scores(AdaptedLM(lstm, cache=config), TEST),
                               reference_cache(lstm, TEST, config), atol=1e-5)


def test_cache_distributions_sum_to_one(lstm):
    model = AdaptedLM(lstm, cache=CacheConfig(size=5, theta=1.0, lam=0.4))
    sentences = encoded(model.vocab, TEST)
    for ids, dist, s in zip(sentences, model.sentence_distributions(sentences),
                            model.sentence_logprobs(sentences)):
        np.testing.assert_allclose(np.exp(dist).sum(axis=1), 1.0, atol=1e-5)
        assert (dist[:, BOS_ID] == -np.inf).all()
        np.testing.assert_allclose(dist[np.arange(len(ids) + 1), np.append(ids, EOS_ID)], s, atol=1e-6)
    state = model.initial_state()
    for word in ["the", "cat", "the", "cat"]:
        p = np.exp(model.next_logprobs(state))
        assert p.sum() == pytest.approx(1.0, abs=1e-5) and p[BOS_ID] == 0
        state = model.advance(state, int(model.vocab.encode([word])[0]))


# ---- dynamic evaluation -------------------------------------------------------------------------
def test_dynamic_with_zero_learning_rate_is_static(lstm):
    model = AdaptedLM(lstm, dynamic=DynamicConfig(lr=0.0, segment=4))
    np.testing.assert_allclose(scores(model, TEST), scores(lstm, TEST), atol=1e-5)


def test_dynamic_second_segment_uses_one_sgd_step(lstm):
    """Segment 1 scored with θ; segment 2 with θ - η g + λ(θ0 - (θ - η g)), θ0 = θ, where g is
    the gradient of segment 1's mean loss (computed here by hand with autograd)."""
    T, lr, decay = 5, 0.5, 0.1
    stream = torch.as_tensor(stream_of(lstm.vocab, TEST))
    before = [p.detach().clone() for p in lstm.net.parameters()]
    got = scores(AdaptedLM(lstm, dynamic=DynamicConfig(lr, decay, T)), TEST)
    net = lstm.net
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), before))   # a copy learnt
    import copy
    twin = copy.deepcopy(net)
    features, state = twin(stream[:T, None], twin.initial_state(1))
    logp = torch.log_softmax(twin.logits(features[:, 0]), dim=-1)
    loss = -logp.gather(1, stream[1: T + 1, None]).mean()
    loss.backward()
    with torch.no_grad():
        for p, p0 in zip(twin.parameters(), net.parameters()):
            p -= lr * p.grad
            p += decay * (p0 - p)
        features, _ = twin(stream[T: 2 * T, None], tuple(s.detach() for s in state))
        logp2 = torch.log_softmax(twin.logits(features[:, 0]), dim=-1)
        expected = logp2.gather(1, stream[T + 1: 2 * T + 1, None])[:, 0].numpy()
    np.testing.assert_allclose(got[:T], logp.gather(1, stream[1: T + 1, None])[:, 0].detach().numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(got[T: 2 * T], expected, atol=1e-5)
    assert not np.allclose(got[T: 2 * T], scores(lstm, TEST)[T: 2 * T], atol=1e-3)   # it learnt


# ---- causality: a token's score depends only on the tokens before it ---------------------------
ADAPTED = {
    "cache": dict(cache=CacheConfig(size=6, theta=1.0, lam=0.5)),
    "dynamic": dict(dynamic=DynamicConfig(lr=1.0, decay=0.0, segment=4)),
    "both": dict(cache=CacheConfig(size=6, theta=1.0, lam=0.5),
                 dynamic=DynamicConfig(lr=1.0, decay=0.0, segment=4)),
}


@pytest.mark.parametrize("kind", ADAPTED)
def test_later_tokens_do_not_change_earlier_scores(lstm, kind):
    """Replace every word from position p on: scores before p stay identical, and the score
    at p is read from a distribution that did not see x(p): summed over every word put at p,
    the probabilities make 1 (a model that learnt from x(p) before scoring it would not)."""
    model = AdaptedLM(lstm, **ADAPTED[kind])
    words = [w for w in model.vocab.tokens[3:]]
    base = [TEST[0], TEST[1] + ["the"]]
    reference = scores(model, base)
    rng = np.random.default_rng(0)
    for p in (3, 9, 13):                        # within segment 1, inside segment 3, segment 4
        flat = [w for s in base for w in s + ["</s>"]]
        changed = flat[:p] + [w if w == "</s>" else str(rng.choice(words)) for w in flat[p:]]
        other = scores(model, lines_of(changed))
        np.testing.assert_array_equal(other[:p], reference[:p])
        assert not np.allclose(other[p:], reference[p:])
    p = 3                                       # every outcome w (all but <s>) put at position p
    outcomes = [w for w in model.vocab.tokens if w != "<s>"]
    total = sum(math.exp(scores(model, lines_of(flat[:p] + [w]))[p]) for w in outcomes)
    assert total == pytest.approx(1.0, abs=1e-5)


def lines_of(tokens):
    """A token list with </s> marks -> lines (a final </s> just closes the last line)."""
    text = " ".join(tokens)
    text = text[: -len(" </s>")] if text.endswith(" </s>") else text
    return [line.split() for line in text.split(" </s>")]


# ---- storage, the CLI, and mixing with an n-gram model -----------------------------------------
def test_adapt_command_tunes_saves_and_evaluates(lstm_path, tmp_path):
    valid = tmp_path / "valid.txt"
    valid.write_text("\n".join(" ".join(s) for s in TEST) + "\n")
    runner = CliRunner()
    out = tmp_path / "adapted"
    r = runner.invoke(cli, ["adapt", str(lstm_path), "--valid", str(valid), "-o", str(out),
                            "--cache", "3,10", "--theta", "0.5,1", "--dynamic",
                            "--lr", "0,0.3", "--decay", "0"])
    assert r.exit_code == 0, r.output
    assert "lr 0 decay 0: perplexity" in r.output and "L    10 θ 1.00" in r.output
    model = load_model(out)
    assert isinstance(model, AdaptedLM) and model.cache.size in (3, 10) and model.dynamic.lr in (0, 0.3)
    best_dynamic = min(model.fit["dynamic"]["grid"], key=lambda r: r["perplexity"])
    assert model.dynamic.lr == best_dynamic["lr"]
    best_cache = min(model.fit["cache"]["grid"][1:], key=lambda r: r["perplexity"])
    assert evaluate(model, TEST).perplexity == pytest.approx(best_cache["perplexity"], rel=1e-5)
    e = runner.invoke(cli, ["eval", str(out), "--corpus", str(valid)])
    assert e.exit_code == 0 and f"perplexity {best_cache['perplexity']:.2f}" in e.output
    g = runner.invoke(cli, ["generate", str(out), "-k", "2", "--seed", "0"])
    assert g.exit_code == 0 and len(g.output.splitlines()) == 2
    assert runner.invoke(cli, ["info", str(out)]).exit_code == 0


def test_mixture_of_ngram_and_lstm_aligns_conventions(lstm, lstm_path, tmp_path):
    """The n-gram model scores per sentence, the LSTM as one stream: each under its own
    convention, token t of the mixture combines token t of both (the same words)."""
    sentences = [line.split() for line in LINES * 12]
    ngram = NgramModel.fit(sentences, order=2, estimator=AddDelta(0.5), vocab=lstm.vocab)
    ngram.save(tmp_path / "bigram")
    adapted = AdaptedLM(lstm, cache=CacheConfig(4, 1.0, 0.2), base_path=lstm_path)
    adapted.save(tmp_path / "cached")
    mix = Mixture([load_model(tmp_path / "bigram"), load_model(tmp_path / "cached")], [0.4, 0.6],
                  paths=[tmp_path / "bigram", tmp_path / "cached"])
    expected = np.log(0.4 * np.exp(scores(ngram, TEST)) + 0.6 * np.exp(scores(adapted, TEST)))
    np.testing.assert_allclose(scores(mix, TEST), expected, atol=1e-9)
    mix.save(tmp_path / "mix")
    assert evaluate(load_model(tmp_path / "mix"), TEST).log_prob == pytest.approx(expected.sum())
    loglinear = Mixture([ngram, adapted], [0.5, 0.7], "log-linear")
    sentences = encoded(loglinear.vocab, TEST)
    for dist in loglinear.sentence_distributions(sentences):
        np.testing.assert_allclose(np.exp(dist).sum(axis=1), 1.0, atol=1e-9)


def test_adapt_needs_a_recurrent_model(tmp_path):
    NgramModel.fit([l.split() for l in LINES], order=2, estimator=AddDelta(0.5)).save(tmp_path / "ng")
    from nextword.cli import main
    assert main(["adapt", str(tmp_path / "ng"), "--cache", "10", "--theta", "1",
                 "--cache-lambda", "0.1", "-o", str(tmp_path / "x")]) == 1


def test_adapt_never_writes_over_its_base_or_another_model(lstm_path, tmp_path, capsys):
    from nextword.cli import main

    NgramModel.fit([l.split() for l in LINES], order=2, estimator=AddDelta(0.5)).save(tmp_path / "ng")
    adapt = ["adapt", str(lstm_path), "--cache", "10", "--theta", "1", "--cache-lambda", "0.1", "-o"]
    for output, force, message in [(tmp_path / "ng", [], "holds an ngram model, not an adapted"),
                                   (lstm_path, ["--force"], "one of the models combined")]:
        assert main([*adapt, str(output), *force]) != 0
        err = capsys.readouterr().err
        assert err.startswith("nextword: error: ") and message in err and len(err.splitlines()) == 1
    assert load_model(tmp_path / "ng").order == 2 and load_model(lstm_path).vocab is not None
    assert main([*adapt, str(tmp_path / "ng"), "--force"]) == 0
    assert isinstance(load_model(tmp_path / "ng"), AdaptedLM)


def test_eval_flags_read_the_model_with_cache_and_dynamic_evaluation(lstm_path, tmp_path, capsys):
    """`eval --cache L --dynamic LR` scores exactly what the AdaptedLM with those settings does."""
    from nextword.cli import main

    test = tmp_path / "test.txt"
    test.write_text("\n".join(" ".join(s) for s in TEST) + "\n")
    lstm = load_model(lstm_path)
    expected = evaluate(AdaptedLM(lstm, CacheConfig(5, 0.5, 0.2), DynamicConfig(0.3, 0.01, 7)), TEST)
    assert main(["eval", str(lstm_path), "--corpus", str(test), "--cache", "5", "--cache-theta",
                 "0.5", "--cache-lambda", "0.2", "--dynamic", "0.3", "--dynamic-decay", "0.01",
                 "--dynamic-segment", "7", "--json"]) == 0
    import json
    assert json.loads(capsys.readouterr().out)["log_prob"] == pytest.approx(expected.log_prob)
    for args, message in [(["--cache-theta", "1"], "need --cache L"),
                          (["--dynamic-decay", "0.1"], "need --dynamic LR"),
                          (["--cache", "5", "--per-sentence"], "one stream")]:
        assert main(["eval", str(lstm_path), "--corpus", str(test), *args]) == 1
        assert message in capsys.readouterr().err


def test_cache_on_a_stored_trace_scores_what_the_model_scores(lstm):
    """Tuning reads the text once and applies the cache to the stored features: the scores
    must be those of the AdaptedLM with the same settings."""
    from nextword.combine.tuning import cache_logprobs_on_trace, tune_cache

    config = CacheConfig(size=4, theta=0.8, lam=0.25)
    sentences = encoded(lstm.vocab, TEST)
    features, targets, logprobs = AdaptedLM(lstm).trace(sentences)
    np.testing.assert_allclose(cache_logprobs_on_trace(features, targets, logprobs, config),
                               scores(AdaptedLM(lstm, cache=config), TEST), atol=1e-5)
    best, rows = tune_cache(AdaptedLM(lstm), sentences, sizes=(2, 4), thetas=(0.5, 1.0))
    assert len(rows) == 1 + 4 and rows[0]["size"] == 0
    assert min(r["perplexity"] for r in rows[1:]) == pytest.approx(
        evaluate(AdaptedLM(lstm, cache=best), TEST).perplexity, rel=1e-5)
