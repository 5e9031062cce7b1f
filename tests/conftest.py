"""Tiny corpora whose counts can be done by hand, shared by the tests."""
import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def two_sentences():
    """<s> a b </s> / <s> a c </s>.

    Unigram counts (predicted tokens): a 2, b 1, c 1, </s> 2  -> N = 6.
    Vocabulary: <unk> <s> </s> a b c -> |V| = 5 outcomes (all but <s>).
    Bigram counts: <s> a 2, a b 1, a c 1, b </s> 1, c </s> 1.
    """
    return [["a", "b"], ["a", "c"]]


@pytest.fixture
def random_corpus():
    """200 random sentences over 12 words: enough for every order to have unseen contexts."""
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(12)]
    return [list(rng.choice(words, size=rng.integers(0, 9))) for _ in range(200)]


@pytest.fixture
def data_dir():
    """The shared benchmark corpora; CI has them beside the checkout."""
    path = Path(os.environ.get("NEXTWORD_DATA", SHARED_DATA))
    if not (path / "ptb" / "ptb.train.txt").exists():
        pytest.fail(f"the standard corpora are missing: looked in {path} (set NEXTWORD_DATA)")
    return path
