"""Unbounded-order n-grams over a suffix array of the corpus: counts of any n-gram, the ∞-gram
(Liu et al. 2024) and a smoothed unbounded-order model (interpolated Kneser–Ney)."""
from nextword.infinigram.index import SuffixArrayIndex, build_index
from nextword.infinigram.model import InfiniGram, UnboundedNgram, infinigram_report

__all__ = ["SuffixArrayIndex", "build_index", "InfiniGram", "UnboundedNgram", "infinigram_report"]
