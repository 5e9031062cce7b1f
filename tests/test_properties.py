"""Properties that must hold for any input (Hypothesis draws the inputs): tokenizer and
vocabulary round trips, ARPA write -> read and save -> load giving the same scores, for every
model kind."""
from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nextword.model import load_model
from nextword.ngram.arpa import read_arpa, write_arpa
from nextword.ngram.estimators import make_estimator
from nextword.ngram.model import NgramModel
from nextword.text.tokenize import whitespace_tokenize, word_tokenize
from nextword.text.vocabulary import RESERVED, Vocabulary

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# text a corpus file may hold: no control characters (refused by the reader), no surrogates
TEXT_CHARS = st.characters(blacklist_categories=("Cc", "Cs"))
TOKEN = st.text(TEXT_CHARS, min_size=1, max_size=8).filter(
    lambda t: t.split() == [t] and t not in RESERVED)
SENTENCES = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=8),
                     min_size=1, max_size=12).filter(lambda s: any(s))


@FAST
@given(st.text(TEXT_CHARS, max_size=60))
def test_whitespace_tokens_round_trip(line):
    tokens = whitespace_tokenize(line)
    assert whitespace_tokenize(" ".join(tokens)) == tokens
    assert all(t and not any(c.isspace() for c in t) for t in tokens)


@FAST
@given(st.text(TEXT_CHARS, max_size=60))
def test_word_tokenizer_keeps_every_visible_character(line):
    """Only whitespace is dropped: the tokens joined are the NFC text without its spaces."""
    tokens = word_tokenize(line)
    normal = unicodedata.normalize("NFC", line)
    assert "".join(tokens) == "".join(c for c in normal if not c.isspace())
    assert word_tokenize(" ".join(tokens)) == tokens


@FAST
@given(st.lists(st.lists(TOKEN, max_size=6), min_size=1, max_size=8).filter(lambda s: any(s)))
def test_vocabulary_save_load_and_encode_decode_round_trip(sentences):
    vocab = Vocabulary.build(sentences)
    with tempfile.TemporaryDirectory() as tmp:
        vocab.save(Path(tmp) / "vocab.txt")
        loaded = Vocabulary.load(Path(tmp) / "vocab.txt")
    assert loaded.tokens == vocab.tokens and loaded.counts == vocab.counts
    for sentence in sentences:
        assert vocab.decode(vocab.encode(sentence)) == sentence        # every token is known
    assert sum(vocab.counts[3:]) == sum(len(s) for s in sentences)     # every token counted


def _scores(lm, sentences):
    return np.concatenate(list(lm.sentence_logprobs(lm.vocab.encode(s) for s in sentences)))


@FAST
@given(SENTENCES, st.integers(1, 4), st.sampled_from(["modified-kneser-ney", "kneser-ney", "katz",
                                                      "witten-bell", "absolute"]))
def test_arpa_write_then_read_gives_the_same_scores(sentences, order, smoothing):
    params = {"discount_fallback": True} if "kneser" in smoothing else {}
    try:
        lm = NgramModel.fit(sentences, order, make_estimator(smoothing, **params))
    except Exception as error:          # an estimator that cannot estimate this corpus says so
        assert type(error).__name__ == "NextwordError"
        return
    with tempfile.TemporaryDirectory() as tmp:
        write_arpa(lm, Path(tmp) / "m.arpa")
        back = read_arpa(Path(tmp) / "m.arpa")
    probe = sentences + [["a", "zebra", "b"]]
    expected, got = _scores(lm, probe), _scores(back, probe)
    # ARPA holds log10 values to 9 significant digits, and writes log10 0 as -99 (as KenLM)
    zero = np.isneginf(expected)
    np.testing.assert_allclose(got[~zero], expected[~zero], rtol=1e-7, atol=1e-8)
    # a zero (ln 0) comes back as 10^-99 times the backoffs on the way: still far below e^-50
    assert np.all(got[zero] < -50)


@FAST
@given(SENTENCES, st.integers(1, 4), st.sampled_from(["mle", "add-delta", "modified-kneser-ney",
                                                      "katz", "stupid-backoff", "witten-bell"]))
def test_ngram_save_then_load_gives_the_same_scores(sentences, order, smoothing):
    params = {"discount_fallback": True} if "kneser" in smoothing else {}
    try:
        lm = NgramModel.fit(sentences, order, make_estimator(smoothing, **params))
    except Exception as error:
        assert type(error).__name__ == "NextwordError"
        return
    with tempfile.TemporaryDirectory() as tmp:
        lm.save(Path(tmp) / "m")
        back = load_model(Path(tmp) / "m", verify=True)
        probe = sentences + [["a", "zebra", "b"]]
        assert np.array_equal(_scores(back, probe), _scores(lm, probe))


@settings(max_examples=5, deadline=None)
@given(SENTENCES, st.integers(0, 2**32))
def test_numpy_rnn_save_then_load_gives_the_same_scores(sentences, seed):
    from nextword.reference.model import NumpyRNNModel

    lm = NumpyRNNModel.initialise(Vocabulary.build(sentences), 4, 5, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        lm.save(Path(tmp) / "m")
        back = load_model(Path(tmp) / "m", verify=True)
    assert np.array_equal(_scores(back, sentences), _scores(lm, sentences))


@pytest.mark.parametrize("kind", ["window", "rnn", "lstm", "gru"])
@settings(max_examples=3, deadline=None)
@given(sentences=SENTENCES, seed=st.integers(0, 2**32))
def test_neural_save_then_load_gives_the_same_scores(kind, sentences, seed):
    torch = pytest.importorskip("torch")
    from nextword.neural.config import config_from_dict
    from nextword.neural.model import NeuralLM
    from nextword.neural.recurrent import build_net

    vocab = Vocabulary.build(sentences)
    sizes = {"embedding_dim": 6, "hidden_dim": 5, "dropout": 0.0}
    sizes.update({"window": 2} if kind == "window" else {"num_layers": 1, "tie": False})
    torch.manual_seed(seed)
    lm = NeuralLM(build_net(config_from_dict(kind, {"vocab_size": len(vocab), **sizes})), vocab)
    with tempfile.TemporaryDirectory() as tmp:
        lm.save(Path(tmp) / "m")
        back = load_model(Path(tmp) / "m", verify=True)
    assert np.array_equal(_scores(back, sentences), _scores(lm, sentences))
