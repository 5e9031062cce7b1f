"""nextword: build, evaluate and sample language models, from n-gram counts to recurrent networks.

These imports are light (NumPy, no PyTorch): the model kinds behind `load_model` are imported
only when a file of their type is loaded. They are bound here, not on first use, because
`evaluate` and `generate` are also the names of submodules: a lazily resolved name would be
replaced by its submodule as soon as that is imported.

Importing the package also keeps freed memory in the process for reuse (glibc only; see
`nextword.allocator`, NEXTWORD_KEEP_FREED_MEMORY=0 to opt out).
"""
from nextword.allocator import keep_freed_memory
from nextword.errors import NextwordError
from nextword.evaluate import Evaluation, evaluate
from nextword.generate import SamplingConfig, generate
from nextword.model import LanguageModel, load_model
from nextword.text.corpora import Corpus, lines_corpus, load_corpus
from nextword.text.vocabulary import Vocabulary

keep_freed_memory()

__version__ = "0.1.0"
__all__ = ["NextwordError", "Evaluation", "evaluate", "SamplingConfig", "generate",
           "LanguageModel", "load_model", "Corpus", "lines_corpus", "load_corpus",
           "Vocabulary"]
