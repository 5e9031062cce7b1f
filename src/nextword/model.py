"""The one interface every language model implements, so evaluation and generation exist once.

All probabilities are natural logs (``logprob``); formats that need log10 convert at the edge.
A sentence is a 1-D array of word ids *without* markers; a model scores it from ``<s>`` and
predicts each word and then ``</s>``, so a sentence of m words yields m + 1 log-probabilities.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import read_json
from nextword.text.vocabulary import BOS_ID, Vocabulary

MODEL_FILE = "model.json"   # every saved model directory holds this, naming its "type"
VOCAB_FILE = "vocab.txt"


class LanguageModel(ABC):
    """P(next token | history) for a vocabulary.

    Scoring: :meth:`sentence_logprobs` (batched, used by evaluation).
    Sampling: :meth:`initial_state`, :meth:`next_logprobs`, :meth:`advance` (used by generation).
    """

    vocab: Vocabulary
    #: False for models that give scores rather than probabilities (stupid backoff):
    #: evaluation then refuses to call the result a perplexity unless asked.
    normalised: bool = True

    @abstractmethod
    def sentence_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """For each sentence (word ids), yield ln P of each word and of the closing </s>."""

    @abstractmethod
    def initial_state(self) -> Any:
        """The state after reading <s>: the start of every generated sentence."""

    @abstractmethod
    def next_logprobs(self, state: Any) -> np.ndarray:
        """ln P(w | state) for every id w of the vocabulary, shape (len(vocab),); <s> is -inf."""

    @abstractmethod
    def advance(self, state: Any, token: int) -> Any:
        """The state after reading `token`."""

    @abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write the model to `directory` (a MODEL_FILE with its type, the vocabulary, arrays)."""

    def describe(self) -> dict:
        """A few facts for `nextword info`."""
        return {"vocabulary": len(self.vocab)}

    def state_for(self, context: np.ndarray) -> Any:
        """The state after a context of ids (oldest first). A model that needs a sentence start
        reads <s> first; a leading <s> in `context` is that same start, not read twice."""
        state = self.initial_state()
        start = 1 if len(context) and context[0] == BOS_ID else 0
        for token in context[start:]:
            state = self.advance(state, int(token))
        return state

    def logprob(self, word: str, context: tuple[str, ...] = ()) -> float:
        """ln P(word | context), context oldest first; include "<s>" to mean a sentence start."""
        state = self.state_for(self.vocab.encode(list(context)))
        return float(self.next_logprobs(state)[self.vocab.encode([word])[0]])

    def prob(self, word: str, context: tuple[str, ...] = ()) -> float:
        return float(np.exp(self.logprob(word, context)))


def sentence_batches(sentences: Iterable[np.ndarray], max_tokens: int) -> Iterator[list]:
    """Group sentences into lists of about `max_tokens` tokens (markers counted), so a model
    scores many at once while memory stays bounded however long the corpus is."""
    batch, size = [], 0
    for sentence in sentences:
        batch.append(sentence)
        size += len(sentence) + 2
        if size >= max_tokens:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# type name -> loader(directory, meta) ; filled by the model packages on import
LOADERS: dict[str, Any] = {}


def register(type_name: str):
    """Class decorator: `load_model` dispatches on the "type" written in MODEL_FILE."""
    def wrap(cls):
        LOADERS[type_name] = cls.load
        return cls
    return wrap


def load_model(path: str | Path) -> LanguageModel:
    """Load any saved model: a directory written by `save`, or an ARPA file."""
    path = Path(path)
    if not path.exists():
        raise NextwordError(f"{path}: no such model directory or file")
    _import_model_packages()
    if path.is_file():
        if "arpa" in LOADERS:
            return LOADERS["arpa"](path, None)
        raise NextwordError(f"{path}: a model is a directory written by 'nextword train'")
    meta = read_json(path / MODEL_FILE)
    type_name = meta.get("type")
    if type_name not in LOADERS:
        raise NextwordError(f"{path / MODEL_FILE}: unknown model type {type_name!r}")
    return LOADERS[type_name](path, meta)


def _import_model_packages() -> None:
    import importlib

    for module in ("nextword.ngram", "nextword.neural", "nextword.reference"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:     # a real missing dependency, not an absent package
                raise
