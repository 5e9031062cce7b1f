"""nextword: build, evaluate and sample language models, from n-gram counts to recurrent networks.

These imports are light (NumPy, no PyTorch): the model kinds behind `load_model` are imported
only when a file of their type is loaded. They are bound here, not on first use, because
`evaluate` and `generate` are also the names of submodules: a lazily resolved name would be
replaced by its submodule as soon as that is imported.
"""
from nextword.errors import NextwordError
from nextword.evaluate import Evaluation, evaluate
from nextword.generate import SamplingConfig, generate
from nextword.model import LanguageModel, load_model
from nextword.text.corpora import Corpus, load_corpus
from nextword.text.vocabulary import Vocabulary

__version__ = "0.1.0"
__all__ = ["NextwordError", "Evaluation", "evaluate", "SamplingConfig", "generate",
           "LanguageModel", "load_model", "Corpus", "load_corpus", "Vocabulary"]
