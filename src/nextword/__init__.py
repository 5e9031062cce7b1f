"""nextword: build, evaluate and sample language models, from n-gram counts to recurrent networks.

The names below are imported on first use (PEP 562), so `import nextword` (and every command)
loads only what it needs: `nextword --help` imports neither NumPy nor PyTorch.
"""
from importlib import import_module

__version__ = "0.1.0"
_EXPORTS = {
    "NextwordError": "nextword.errors", "Evaluation": "nextword.evaluate",
    "evaluate": "nextword.evaluate", "SamplingConfig": "nextword.generate",
    "generate": "nextword.generate", "LanguageModel": "nextword.model",
    "load_model": "nextword.model", "Corpus": "nextword.text.corpora",
    "load_corpus": "nextword.text.corpora", "Vocabulary": "nextword.text.vocabulary",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nextword' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
