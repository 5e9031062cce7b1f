"""N-gram language models: counting, estimators, the model, file formats, pruning."""
from nextword.ngram.absolute import AbsoluteDiscounting
from nextword.ngram.arpa import read_arpa, write_arpa
from nextword.ngram.counts import (NgramCounts, PaddedStream, count_ngrams, count_ngrams_chunked,
                                   merge_counts)
from nextword.ngram.entropy_pruning import entropy_prune
from nextword.ngram.estimators import MLE, AddDelta, make_estimator
from nextword.ngram.katz import Katz
from nextword.ngram.kneser_ney import KneserNey, ModifiedKneserNey
from nextword.ngram.model import NgramModel
from nextword.ngram.stupid_backoff import StupidBackoff
from nextword.ngram.witten_bell import WittenBell

__all__ = ["NgramCounts", "PaddedStream", "count_ngrams", "count_ngrams_chunked", "merge_counts",
           "MLE", "AddDelta", "KneserNey", "ModifiedKneserNey", "Katz", "WittenBell",
           "AbsoluteDiscounting", "StupidBackoff", "make_estimator", "NgramModel", "read_arpa",
           "write_arpa", "entropy_prune"]
