"""nextword: build, evaluate and sample language models, from n-gram counts to recurrent networks."""
from nextword.errors import NextwordError
from nextword.evaluate import Evaluation, evaluate
from nextword.generate import SamplingConfig, generate
from nextword.model import LanguageModel, load_model
from nextword.text.corpora import Corpus, load_corpus
from nextword.text.vocabulary import Vocabulary

__version__ = "0.1.0"
__all__ = ["NextwordError", "Evaluation", "evaluate", "SamplingConfig", "generate",
           "LanguageModel", "load_model", "Corpus", "load_corpus", "Vocabulary"]
