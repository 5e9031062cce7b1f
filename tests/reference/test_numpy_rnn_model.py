"""NumpyRNNModel behind the common interface: scoring, sampling state, save and load."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.model import load_model
from nextword.reference import model as model_module
from nextword.reference.model import NumpyRNNModel, output_index, sentence_arrays
from nextword.reference.rnn import forward
from nextword.text.vocabulary import BOS_ID, EOS_ID, Vocabulary
from rnn_fixtures import tiny_corpus  # noqa: F401  (a fixture)
from manifest_helpers import drop_manifest


@pytest.fixture
def lm(tiny_corpus):
    """Random weights (seed 3) over the tiny corpus' vocabulary: 8 ids, 7 outputs."""
    return NumpyRNNModel.initialise(Vocabulary.build(tiny_corpus), embedding_dim=4, hidden_dim=6,
                                    seed=3)


def test_output_index_skips_bos():
    """ids 0 <unk>, 2 </s>, 3, 7 -> outputs 0, 1, 2, 6 (<s> = 1 has no output)."""
    assert output_index(np.array([0, 2, 3, 7])).tolist() == [0, 1, 2, 6]
    inputs, targets = sentence_arrays(np.array([3, 4]))
    assert inputs.tolist() == [BOS_ID, 3, 4]
    assert targets.tolist() == [2, 3, 1]                       # w3, w4, </s> as outputs


def test_next_logprobs_sum_to_one_in_many_states(lm, tiny_corpus):
    state = lm.initial_state()
    for token in lm.vocab.encode(tiny_corpus[0] + tiny_corpus[1] + ["zebra"]):
        logprobs = lm.next_logprobs(state)
        assert logprobs.shape == (len(lm.vocab),)
        assert logprobs[BOS_ID] == -np.inf
        assert math.fsum(np.exp(logprobs)) == pytest.approx(1.0, abs=1e-14)
        state = lm.advance(state, int(token))


def test_sentence_scores_equal_step_by_step_sampling_path(lm):
    """sentence_logprobs (one forward pass) = next_logprobs/advance chained from <s>."""
    ids = lm.vocab.encode(["the", "cat", "sat", "zebra"])
    scored = next(iter(lm.sentence_logprobs([ids])))
    state, expected = lm.initial_state(), []
    for token in list(ids) + [EOS_ID]:
        expected.append(lm.next_logprobs(state)[token])
        state = lm.advance(state, int(token))
    assert scored == pytest.approx(expected, abs=1e-13)
    assert len(scored) == len(ids) + 1                         # every word and one </s>


def test_long_sentences_are_scored_in_segments_with_the_state_carried(lm, monkeypatch):
    ids = lm.vocab.encode(["the", "cat", "sat", "the", "dog", "ran", "the"])
    whole = next(iter(lm.sentence_logprobs([ids])))
    monkeypatch.setattr(model_module, "SCORE_SEGMENT", 3)
    pieces = next(iter(lm.sentence_logprobs([ids])))
    assert pieces == pytest.approx(whole, abs=1e-14)


def test_evaluate_counts_words_and_one_end_per_sentence(lm):
    """Two sentences of 3 and 0 words: 3 + 1 + 0 + 1 = 5 tokens; 'zebra' is the one OOV."""
    result = evaluate(lm, [["the", "zebra", "sat"], []])
    assert (result.tokens, result.sentences, result.oov) == (5, 2, 1)
    losses = [forward(lm.params, *sentence_arrays(lm.vocab.encode(s)))[0] * (len(s) + 1)
              for s in (["the", "zebra", "sat"], [])]
    assert result.cross_entropy == pytest.approx(sum(losses) / 5, abs=1e-13)


def test_save_and_load_round_trip(lm, tmp_path):
    lm.training = {"history": [{"epoch": 1, "train_cross_entropy": 1.5}]}
    lm.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "vocab.txt",
                                                                 "weights.npz"]
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, NumpyRNNModel)
    assert loaded.vocab == lm.vocab and loaded.config == lm.config
    for name, value in lm.params.items():
        assert np.array_equal(loaded.params[name], value)
    assert loaded.describe() == lm.describe()
    ids = lm.vocab.encode(["the", "dog", "ran"])
    assert np.array_equal(next(iter(loaded.sentence_logprobs([ids]))),
                          next(iter(lm.sentence_logprobs([ids]))))


def test_load_errors_name_the_file(lm, tmp_path):
    directory = tmp_path / "m"
    lm.save(directory)
    weights, meta = directory / "weights.npz", directory / "model.json"

    arrays = dict(np.load(weights))
    arrays["W_h"] = arrays["W_h"][:, :2]
    np.savez(weights, **arrays)
    with pytest.raises(NextwordError, match=r"weights\.npz: .* recorded .* was replaced"):
        load_model(directory)                           # the checksum of model.json sees it
    drop_manifest(directory)                            # and without it, the loader's checks
    with pytest.raises(NextwordError, match=r"weights\.npz: array 'W_h' is float64\(6, 2\)"):
        load_model(directory)

    del arrays["W_h"]
    np.savez(weights, **arrays)
    with pytest.raises(NextwordError, match=r"weights\.npz: array 'W_h' is missing"):
        load_model(directory)

    weights.write_bytes(b"not a zip archive")
    with pytest.raises(NextwordError, match=r"weights\.npz: corrupt or truncated weights"):
        load_model(directory)

    weights.unlink()
    with pytest.raises(NextwordError, match=r"weights\.npz: no such file"):
        load_model(directory)

    meta.write_text(json.dumps({"type": "numpy-rnn"}))
    with pytest.raises(NextwordError, match=r"model\.json: malformed numpy-rnn model"):
        load_model(directory)

    meta.write_text(json.dumps({"type": "numpy-rnn", "config": {
        "input_size": 8, "output_size": 7, "embedding_dim": 4, "hidden_dim": 0}}))
    with pytest.raises(NextwordError, match=r"model\.json: hidden-dim must be an integer >= 1"):
        load_model(directory)


def test_a_vocabulary_of_another_size_is_refused(lm, tmp_path):
    lm.save(tmp_path / "m")
    Vocabulary.build([["only", "four", "other", "words"]]).save(tmp_path / "m" / "vocab.txt")
    drop_manifest(tmp_path / "m")
    with pytest.raises(NextwordError, match="do not fit a vocabulary of 7"):
        load_model(tmp_path / "m")


def test_saving_where_a_file_stands_is_an_error(lm, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a directory")
    with pytest.raises(NextwordError, match=r"taken: exists and is a file, not a model folder"):
        lm.save(blocker)
    with pytest.raises(NextwordError, match=r"taken: exists and is a file, not a folder"):
        lm.save(blocker / "inside")
