"""The synthetic corpus is the batched sampler's text, reproducible, at least as long as asked."""
from __future__ import annotations

import pytest

from nextword.cli import main
from nextword.errors import NextwordError
from nextword.generate import SamplingConfig, sample_sentences
from nextword.ngram.estimators import AddDelta
from nextword.ngram.kneser_ney import ModifiedKneserNey
from nextword.ngram.model import NgramModel
from nextword.ngram.synth import MAX_WORDS, synthesize


@pytest.fixture(scope="module")
def trigram(small_text):
    return NgramModel.fit(small_text, 3, ModifiedKneserNey())


def test_corpus_is_reproducible_and_long_enough(trigram, tmp_path):
    a = synthesize(trigram, 5000, tmp_path / "a.txt", seed=7, batch=64)
    b = synthesize(trigram, 5000, tmp_path / "b.txt", seed=7, batch=1000)
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    lines = (tmp_path / "a.txt").read_text().splitlines()
    assert a == b and a["sentences"] == len(lines)
    assert a["words"] == sum(len(line.split()) for line in lines) >= 5000
    # it stops at the sentence that reaches the count
    assert a["words"] - len(lines[-1].split()) < 5000
    assert set(" ".join(lines).split()) <= set(trigram.vocab.tokens) - {"<s>", "</s>"}


def test_corpus_is_the_samplers_text(trigram, tmp_path):
    """The same sentences as `generate` draws with the same seed (sentence i depends on the
    seed and i only), so synth inherits the sampler's tests against next_logprobs."""
    out = synthesize(trigram, 2000, tmp_path / "c.txt", seed=3, batch=50)
    expected = sample_sentences(trigram, out["sentences"], seed=3,
                                config=SamplingConfig(max_length=MAX_WORDS))
    assert (tmp_path / "c.txt").read_text().splitlines() == [" ".join(s) for s in expected]


def test_add_delta_models_are_sampled_too(tmp_path):
    lm = NgramModel.fit([["a", "b"], ["b", "a", "a"]], 2, AddDelta(0.5))
    out = synthesize(lm, 50, tmp_path / "d.txt", seed=1)
    assert out["words"] >= 50


def test_synth_command(trigram, tmp_path, capsys):
    trigram.save(tmp_path / "m")
    assert main(["synth", str(tmp_path / "m"), "--tokens", "300", "--seed", "1",
                 "-o", str(tmp_path / "c.txt")]) == 0
    assert sum(len(line.split()) for line in (tmp_path / "c.txt").open()) >= 300
    with pytest.raises(NextwordError, match="--tokens must be >= 1"):
        synthesize(trigram, 0, tmp_path / "e.txt")
    assert not (tmp_path / "e.txt").exists()
