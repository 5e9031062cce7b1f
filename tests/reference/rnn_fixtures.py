"""Fixtures of the NumPy RNN tests: a small seeded network and sequence, a tiny corpus.

Imported by name into the test modules rather than kept in a conftest.py: another package's
tests import `conftest` by name, and a second conftest.py here would shadow theirs.
"""
from __future__ import annotations

import numpy as np
import pytest

from nextword.reference.rnn import RNNConfig, init_params

# 8 input ids, 7 outputs, d = 4, H = 5, T = 9 steps: every check runs in milliseconds
SIZES = RNNConfig(input_size=8, output_size=7, embedding_dim=4, hidden_dim=5)
STEPS = 9


@pytest.fixture
def small_rnn():
    """(params, inputs, targets): weights scaled up so that no gradient is negligibly small."""
    rng = np.random.default_rng(1234)
    params = init_params(SIZES, rng)
    params["W_h"] *= 2.0                         # spectral radius near 1: long paths still count
    params["b1"] = rng.normal(0, 0.1, size=SIZES.hidden_dim)
    params["b2"] = rng.normal(0, 0.1, size=SIZES.output_size)
    inputs = rng.integers(0, SIZES.input_size, size=STEPS)
    targets = rng.integers(0, SIZES.output_size, size=STEPS)
    return params, inputs, targets


@pytest.fixture
def tiny_corpus():
    """12 sentences, 5 distinct words: |V| = 7 outcomes (<unk>, </s>, 5 words), ln 7 = 1.946."""
    return [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat", "ran"],
            ["the", "dog", "ran"]] * 3
