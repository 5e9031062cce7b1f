"""The synthetic-corpus sampler draws from the model's own distribution, reproducibly."""
from __future__ import annotations

import numpy as np
import pytest

from nextword.cli import main
from nextword.errors import NextwordError
from nextword.ngram.estimators import AddDelta
from nextword.ngram.kneser_ney import ModifiedKneserNey
from nextword.ngram.model import NgramModel
from nextword.ngram.synth import BackoffSampler, synthesize


@pytest.fixture(scope="module")
def trigram(small_text):
    return NgramModel.fit(small_text, 3, ModifiedKneserNey())


@pytest.mark.parametrize("context", [("the", "first"), ("the", "the"), ("<s>", "the")])
def test_draws_follow_next_logprobs(trigram, context):
    """200,000 draws after a stored context, an unseen one (backing off, with rejection) and
    one after <s>, against P(w | h) as next_logprobs computes it (a peer path: lookups over
    the whole vocabulary)."""
    sampler = BackoffSampler(trigram)
    ids = [trigram.vocab.index[w] for w in context]
    draws = 200_000
    history = np.tile(np.array(ids), (draws, 1))
    length = np.full(draws, 2)
    words = sampler.draw(np.random.default_rng(3), sampler.context_rows(history, length), 2)
    p = np.exp(trigram.next_logprobs(tuple(ids)))
    assert p.sum() == pytest.approx(1.0, abs=1e-9)
    assert_sampled_from(p, np.bincount(words, minlength=len(trigram.vocab)), draws)


def assert_sampled_from(p, counts, draws):
    """Words expected 50 times or more: within 5 standard errors; and the total variation
    distance no larger than 1.3 times that of an exact multinomial sample of the same size
    (NumPy's, the peer), which is ~0.04 here: a bias of a few percent of mass would show."""
    empirical = counts / draws
    common = p * draws >= 50
    assert (np.abs(empirical - p)[common] <= 5 * np.sqrt(p * (1 - p) / draws)[common]).all()
    reference = np.random.default_rng(0).multinomial(draws, p / p.sum()) / draws
    assert np.abs(empirical - p).sum() <= 1.3 * np.abs(reference - p).sum()


def test_sentence_start_after_restart_matches_bos_context(trigram):
    """A fresh stream holds only <s>: its first word follows P(w | <s>)."""
    sampler = BackoffSampler(trigram)
    draws = 100_000
    history = np.full((draws, 2), 1)
    words = sampler.draw(np.random.default_rng(5), sampler.context_rows(history, np.ones(draws, int)), 2)
    p = np.exp(trigram.next_logprobs((1,)))
    assert_sampled_from(p, np.bincount(words, minlength=len(trigram.vocab)), draws)


def test_corpus_is_reproducible_and_long_enough(trigram, tmp_path):
    a = synthesize(trigram, 5000, tmp_path / "a.txt", seed=7, batch=64)
    b = synthesize(trigram, 5000, tmp_path / "b.txt", seed=7, batch=64)
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    lines = (tmp_path / "a.txt").read_text().splitlines()
    assert a == b and a["sentences"] == len(lines)
    assert a["words"] == sum(len(line.split()) for line in lines) >= 5000
    assert set(" ".join(lines).split()) <= set(trigram.vocab.tokens) - {"<s>", "</s>"}


def test_synth_command(trigram, tmp_path, capsys):
    trigram.save(tmp_path / "m")
    assert main(["synth", str(tmp_path / "m"), "--tokens", "300", "--seed", "1",
                 "-o", str(tmp_path / "c.txt")]) == 0
    assert sum(len(line.split()) for line in (tmp_path / "c.txt").open()) >= 300
    lm = NgramModel.fit([["a", "b"]], 2, AddDelta(0.5))
    with pytest.raises(NextwordError, match="backoff n-gram"):
        BackoffSampler(lm)
