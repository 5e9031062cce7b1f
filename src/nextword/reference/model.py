"""The NumPy RNN behind the common LanguageModel interface, so `eval` and `generate` serve it.

Ids and outputs: the network reads every vocabulary id (<s> included) but predicts only the
|V| = len(vocab) - 1 ids that can follow (<s> never does). Output index j is vocabulary id j for
j < BOS_ID and id j + 1 above it::

    vocabulary id   0 <unk>   1 <s>   2 </s>   3 w3   ...
    output index    0         -       1        2      ...
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import model_folder, write_json_atomic
from nextword.model import MODEL_FILE, VOCAB_FILE, LanguageModel
from nextword.reference.rnn import (
    DTYPE, PARAM_NAMES, Params, RNNConfig, forward, hidden_step, init_params, output_logprobs,
)
from nextword.text.vocabulary import BOS_ID, EOS_ID, Vocabulary

TYPE_NAME = "numpy-rnn"
WEIGHTS_FILE = "weights.npz"
SCORE_SEGMENT = 256     # long sentences are scored in segments of this many steps, state carried


def output_index(ids: np.ndarray) -> np.ndarray:
    """Vocabulary ids (never <s>) -> output indices of the softmax."""
    ids = np.asarray(ids, dtype=np.int64)
    return ids - (ids > BOS_ID)


def sentence_arrays(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """<s> w1 .. wm -> inputs (<s>, w1, .., wm) and targets (w1, .., wm, </s>) as output indices."""
    ids = np.asarray(ids, dtype=np.int64)
    inputs = np.concatenate([[BOS_ID], ids])
    targets = output_index(np.concatenate([ids, [EOS_ID]]))
    return inputs, targets


class NumpyRNNModel(LanguageModel):
    """An Elman RNN language model whose maths is all in `nextword.reference.rnn`.

    >>> vocab = Vocabulary.build([["a", "b"]])
    >>> lm = NumpyRNNModel.initialise(vocab, embedding_dim=4, hidden_dim=8, seed=0)
    >>> probs = np.exp(lm.next_logprobs(lm.initial_state()))
    >>> round(float(probs.sum()), 12), float(probs[BOS_ID])
    (1.0, 0.0)
    """

    def __init__(self, vocab: Vocabulary, config: RNNConfig, params: Params,
                 training: dict | None = None):
        if config.input_size != len(vocab) or config.output_size != vocab.num_outcomes:
            raise NextwordError(f"network sizes {config.input_size}/{config.output_size} do not "
                                f"fit a vocabulary of {len(vocab)}")
        self.vocab = vocab
        self.config = config
        self.params = params
        self.training = training or {}

    @classmethod
    def initialise(cls, vocab: Vocabulary, embedding_dim: int = 32, hidden_dim: int = 64,
                   seed: int = 0) -> "NumpyRNNModel":
        """Random initial weights sized for `vocab`."""
        config = RNNConfig(len(vocab), vocab.num_outcomes, embedding_dim, hidden_dim)
        return cls(vocab, config, init_params(config, np.random.default_rng(seed)))

    # ---- scoring ----------------------------------------------------------------------------
    def sentence_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Each sentence from h(0) = 0 and <s>: ln ŷ(t)[x(t+1)] for every word and </s>."""
        for ids in sentences:
            inputs, targets = sentence_arrays(ids)
            pieces, h = [], None
            for start in range(0, len(inputs), SCORE_SEGMENT):
                stop = start + SCORE_SEGMENT
                _, cache = forward(self.params, inputs[start:stop], targets[start:stop], h0=h)
                pieces.append(-cache.step_losses())
                h = cache.h[-1]                                         # carry the state on
            yield np.concatenate(pieces)

    # ---- sampling state: the hidden vector h(t) ---------------------------------------------
    def initial_state(self) -> np.ndarray:
        return self.advance(np.zeros(self.config.hidden_dim, dtype=DTYPE), BOS_ID)

    def advance(self, state: np.ndarray, token: int) -> np.ndarray:
        return hidden_step(self.params, state, self.params["E"][int(token)])

    def batch_sampler(self, config):
        """Many sentences advance together: h (B, H), one row per sentence, the same
        h(t) = tanh(W_h h(t-1) + W_e e(t) + b1) as `advance`, row by row in one product."""
        from nextword.generate import BatchedSampler

        p = self.params

        def step(h, tokens):
            return np.tanh(h @ p["W_h"].T + p["E"][tokens] @ p["W_e"].T + p["b1"])

        def logprobs(h):
            return np.insert(output_logprobs(p, h), BOS_ID, -np.inf, axis=1)

        def init(size):
            return step(np.zeros((size, self.config.hidden_dim), dtype=DTYPE),
                        np.full(size, BOS_ID))
        return BatchedSampler(init, step, logprobs, config, select=lambda h, rows: h[rows])

    def next_logprobs(self, state: np.ndarray) -> np.ndarray:
        """ln ŷ over the outputs, with <s> put back in as -inf: shape (len(vocab),)."""
        return np.insert(output_logprobs(self.params, state), BOS_ID, -np.inf)

    # ---- storage ----------------------------------------------------------------------------
    def describe(self) -> dict:
        return {"type": TYPE_NAME, "vocabulary": len(self.vocab),
                "parameters": int(sum(p.size for p in self.params.values())),
                "config": asdict(self.config), "training": self.training}

    def save(self, directory: str | Path, force: bool = False) -> None:
        """model.json + vocab.txt + weights.npz (plain arrays, no pickle), whole or not at all."""
        with model_folder(directory, TYPE_NAME, force) as tmp:
            with open(tmp / WEIGHTS_FILE, "wb") as handle:              # a handle: no ".npz" added
                np.savez(handle, **{name: self.params[name] for name in PARAM_NAMES})
            self.vocab.save(tmp / VOCAB_FILE)
            write_json_atomic(tmp / MODEL_FILE, {
                "type": TYPE_NAME, "config": asdict(self.config), "training": self.training,
            })

    @classmethod
    def load(cls, directory: str | Path, meta: dict) -> "NumpyRNNModel":
        directory = Path(directory)
        try:
            config = RNNConfig(**meta["config"])
        except (KeyError, TypeError, ValueError) as error:
            raise NextwordError(f"{directory / MODEL_FILE}: malformed numpy-rnn model ({error})") from None
        except NextwordError as error:
            raise NextwordError(f"{directory / MODEL_FILE}: {error}") from None
        path = directory / WEIGHTS_FILE
        if not path.exists():
            raise NextwordError(f"{path}: no such file")
        try:
            with np.load(path, allow_pickle=False) as archive:
                params = {name: archive[name] for name in PARAM_NAMES if name in archive.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
            raise NextwordError(f"{path}: corrupt or truncated weights, cannot read them "
                                f"({reason})") from None
        for name, shape in config.shapes().items():
            if name not in params:
                raise NextwordError(f"{path}: array {name!r} is missing")
            if params[name].shape != shape or params[name].dtype != DTYPE:
                raise NextwordError(f"{path}: array {name!r} is {params[name].dtype}"
                                    f"{params[name].shape}, expected float64{shape}")
        vocab = Vocabulary.load(directory / VOCAB_FILE)
        try:
            return cls(vocab, config, params, meta.get("training"))
        except NextwordError as error:
            raise NextwordError(f"{directory}: {error}") from None
