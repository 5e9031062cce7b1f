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


# The model registry: a type name (the "type" written in MODEL_FILE) -> "module:attribute" of its
# loader, called as loader(path, meta). Nothing is imported until a file of that type is loaded,
# so an n-gram user never imports PyTorch. A new model kind adds one line here (or calls
# `register` from its own package, e.g. in a test).
MODEL_TYPES: dict[str, str] = {
    "ngram": "nextword.ngram.model:NgramModel.load",
    "window": "nextword.neural.model:NeuralLM.load",
    "rnn": "nextword.neural.model:NeuralLM.load",
    "lstm": "nextword.neural.model:NeuralLM.load",
    "gru": "nextword.neural.model:NeuralLM.load",
    "numpy-rnn": "nextword.reference.model:NumpyRNNModel.load",
}
# a model given as a single file rather than a directory
FILE_LOADER = "nextword.ngram.arpa:load_arpa"
# where a missing optional dependency is installed from: top-level module -> pip extra
EXTRAS = {"torch": "neural", "matplotlib": "plot"}


def register(type_name: str, target: str | None = None):
    """Register a model type: `register("mix", "pkg.module:Class.load")`, or as a class
    decorator `@register("mix")` on a class with a `load(path, meta)` classmethod."""
    if target is not None:
        MODEL_TYPES[type_name] = target
        return None

    def wrap(cls):
        MODEL_TYPES[type_name] = cls
        return cls
    return wrap


def import_optional(module_name: str):
    """importlib.import_module, where a missing optional dependency (torch, matplotlib) becomes a
    one-line error naming the pip extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        root = (error.name or "").split(".")[0]
        if root in EXTRAS:
            raise NextwordError(f"this needs {root}, which is not installed: "
                                f"pip install 'nextword[{EXTRAS[root]}]'") from None
        raise


def resolve(target):
    """"module:Attr.attr" -> the object, importing the module now (see import_optional)."""
    if not isinstance(target, str):             # a class registered directly
        return target.load
    module_name, _, attribute = target.partition(":")
    obj = import_optional(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def load_model(path: str | Path) -> LanguageModel:
    """Load any saved model: a directory written by `save`, or an ARPA file."""
    path = Path(path)
    if not path.exists():
        raise NextwordError(f"{path}: no such model directory or file")
    if path.is_file():
        return resolve(FILE_LOADER)(path, None)
    meta = read_json(path / MODEL_FILE)
    type_name = meta.get("type") if isinstance(meta, dict) else None
    if type_name not in MODEL_TYPES:
        raise NextwordError(f"{path / MODEL_FILE}: unknown model type {type_name!r}")
    return resolve(MODEL_TYPES[type_name])(path, meta)
