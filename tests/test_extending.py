"""Adding an estimator or a neural network is one class plus one registration call: here a
Jelinek–Mercer estimator and a tiny embedding-only network, registered, then trained, scored
and sampled through the command line like the built-in ones (docs/extending.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pytest

from nextword.cli import main
from nextword.ngram.interpolated import interpolate
from nextword.ngram.tables import context_counts, unigram_counts


@dataclass(frozen=True)
class JelinekMercer:
    """Linear interpolation with a fixed weight λ (Jelinek & Mercer 1980):

        P(w | h) = λ c(h, w) / c(h) + (1 - λ) P(w | h'),    P(w) = λ c(w) / N + (1 - λ) / |V|
    """

    lam: float = 0.7
    name: str = field(default="jelinek-mercer", init=False)
    normalised: ClassVar[bool] = True
    kneser_ney_like: ClassVar[bool] = False

    def params(self) -> dict:
        return {"lam": self.lam}

    def estimate(self, counts, num_outcomes, cutoffs=None):
        c_w = unigram_counts(counts)
        u, gamma = [None, self.lam * c_w / c_w.sum()], [1 - self.lam]
        for k in range(2, counts.order + 1):
            c_h = context_counts(counts, k)
            u.append(self.lam * counts.counts[k] / c_h[counts.parents(k)])
            gamma.append(np.where(c_h > 0, 1 - self.lam, 1.0))    # never followed: back off
        return interpolate(counts, u, gamma, num_outcomes)




def make_tiny_net():
    """A bigram network: ŷ(t) = softmax(U e(x(t)) + b), no hidden layer and no state."""
    import torch
    from torch import nn

    from nextword.neural.layers import NeuralNet

    class EmbeddingBigram(NeuralNet):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
            self.decoder = nn.Linear(config.embedding_dim, config.vocab_size)

        def initial_state(self, batch_size, device=None):
            return torch.zeros(0, batch_size, device=device)        # nothing to carry

        @staticmethod
        def detach(state):
            return state

        def forward(self, inputs, state):
            return self.embedding(inputs), state                    # (T, B, d)

    return EmbeddingBigram


@dataclass(frozen=True)
class EmbeddingBigramConfig:
    vocab_size: int
    embedding_dim: int = 8
    kind: ClassVar[str] = "embedding-bigram"


@pytest.fixture
def registered():
    from nextword.model import MODEL_TYPES
    from nextword.neural.config import ARCHITECTURES, register_architecture
    from nextword.ngram.estimators import ESTIMATORS, register_estimator

    register_estimator("jelinek-mercer", JelinekMercer)
    register_architecture("embedding-bigram", EmbeddingBigramConfig, make_tiny_net(),
                          "a bigram network of embeddings")
    yield
    for registry, key in ((ESTIMATORS, "jelinek-mercer"), (ARCHITECTURES, "embedding-bigram"),
                          (MODEL_TYPES, "embedding-bigram")):
        registry.pop(key, None)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("a b\na c\n" * 10)
    return path


def test_a_registered_estimator_trains_evaluates_and_samples(registered, corpus, tmp_path, capsys):
    out = tmp_path / "jm"
    assert main(["train", "ngram", "-n", "2", "--smoothing", "jelinek-mercer", "--corpus",
                 str(corpus), "-o", str(out)]) == 0
    from nextword.model import load_model

    lm = load_model(out)
    # N = 60 predicted tokens (a 20, b 10, c 10, </s> 20); |V| = 5 (a b c </s> <unk>)
    p_b = 0.7 * 10 / 60 + 0.3 / 5
    assert lm.prob("b", ("a",)) == pytest.approx(0.7 * 10 / 20 + 0.3 * p_b)
    assert sum(lm.prob(w, ("a",)) for w in ["a", "b", "c", "</s>", "<unk>"]) == pytest.approx(1.0)
    capsys.readouterr()
    assert main(["eval", str(out), "--corpus", str(corpus), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 60
    assert main(["generate", str(out), "--seed", "1", "-k", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_a_registered_network_trains_evaluates_and_samples(registered, corpus, tmp_path, capsys):
    out = tmp_path / "net"
    assert main(["train", "embedding-bigram", "--corpus", str(corpus), "--valid", str(corpus),
                 "-o", str(out), "--embedding-dim", "4", "--epochs", "3", "--batch-size", "2",
                 "--bptt", "5", "--softmax", "full", "--optimizer", "adam", "--lr", "0.05"]) == 0
    capsys.readouterr()
    assert main(["eval", str(out), "--corpus", str(corpus), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # after "a", b and c are equally likely: a bigram model can do no better than 2 there, so
    # its perplexity lies well below |V| = 5 once trained
    assert result["tokens"] == 60 and result["perplexity"] < 3.5
    assert main(["generate", str(out), "--seed", "1", "-k", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "embedding-bigram"
