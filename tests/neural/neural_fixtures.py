"""The tiny corpus and tiny model/training configs of the neural tests (each test runs in well
under a second). A module of its own, not conftest.py: tests import from it by name."""
from __future__ import annotations

from nextword.neural.recurrent import RecurrentConfig
from nextword.neural.train import TrainConfig
from nextword.neural.window import WindowConfig

# four patterns a model can learn by heart: after "the" comes cat or dog, then the matching verb
LINES = ["the cat sat on the mat", "the dog ran in the park", "a cat sat", "a dog ran"]


def tiny_config(kind: str, vocab_size: int, **overrides):
    if kind == "window":
        fields = dict(window=3, embedding_dim=16, hidden_dim=32, dropout=0.0)
        return WindowConfig(vocab_size, **{**fields, **overrides})
    fields = dict(embedding_dim=16, hidden_dim=16, num_layers=1, dropout=0.0, tie=False)
    return RecurrentConfig(kind, vocab_size, **{**fields, **overrides})


def tiny_train(**overrides) -> TrainConfig:
    fields = dict(optimizer="adam", lr=0.02, clip=1.0, batch_size=4, bptt=8, epochs=3,
                  early_stop=0, eval_batch_size=2, seed=0)
    return TrainConfig(**{**fields, **overrides})
