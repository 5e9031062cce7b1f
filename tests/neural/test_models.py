"""The networks through the LanguageModel interface: probabilities, conventions, invariants."""
import math

import numpy as np
import pytest
import torch

from nextword.evaluate import evaluate
from nextword.model import load_model
from nextword.neural import model as neural_model
from nextword.neural.model import NeuralLM
from nextword.neural.recurrent import build_net
from nextword.neural.train import train
from nextword.ngram import AddDelta, NgramModel
from nextword.text.vocabulary import BOS_ID, EOS_ID

from neural_fixtures import tiny_config, tiny_train

KINDS = ["window", "rnn", "lstm", "gru"]


def fresh_lm(kind, vocab, seed=0, **overrides):
    torch.manual_seed(seed)
    return NeuralLM(build_net(tiny_config(kind, len(vocab), **overrides)), vocab)


@pytest.mark.parametrize("kind", KINDS)
def test_distributions_sum_to_one_and_give_bos_nothing(kind, vocab):
    lm = fresh_lm(kind, vocab)
    state = lm.initial_state()
    for word in ["the", "cat", "sat", "zebra"]:
        probs = np.exp(lm.next_logprobs(state))
        assert probs.shape == (len(vocab),)
        assert probs.sum() == pytest.approx(1.0, abs=1e-6)
        assert probs[BOS_ID] == 0.0 and (probs[np.arange(len(vocab)) != BOS_ID] > 0).all()
        state = lm.advance(state, int(vocab.encode([word])[0]))


def test_zero_output_layer_gives_uniform_loss(vocab, valid_sentences):
    """U = 0, b = 0: every outcome gets 1 / |V| (|V| = len(vocab) - 1, <s> excluded), so the
    perplexity is exactly |V| and the cross-entropy ln |V|. Vocabulary: <unk> <s> </s> + the
    cat sat on mat dog ran in park a = 13 entries, |V| = 12."""
    lm = fresh_lm("lstm", vocab)
    with torch.no_grad():
        lm.net.decoder.weight.zero_()
        lm.net.decoder.bias.zero_()
    result = evaluate(lm, valid_sentences)
    assert len(vocab) == 13
    assert result.cross_entropy == pytest.approx(math.log(12))


@pytest.mark.parametrize("kind", KINDS)
def test_token_count_equals_the_ngram_models(kind, vocab, sentences, valid_sentences):
    """Every word and one </s> per line, <s> never: 6 + 6 + 3 + 3 words + 4 </s> = 22 tokens,
    plus a blank line (<s> </s>: 1 token) and an OOV word."""
    test = valid_sentences + [[], ["a", "zebra"]]
    ngram = evaluate(NgramModel.fit(sentences, order=2, estimator=AddDelta(0.5)), test)
    neural = evaluate(fresh_lm(kind, vocab), test)
    assert neural.tokens == ngram.tokens == 22 + 1 + 3
    assert neural.oov == ngram.oov == 1
    lm = fresh_lm(kind, vocab)
    lm.per_sentence = True
    assert evaluate(lm, test).tokens == 26


