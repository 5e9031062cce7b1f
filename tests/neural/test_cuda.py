"""The neural models on a CUDA device: training, resuming, scoring and sampling there give what
the CPU gives. These run where torch sees a GPU (the accelerator machine: see docs/neural.md);
on a CPU-only machine they are skipped, with that reason."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nextword.evaluate import evaluate
from nextword.generate import SamplingConfig, generate
from nextword.model import load_model
from nextword.neural.model import NeuralLM
from nextword.neural.train import train
from nextword.text.vocabulary import Vocabulary

from neural_fixtures import tiny_config, tiny_train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _on(lm: NeuralLM, device: str) -> NeuralLM:
    return NeuralLM(lm.net, lm.vocab, per_sentence=lm.per_sentence, device=device)


@pytest.mark.parametrize("kind", ["window", "rnn", "lstm", "gru"])
def test_trained_on_cuda_scores_the_same_on_both_devices(kind, tmp_path, sentences,
                                                         valid_sentences):
    vocab = Vocabulary.build(sentences)
    result = train(tiny_config(kind, len(vocab)), tiny_train(device="cuda"), vocab, sentences,
                   valid_sentences, tmp_path / "m")
    assert np.isfinite(result.best_valid_perplexity)
    cpu = load_model(tmp_path / "m")                   # weights saved from the GPU load anywhere
    on_cpu = evaluate(cpu, valid_sentences)
    on_gpu = evaluate(_on(cpu, "cuda"), valid_sentences)
    assert on_gpu.tokens == on_cpu.tokens
    # the same fp32 arithmetic in another order: equal to float32 rounding, not bit for bit
    assert on_gpu.cross_entropy == pytest.approx(on_cpu.cross_entropy, rel=1e-5)
    # and the training run's own validation figure is that model's
    assert on_cpu.perplexity < len(vocab)


def test_bf16_and_sampled_softmax_train_on_cuda(tmp_path, sentences, valid_sentences):
    vocab = Vocabulary.build(sentences)
    config = tiny_train(device="cuda", precision="bf16", softmax="sampled", num_samples=4,
                        full_softmax_final=0.25)
    result = train(tiny_config("lstm", len(vocab)), config, vocab, sentences, valid_sentences,
                   tmp_path / "m")
    untrained = len(vocab) - 1                         # a uniform guess over what can follow
    assert result.best_valid_perplexity < untrained


def test_resume_on_cuda_continues_the_run(tmp_path, sentences, valid_sentences):
    vocab = Vocabulary.build(sentences)
    model = tiny_config("lstm", len(vocab))
    whole = train(model, tiny_train(device="cuda", epochs=2), vocab, sentences, valid_sentences,
                  tmp_path / "whole")
    train(model, tiny_train(device="cuda", epochs=2, max_steps=5), vocab, sentences,
          valid_sentences, tmp_path / "split")
    resumed = train(model, tiny_train(device="cuda", epochs=2), vocab, sentences,
                    valid_sentences, tmp_path / "split", resume=True)
    assert resumed.position.step == whole.position.step
    assert resumed.best_valid_perplexity == pytest.approx(whole.best_valid_perplexity, rel=1e-4)


def test_sampling_on_cuda_gives_sentences_of_the_vocabulary(tmp_path, sentences, valid_sentences):
    vocab = Vocabulary.build(sentences)
    train(tiny_config("gru", len(vocab)), tiny_train(device="cuda"), vocab, sentences,
          valid_sentences, tmp_path / "m")
    lm = _on(load_model(tmp_path / "m"), "cuda")
    drawn = generate(lm, count=5, seed=3, config=SamplingConfig(max_length=12))
    assert drawn == generate(lm, count=5, seed=3, config=SamplingConfig(max_length=12))
    assert all(word in vocab.index for sentence in drawn for word in sentence)


def test_dynamic_evaluation_on_cuda_matches_the_cpu(tmp_path, sentences, valid_sentences):
    from nextword.combine.adapted import with_adaptation

    vocab = Vocabulary.build(sentences)
    train(tiny_config("lstm", len(vocab)), tiny_train(), vocab, sentences, valid_sentences,
          tmp_path / "m")
    cpu = load_model(tmp_path / "m")
    on_cpu = evaluate(with_adaptation(cpu, lr=0.1, segment=5), valid_sentences)
    gpu = load_model(tmp_path / "m")
    on_gpu = evaluate(with_adaptation(_on(gpu, "cuda"), lr=0.1, segment=5), valid_sentences)
    assert on_gpu.cross_entropy == pytest.approx(on_cpu.cross_entropy, rel=1e-4)
