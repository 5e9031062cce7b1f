"""Training the NumPy RNN: plain SGD on each sentence's mean cross-entropy, gradients clipped.

One update per sentence (a sentence longer than TRAIN_SEGMENT steps is cut into segments; the
hidden state is carried into the next segment, the gradient is not)::

    for each epoch, sentences in a seeded random order:
        J, cache = forward(θ, <s> w1..wm, w1..wm </s>)      J = (1/T) Σ_t J(t)
        g = backward(θ, cache, truncation=k)                 BPTT, each J(t) back k steps
        g = g · min(1, clip / ‖g‖)                           ‖g‖ over all parameters together
        θ = θ - lr · g
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.reference.model import NumpyRNNModel, sentence_arrays
from nextword.reference.rnn import Params, backward, forward
from nextword.text.vocabulary import Vocabulary

TRAIN_SEGMENT = 128     # steps per update at most: bounds the memory of one forward pass


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of `train_numpy_rnn`, saved with the model."""

    embedding_dim: int = 32
    hidden_dim: int = 64
    epochs: int = 3
    lr: float = 0.25
    bptt: int | None = 20          # truncation k: J(t) sends gradient back k steps; None = full
    clip: float | None = 5.0       # largest global gradient norm; None = no clipping
    seed: int = 0
    min_count: int = 1
    max_vocab: int | None = None

    def __post_init__(self):
        if self.epochs < 1:
            raise NextwordError(f"epochs must be >= 1, got {self.epochs}")
        if not self.lr > 0:
            raise NextwordError(f"lr must be > 0, got {self.lr}")
        if self.bptt is not None and self.bptt < 1:
            raise NextwordError(f"truncation (bptt) must be >= 1 (0 on the command line: full BPTT), got {self.bptt}")
        if self.clip is not None and not self.clip > 0:
            raise NextwordError(f"clip must be > 0, got {self.clip}")
        for name in ("embedding_dim", "hidden_dim"):
            if getattr(self, name) < 1:
                raise NextwordError(f"{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")


def clip_global_norm(grads: Params, clip: float | None) -> float:
    """Scale all gradients by min(1, clip / ‖g‖) in place; return ‖g‖ before clipping."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if clip is not None and norm > clip:
        for g in grads.values():
            g *= clip / norm
    return norm


def sgd_step(params: Params, grads: Params, lr: float) -> None:
    """θ ← θ - lr · ∂J/∂θ, in place."""
    for name, g in grads.items():
        params[name] -= lr * g


def train_numpy_rnn(sentences: Iterable[Sequence[str]], config: TrainConfig = TrainConfig(),
                    vocab: Vocabulary | None = None, valid: Iterable[Sequence[str]] | None = None,
                    progress=None) -> NumpyRNNModel:
    """Fit a NumPy RNN on token lists; the vocabulary comes from them unless given.

    The per-epoch history (training cross-entropy averaged over the epoch's updates, and the
    held-out cross-entropy when `valid` is given, in nats per token) is kept in `model.training`.
    """
    sentences = sentences if isinstance(sentences, list) else list(sentences)
    if not sentences:
        raise NextwordError("the training corpus has no sentences")
    if vocab is None:
        vocab = Vocabulary.build(sentences, min_count=config.min_count, max_size=config.max_vocab)
    model = NumpyRNNModel.initialise(vocab, config.embedding_dim, config.hidden_dim, config.seed)
    params = model.params
    order_rng = np.random.default_rng([config.seed, 1])       # shuffling, apart from the weights
    encoded = [sentence_arrays(vocab.encode(s)) for s in sentences]
    history = []
    for epoch in range(1, config.epochs + 1):
        total_loss, total_steps, updates, clipped = 0.0, 0, 0, 0
        for index in order_rng.permutation(len(encoded)):
            inputs, targets = encoded[index]
            h = None
            for start in range(0, len(inputs), TRAIN_SEGMENT):
                segment = slice(start, start + TRAIN_SEGMENT)
                with np.errstate(over="ignore", invalid="ignore"):   # divergence: see below
                    loss, cache = forward(params, inputs[segment], targets[segment], h0=h)
                if not math.isfinite(loss):
                    raise NextwordError(f"training diverged in epoch {epoch} (loss {loss}); "
                                        f"rerun with a smaller --lr or a --clip")
                grads = backward(params, cache, truncation=config.bptt)
                norm = clip_global_norm(grads, config.clip)
                clipped += config.clip is not None and norm > config.clip
                sgd_step(params, grads, config.lr)
                h = cache.h[-1]                      # the state goes on; the gradient does not
                total_loss += loss * cache.steps
                total_steps += cache.steps
                updates += 1
            if progress is not None:
                progress.update(len(inputs))
        entry = {"epoch": epoch, "train_cross_entropy": total_loss / total_steps,
                 "updates": updates, "clipped_updates": int(clipped)}
        if valid is not None:
            entry["valid_cross_entropy"] = evaluate(model, valid).cross_entropy
        history.append(entry)
    model.training = {"config": asdict(config), "history": history}
    return model
