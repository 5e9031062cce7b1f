"""Fixtures of the neural tests; the tiny corpus and configs live in neural_fixtures.py."""
from __future__ import annotations

import pytest
import torch

from nextword.text.vocabulary import Vocabulary

from neural_fixtures import LINES


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine two OpenMP threads
    stall each other (10x slower); the previous setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def sentences():
    return [line.split() for line in LINES * 12]


@pytest.fixture
def valid_sentences():
    return [line.split() for line in LINES]


@pytest.fixture
def vocab(sentences):
    return Vocabulary.build(sentences)
