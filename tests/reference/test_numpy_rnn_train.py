"""Training the NumPy RNN with SGD: clipping and step arithmetic, the loss falling, seeds."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.reference.train import TrainConfig, clip_global_norm, sgd_step, train_numpy_rnn
from rnn_fixtures import tiny_corpus  # noqa: F401  (a fixture)


def test_clip_global_norm_by_hand():
    """g = ([3], [[4]]): ‖g‖ = √(9 + 16) = 5; clip 1 scales by 1/5 -> (0.6, 0.8); clip 10 keeps g."""
    grads = {"a": np.array([3.0]), "b": np.array([[4.0]])}
    assert clip_global_norm(grads, 10.0) == 5.0
    assert (grads["a"][0], grads["b"][0, 0]) == (3.0, 4.0)
    assert clip_global_norm(grads, 1.0) == 5.0
    assert grads["a"][0] == pytest.approx(0.6) and grads["b"][0, 0] == pytest.approx(0.8)
    assert clip_global_norm(grads, None) == pytest.approx(1.0)


def test_sgd_step_by_hand():
    """θ = 1 - 0.5 · 0.2 = 0.9."""
    params = {"W_h": np.array([[1.0]])}
    sgd_step(params, {"W_h": np.array([[0.2]])}, lr=0.5)
    assert params["W_h"][0, 0] == pytest.approx(0.9)


def test_loss_falls_below_the_uniform_baseline(tiny_corpus):
    """The tiny corpus: 'the' always starts, then cat|dog and sat|ran half and half, then </s>.
    The best any model can do is 2·ln 2 nats per 4 tokens = 0.3466; uniform is ln |V| = ln 7 = 1.946.
    A seeded 10-epoch run gets within 0.1 of the bound."""
    config = TrainConfig(embedding_dim=8, hidden_dim=16, epochs=10, lr=0.5, seed=0)
    lm = train_numpy_rnn(tiny_corpus, config)
    assert lm.vocab.num_outcomes == 7
    history = [entry["train_cross_entropy"] for entry in lm.training["history"]]
    assert len(history) == 10 and history[-1] < history[0] < math.log(7)
    cross_entropy = evaluate(lm, tiny_corpus).cross_entropy
    assert 2 * math.log(2) / 4 <= cross_entropy < 2 * math.log(2) / 4 + 0.1
    assert lm.training["config"]["hidden_dim"] == 16


def test_full_bptt_and_no_clipping_also_train(tiny_corpus):
    config = TrainConfig(embedding_dim=8, hidden_dim=16, epochs=5, lr=0.5, bptt=None, clip=None)
    lm = train_numpy_rnn(tiny_corpus, config, valid=tiny_corpus[:4])
    last = lm.training["history"][-1]
    assert last["valid_cross_entropy"] < math.log(7)
    assert last["clipped_updates"] == 0 and last["updates"] == 12


def test_same_seed_same_model(tiny_corpus):
    config = TrainConfig(embedding_dim=4, hidden_dim=8, epochs=2, seed=7)
    first, second = (train_numpy_rnn(tiny_corpus, config) for _ in range(2))
    for name, value in first.params.items():
        assert np.array_equal(second.params[name], value)
    other = train_numpy_rnn(tiny_corpus, TrainConfig(embedding_dim=4, hidden_dim=8, epochs=2, seed=8))
    assert not np.array_equal(other.params["W_h"], first.params["W_h"])


def test_long_sentences_are_trained_in_segments(tiny_corpus, monkeypatch):
    """A sentence longer than TRAIN_SEGMENT steps: one update per segment, state carried."""
    from nextword.reference import train as train_module

    monkeypatch.setattr(train_module, "TRAIN_SEGMENT", 3)
    lm = train_numpy_rnn([["the", "cat", "sat", "the", "dog", "ran", "the"]],   # 8 steps: 3 + 3 + 2
                         TrainConfig(embedding_dim=4, hidden_dim=8, epochs=1))
    assert lm.training["history"][0]["updates"] == 3


def test_a_diverging_run_says_what_to_do(tiny_corpus):
    with pytest.raises(NextwordError, match="smaller --lr"):
        train_numpy_rnn(tiny_corpus, TrainConfig(embedding_dim=4, hidden_dim=8, epochs=1,
                                                 lr=1e300, clip=None))


@pytest.mark.parametrize("field, value, message", [
    ("epochs", 0, "epochs must be >= 1"), ("lr", 0.0, "lr must be > 0"),
    ("bptt", 0, r"truncation \(bptt\) must be >= 1"), ("clip", -1.0, "clip must be > 0"),
    ("hidden_dim", 0, "hidden-dim must be >= 1"),
])
def test_bad_hyper_parameters_are_errors(field, value, message):
    with pytest.raises(NextwordError, match=message):
        TrainConfig(**{field: value})


def test_empty_corpus_is_an_error():
    with pytest.raises(NextwordError, match="no sentences"):
        train_numpy_rnn([], TrainConfig())
