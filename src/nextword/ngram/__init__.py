"""N-gram language models: counting, estimators, the model, file formats."""
from nextword.ngram.counts import NgramCounts, PaddedStream, count_ngrams
from nextword.ngram.estimators import MLE, AddDelta
from nextword.ngram.model import NgramModel
from nextword.ngram.arpa import read_arpa, write_arpa

__all__ = ["NgramCounts", "PaddedStream", "count_ngrams", "MLE", "AddDelta", "NgramModel", "read_arpa", "write_arpa"]