@pytest.mark.parametrize("kind", KINDS)
def test_chunked_stream_equals_one_pass(kind, vocab, valid_sentences, monkeypatch):
    """The stream is scored in chunks with the state carried: chunk size must not matter."""
    lm = fresh_lm(kind, vocab)
    text = valid_sentences * 5
    whole = np.concatenate(list(lm.sentence_logprobs(vocab.encode(s) for s in text)))
    monkeypatch.setattr(neural_model, "CHUNK_TOKENS", 5)
    chunked = np.concatenate(list(lm.sentence_logprobs(vocab.encode(s) for s in text)))
    assert np.allclose(whole, chunked, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_stream_scores_equal_step_by_step_sampling_state(kind, vocab):
    """Scoring 'the cat' as a stream = reading </s>, the, cat one token at a time (advance)."""
    lm = fresh_lm(kind, vocab)
    ids = vocab.encode(["the", "cat"])
    scored = next(lm.sentence_logprobs([ids]))                 # ln P(the), ln P(cat), ln P(</s>)
    state, stepwise = lm.initial_state(), []
    for target in [*ids, EOS_ID]:
        stepwise.append(lm.next_logprobs(state)[target])
        state = lm.advance(state, int(target))
    assert np.allclose(scored, stepwise, atol=1e-5)


def test_stream_carries_state_across_lines_and_per_sentence_resets_it(vocab):
    """The second line's scores depend on the first line in the stream, not per sentence."""
    lm = fresh_lm("lstm", vocab)
    first, second = vocab.encode("the cat sat".split()), vocab.encode("a dog ran".split())
    alone = list(lm.sentence_logprobs([second]))[0]
    after = list(lm.sentence_logprobs([first, second]))[1]
    assert not np.allclose(alone, after)
    lm.per_sentence = True
    assert np.allclose(list(lm.sentence_logprobs([first, second]))[1], alone, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_each_model_overfits_a_tiny_corpus(kind, vocab, sentences, tmp_path):
    """Uniform baseline: ln |V| = ln 12 = 2.485 nats. The 4 lines repeated are nearly deterministic
    except the word after 'the'/'a' and the next line: a learned model is far below ln 12."""
    result = train(tiny_config(kind, len(vocab)), tiny_train(epochs=8), vocab, sentences,
                   sentences[:8], tmp_path)
    assert result.status == "done"
    final = result.position.history[-1]
    assert final["train_loss"] < 0.5 * math.log(12)
    lm = load_model(tmp_path)
    assert evaluate(lm, sentences[:8]).cross_entropy < 0.5 * math.log(12)


def test_same_seed_same_numbers_other_seed_other_numbers(vocab, sentences, tmp_path):
    config = tiny_config("lstm", len(vocab), dropout=0.3)
    runs = [train(config, tiny_train(epochs=1, seed=s), vocab, sentences, sentences[:4],
                  tmp_path / str(i)) for i, s in enumerate([7, 7, 8])]
    ppl = [r.best_valid_perplexity for r in runs]
    assert ppl[0] == ppl[1] and ppl[0] != ppl[2]
    a, b = (load_model(tmp_path / str(i)) for i in (0, 1))
    for (name, x), (_, y) in zip(a.net.state_dict().items(), b.net.state_dict().items()):
        assert torch.equal(x, y), name


def test_save_and_load_round_trip(vocab, valid_sentences, tmp_path):
    lm = fresh_lm("gru", vocab, tie=True, embedding_dim=16, hidden_dim=24)   # tied + projection
    lm.save(tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.vocab == vocab and loaded.describe()["type"] == "gru"
    assert evaluate(loaded, valid_sentences).log_prob == pytest.approx(
        evaluate(lm, valid_sentences).log_prob, abs=1e-6)
    assert loaded.net.decoder.weight is loaded.net.embedding.weight     # still tied


@pytest.mark.parametrize("kind", KINDS)
def test_batched_sampling_draws_next_logprobs_and_ignores_batch_size(kind, vocab):
    """Many sentences advance together; the first tokens follow next_logprobs(<s>) (a
    chi-square test at a fixed seed), the second rows match the stepwise state after them,
    and the text is the same for batch sizes 1 and 64."""
    from nextword.generate import SamplingConfig, sample_sentences

    lm = fresh_lm(kind, vocab)
    sampler = lm.batch_sampler(SamplingConfig())
    state = sampler.init(3000)
    start = lm.next_logprobs(lm.initial_state())
    np.testing.assert_allclose(state[1][[0, 2999]], np.stack([start, start]), atol=1e-5)
    expected = np.exp(start)
    ids = [s for s in sampler.sentences(3000, seed=2, batch_size=3000)]
    first = np.array([s[0] if len(s) else EOS_ID for s in ids])
    observed = np.bincount(first, minlength=len(vocab))
    cells = expected * 3000 >= 5
    stat = ((observed[cells] - expected[cells] * 3000) ** 2 / (expected[cells] * 3000)).sum()
    df = int(cells.sum()) - 1
    assert stat < df + 4.5 * math.sqrt(2 * df) + 10            # far in the tail: p < 1e-4
    assert observed[BOS_ID] == 0
    # the batched step after a token equals the stepwise advance
    after = sampler.step(state, np.full(3000, 5))[1][0]
    np.testing.assert_allclose(after, lm.next_logprobs(lm.advance(lm.initial_state(), 5)), atol=1e-5)
    config = SamplingConfig(max_length=8)
    assert list(sample_sentences(lm, 20, seed=4, config=config, batch_size=1)) == \
        list(sample_sentences(lm, 20, seed=4, config=config, batch_size=64))
