"""What the headline neural results rest on: the sampled softmax, bf16 autocast, the final
full-softmax phase, the time-budget stop, and a run that leaves global state as it found it."""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from nextword.errors import NextwordError
from nextword.neural.recurrent import build_net
from nextword.neural.softmax import SampledSoftmax, full_softmax_loss
from nextword.neural.train import train, train_step

from neural_fixtures import tiny_config, tiny_train

train_module = importlib.import_module("nextword.neural.train")


def _features(net, V, N=1, seed=0):
    torch.manual_seed(seed)
    features = torch.randn(N, 1, net.decoder.in_features, requires_grad=True)   # (T=N, B=1, d)
    targets = torch.randint(1, V, (N, 1))
    return features, targets


def test_accidental_hits_are_masked():
    """q puts all its mass on the target, so every negative is the target itself: masked, the
    only logit left is the target's and J = -ln 1 = 0 (unmasked it would be ln(1 + k))."""
    V, k = 12, 16
    net = build_net(tiny_config("rnn", V))
    features, _ = _features(net, V)
    targets = torch.full((1, 1), 5)
    counts = np.zeros(V)
    counts[5] = 100.0
    sampler = SampledSoftmax(counts, k, torch.Generator().manual_seed(0), "cpu")
    assert sampler.loss(net, features, targets).item() == 0.0


def test_sampled_gradient_approaches_the_full_softmax_gradient():
    """With accidental hits removed, the sampled softmax estimates the normaliser over the
    words other than the target, so its gradient w.r.t. the features tends to the full
    softmax's divided by (1 - p_target): the same direction. Cosine similarity, one position:
    k = 8 is rough, k = 20,000 (V = 50) is the full gradient's direction to 1e-3."""
    V = 50
    net = build_net(tiny_config("rnn", V))
    counts = np.arange(1, V + 1, dtype=np.float64)
    features, targets = _features(net, V)
    full = torch.autograd.grad(full_softmax_loss(net, features, targets), features)[0].flatten()
    similarity = {}
    for k in (8, 20_000):
        sampler = SampledSoftmax(counts, k, torch.Generator().manual_seed(1), "cpu")
        grad = torch.autograd.grad(sampler.loss(net, features, targets), features)[0].flatten()
        similarity[k] = torch.nn.functional.cosine_similarity(grad, full, dim=0).item()
    assert similarity[20_000] > 0.999
    assert similarity[20_000] > similarity[8]


def test_bf16_autocast_runs_the_matrix_products_in_bf16_and_keeps_fp32_weights(vocab):
    net = build_net(tiny_config("gru", len(vocab)))
    inputs = torch.randint(1, len(vocab), (8, 4))
    targets = torch.randint(1, len(vocab), (8, 4))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16)
    with autocast:
        features, _ = net(inputs, net.initial_state(4))
        assert net.logits(features).dtype == torch.bfloat16
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    fp32_loss = full_softmax_loss(net, *net(inputs, net.initial_state(4))[:1], targets).item()
    bf16_loss, _ = train_step(net, optimizer, inputs, targets, net.initial_state(4),
                              full_softmax_loss, autocast, clip=1.0)
    assert bf16_loss == pytest.approx(fp32_loss, rel=0.02)     # bf16 keeps 8 bits of mantissa
    assert all(p.dtype == torch.float32 for p in net.parameters())


def test_bf16_training_learns(vocab, sentences, valid_sentences, tmp_path):
    """The four patterns: a model that learnt them is far below |V| = 14 in perplexity."""
    result = train(tiny_config("gru", len(vocab)), tiny_train(epochs=6, precision="bf16"), vocab,
                   sentences, valid_sentences, tmp_path)
    assert result.best_valid_perplexity < 4.0


