"""N-gram language models: counting, estimators, the model, file formats, pruning.

The names below are imported on first use, so loading a model imports its own modules only.
"""
from importlib import import_module

_EXPORTS = {
    "AbsoluteDiscounting": "absolute", "read_arpa": "arpa", "write_arpa": "arpa",
    "NgramCounts": "counts", "PaddedStream": "counts", "count_ngrams": "counts",
    "count_ngrams_chunked": "counts", "merge_counts": "counts", "entropy_prune": "entropy_pruning",
    "MLE": "estimators", "AddDelta": "estimators", "make_estimator": "estimators",
    "Katz": "katz", "KneserNey": "kneser_ney", "ModifiedKneserNey": "kneser_ney",
    "NgramModel": "model", "StupidBackoff": "stupid_backoff", "WittenBell": "witten_bell",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nextword.ngram' has no attribute {name!r}")
    return getattr(import_module(f"nextword.ngram.{_EXPORTS[name]}"), name)