def test_bf16_lstm_trains_or_is_refused_in_one_line(vocab, sentences, tmp_path):
    """oneDNN's LSTM has a bf16 kernel only on CPUs with bf16 instructions; elsewhere the run
    stops at once with one line, not a traceback from inside the first step."""
    config = tiny_train(epochs=1, precision="bf16")
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        result = train(tiny_config("lstm", len(vocab)), config, vocab, sentences, sentences[:4],
                       tmp_path)
        assert np.isfinite(result.best_valid_perplexity)
    else:
        with pytest.raises(NextwordError, match="--precision bf16: the lstm model cannot run in "
                                                "bf16 on this cpu") as error:
            train(tiny_config("lstm", len(vocab)), config, vocab, sentences, sentences[:4],
                  tmp_path)
        assert "\n" not in str(error.value)


def test_the_last_part_of_the_run_uses_the_full_softmax(vocab, sentences, tmp_path, monkeypatch):
    """Stream: 12 x (18 words + 4 </s>) + the opening </s> = 265 tokens; B = 4 streams of 66;
    ceil(65 / 8) = 9 segments per epoch, 18 steps in 2 epochs. full_softmax_final = 0.5: the
    step at fraction j/18 is sampled while j/18 < 0.5, so steps 0-8 are sampled, 9-17 full."""
    calls = {"full": 0, "sampled": 0}
    original_full, original_sampled = train_module.full_softmax_loss, SampledSoftmax.loss

    def full(*args):
        calls["full"] += 1
        return original_full(*args)

    def sampled(self, *args):
        calls["sampled"] += 1
        return original_sampled(self, *args)

    monkeypatch.setattr(train_module, "full_softmax_loss", full)
    monkeypatch.setattr(SampledSoftmax, "loss", sampled)
    config = tiny_train(epochs=2, evals_per_epoch=2, softmax="sampled", num_samples=8,
                        full_softmax_final=0.5)
    result = train(tiny_config("rnn", len(vocab)), config, vocab, sentences, sentences[:8],
                   tmp_path)
    assert calls == {"sampled": 9, "full": 9}
    assert [r["train_loss_is_sampled"] for r in result.position.history] == [True, True, False, False]


class TickingClock:
    """time.monotonic for the trainer: every reading is `tick` seconds after the previous
    one, so the run's timing is the same on a busy machine as on an idle one."""

    def __init__(self, tick: float):
        self.now, self.tick = 1000.0, tick

    def monotonic(self) -> float:
        self.now += self.tick
        return self.now


def test_a_time_budget_ends_before_the_budget_and_keeps_the_best_model(
        vocab, sentences, valid_sentences, tmp_path, monkeypatch):
    """Budget 3 s on a clock that ticks 0.05 s per reading: a step reads it 3 times (0.15 s
    with the stop check), an evaluation 2 times. Training stops while the next step and one
    evaluation still fit, so the run, final evaluation included, ends within the budget."""
    monkeypatch.setattr(train_module, "time", TickingClock(0.05))
    saved_after = []
    original_save = train_module.save_weights
    monkeypatch.setattr(train_module, "save_weights", lambda output, net: (
        saved_after.append(len(trainer.position.history)), original_save(output, net)))
    budget = 3.0
    config = tiny_train(epochs=10_000, evals_per_epoch=3, time_budget=budget, early_stop=0,
                        schedule="cosine")
    trainer = train_module.Trainer(tiny_config("lstm", len(vocab)), config, vocab,
                                   train_module._prepare(vocab, sentences),
                                   train_module._prepare(vocab, valid_sentences), tmp_path)
    result = trainer.run()
    assert result.status == "time budget"
    assert budget - 0.5 < result.position.elapsed <= budget      # evaluation included
    history = [r["valid_perplexity"] for r in result.position.history]
    assert len(history) >= 3 and result.best_valid_perplexity == min(history)
    # weights.pt was last written right after the best evaluation
    assert saved_after[-1] == 1 + int(np.argmin(history))


def test_training_leaves_threads_and_random_state_as_it_found_them(vocab, sentences, tmp_path):
    torch.manual_seed(1234)
    rng_before, threads_before = torch.get_rng_state(), torch.get_num_threads()
    train(tiny_config("rnn", len(vocab)), tiny_train(epochs=1, threads=2, seed=7), vocab,
          sentences, sentences[:4], tmp_path)
    assert torch.get_num_threads() == threads_before
    assert torch.equal(torch.get_rng_state(), rng_before)
