"""Two language models over one suffix-array index: the ∞-gram and a smoothed unbounded-order
n-gram (interpolated Kneser–Ney over every suffix length of the history).

Notation: h_k is the suffix of k tokens of the history (h_0 the empty context; the sentence's
<s> is the </s> in front of it in the index), c(h) the occurrences of h followed by some token,
c(h w) those followed by w, N1+(h •) the number of distinct words that follow h, |V| the words
a model can predict (all but <s>).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from nextword.errors import NextwordError
from nextword.model import LanguageModel, sentence_batches
from nextword.ngram.counts import PaddedStream
from nextword.text.vocabulary import BOS_ID, EOS_ID

from nextword.infinigram import query
from nextword.infinigram.index import INFINIGRAM_TYPE, INDEX_TYPE, SuffixArrayIndex

BATCH_TOKENS = 1 << 17          # sentences scored at once (all their positions and suffixes)


class _IndexModel(LanguageModel):
    """What both models share: the index, the stream of a batch, the sampling state.

    State: the tokens read so far in the sentence (</s> standing for <s>) and the rank ranges
    of their suffixes of length 1..K that occur; reading a token narrows each by it (one
    vectorised search), so generation never searches a context from scratch."""

    def __init__(self, index: SuffixArrayIndex):
        self.index = index
        self.vocab = index.vocab
        self.unigram = query.continuation_unigram(index)        # c(h_0 w)
        self.total = int(self.unigram.sum())                     # c(h_0) = N - 1

    # ---- scoring: every suffix length of every position of a batch --------------------------
    def sentence_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for batch in sentence_batches(sentences, BATCH_TOKENS):
            stream = PaddedStream.from_sentences(batch)
            ids = stream.ids.astype(np.int64)
            ids[stream.starts] = EOS_ID                           # <s> is the </s> before it
            logprobs = self._stream_logprobs(ids, stream.starts[stream.sentence])
            predicted = np.ones(len(ids), dtype=bool)
            predicted[stream.starts] = False                      # <s> is never predicted
            lengths = np.fromiter((len(s) + 1 for s in batch), dtype=np.int64, count=len(batch))
            yield from np.split(logprobs[predicted], np.cumsum(lengths)[:-1])

    # ---- sampling ---------------------------------------------------------------------------
    def initial_state(self):
        return self.advance(((), np.zeros(0, np.int64), np.zeros(0, np.int64)), BOS_ID)

    def state_for(self, context: np.ndarray):
        """The bare context: () gives the empty history (level 0 alone); "<s>" first means
        the sentence start, as everywhere."""
        state = ((), np.zeros(0, np.int64), np.zeros(0, np.int64))
        for token in context:
            state = self.advance(state, int(token))
        return state

    def advance(self, state, token: int):
        history, lo, hi = state
        token = EOS_ID if token == BOS_ID else int(token)
        # suffixes of length k + 1 = those of length k narrowed by the token at offset k
        new_lo, new_hi = query.narrow(self.index, lo, hi, np.arange(1, len(lo) + 1),
                                      np.full(len(lo), token))
        one_lo, one_hi = query.unigram_range(self.index, np.array([token]))
        lo = np.concatenate([one_lo, new_lo])
        hi = np.concatenate([one_hi, new_hi])
        seen = int(np.count_nonzero(hi > lo))     # counts fall with k: the seen ones come first
        return history + (token,), lo[:seen], hi[:seen]

    def _followers(self, lo: int, hi: int, k: int) -> np.ndarray:  # c(h w) for all w
        """c(h w) for every w, h the string of k tokens with rank range [lo, hi)."""
        following = query.token_at(self.index, self.index.sa[lo:hi].astype(np.int64) + k)
        return np.bincount(following[following >= 0], minlength=len(self.vocab))

    def describe(self) -> dict:
        return {"type": self.type_name, "tokens": self.index.n, "sentences": self.index.sentences,
                "vocabulary": len(self.vocab), "index_bytes": self.index.nbytes()}

    def save(self, directory: str | Path) -> None:
        self.index.save(directory)


class UnboundedNgram(_IndexModel):
    """Interpolated Kneser–Ney over every suffix length of the history, counts from the index.

        P_-1(w)  = 1 / |V|
        P_k(w)   = (max(a(h_k w) - D, 0) + D · N1+(h_k •) · P_k-1(w)) / a(h_k)      k = 0, 1, ..., K
        P(w | h) = P_K(w),    K = the longest suffix of h that occurs followed by some word

        a(h w) = N1+(• h w), the number of distinct words seen just before h w (Kneser & Ney
                 1995: a lower order is asked only when longer contexts failed, so it counts
                 the contexts a word completes, not its occurrences), or
               = c(h w) when h begins with <s> (nothing precedes <s>: KenLM keeps raw counts
                 for those n-grams too);
        a(h)   = Σ_w a(h w), that is N1+(• h •) or c(h); N1+(h •) = |{w : a(h w) > 0}|.

    There is no highest order: every suffix that occurs is a level, so no count is ever raw
    for being "the top order" (as a fixed-order Kneser–Ney does at n); the training tokens'
    own contexts are their whole sentences, which begin with <s>. One discount D for all
    levels (default 0.9, chosen on PTB validation; docs/infinigram.md). Every word gets mass
    (P_-1 > 0), so P sums to 1 over the vocabulary and the perplexity is finite.

    >>> lm = UnboundedNgram(SuffixArrayIndex.from_sentences([["a", "b"], ["a", "c"]]))
    >>> round(lm.prob("b", ("<s>", "a")), 6)      # (1 - 0.9 + 0.9 · 2 · P_1(b)) / 2; tests have all the arithmetic
    0.22784
    """

    type_name = INDEX_TYPE

    def __init__(self, index: SuffixArrayIndex, discount: float = 0.9):
        super().__init__(index)
        if not 0 < discount < 1:
            raise NextwordError(f"the discount D must be in (0, 1), got {discount}")
        self.discount = discount
        self.a_0 = np.asarray(index.predecessors, dtype=np.int64)          # a(w) = N1+(• w)

    def _level_0(self, p: np.ndarray, words) -> np.ndarray:
        D, a = self.discount, self.a_0
        return (np.maximum(a[words] - D, 0) + D * np.count_nonzero(a) * p) / a.sum()

    def _stream_logprobs(self, ids: np.ndarray, sentence_start: np.ndarray) -> np.ndarray:
        index, D = self.index, self.discount
        p = self._level_0(np.full(len(ids), 1.0 / self.vocab.num_outcomes), ids)      # P_0
        for level in query.suffix_levels(index, ids, sentence_start):
            k, t = level.length, level.at
            anchored = ids[t - k] == EOS_ID                   # h_k begins with <s>
            a_hw, a_h = level.c_hw.copy(), level.c_h.copy()
            kn = np.flatnonzero(~anchored)
            a_hw[kn] = query.distinct_previous(index, level.joint_lo[kn], level.joint_hi[kn])
            a_h[kn] = query.distinct_previous(index, level.lo[kn], level.hi[kn], k)
            if k == 1:
                n1 = index.followers[ids[t - 1]]              # N1+(v •), stored
            else:
                n1 = query.distinct_next(index, level.lo, level.hi, k)
            p[t] = (np.maximum(a_hw - D, 0) + D * n1 * p[t]) / a_h
        return np.log(p)

    def _a(self, lo: int, hi: int, k: int, anchored: bool) -> np.ndarray:
        """a(h w) for every w, h the k tokens with rank range [lo, hi)."""
        start = self.index.sa[lo:hi].astype(np.int64)
        following = query.token_at(self.index, start + k)
        if not anchored:     # one count per distinct (word before, w) pair
            before = query.token_at(self.index, start - 1) + 1
            pairs = np.unique(before[following >= 0] * len(self.vocab) + following[following >= 0])
            following = pairs % len(self.vocab)
        return np.bincount(following[following >= 0], minlength=len(self.vocab))

    def next_logprobs(self, state) -> np.ndarray:
        history, lo, hi = state
        D = self.discount
        uniform = np.full(len(self.vocab), 1.0 / self.vocab.num_outcomes)
        uniform[BOS_ID] = 0.0
        p = self._level_0(uniform, slice(None))
        for k in range(1, len(lo) + 1):
            a_hw = self._a(int(lo[k - 1]), int(hi[k - 1]), k, history[-k] == EOS_ID)
            if a_hw.sum() == 0:                               # seen only at the corpus's end
                break
            p = (np.maximum(a_hw - D, 0) + D * np.count_nonzero(a_hw) * p) / a_hw.sum()
        with np.errstate(divide="ignore"):
            out = np.log(p)
        out[BOS_ID] = -np.inf
        return out

    def describe(self) -> dict:
        return {**super().describe(), "estimator": {"name": "kneser-ney", "order": "unbounded",
                                                    "discount": self.discount}}

    def save(self, directory: str | Path) -> None:
        self.index.save(directory, discount=self.discount)

    @classmethod
    def load(cls, directory, meta=None) -> "UnboundedNgram":
        index = SuffixArrayIndex.open(directory, meta)
        return cls(index, float((meta or {}).get("discount", 0.9)))


class InfiniGram(_IndexModel):
    """The ∞-gram (Liu et al. 2024): the longest suffix of the history that occurs decides.

        P∞(w | h) = c(h_K w) / c(h_K),  K = max{k : c(h_k) > 0}   (h_0, the empty context, always)

    Continuations never seen after h_K get probability 0, so a corpus's perplexity is
    infinite: evaluation refuses it (`normalised = False`) and `nextword query DIR --corpus`
    reports what the ∞-gram is for, its next-token accuracy. The smoothed model over the same
    index is `UnboundedNgram`.
    """

    type_name = INFINIGRAM_TYPE
    normalised = False
    unnormalised_reason = (
        "the ∞-gram gives probability 0 to every word not seen after the longest matching "
        "suffix, so its perplexity is infinite: report its accuracy with `nextword query "
        "INDEX --corpus CORPUS`, score the smoothed model (the index folder itself), or pass "
        "--unnormalised")

    def _stream_logprobs(self, ids: np.ndarray, sentence_start: np.ndarray) -> np.ndarray:
        numerator = self.unigram[ids].astype(np.float64)
        denominator = np.full(len(ids), float(self.total))
        for level in query.suffix_levels(self.index, ids, sentence_start):
            numerator[level.at] = level.c_hw            # deeper levels overwrite shallower
            denominator[level.at] = level.c_h
        with np.errstate(divide="ignore"):
            return np.log(numerator / denominator)

    def next_logprobs(self, state) -> np.ndarray:
        _, lo, hi = state
        counts, k = self.unigram, 0
        for j in range(len(lo), 0, -1):                  # the longest suffix with a follower
            c_hw = self._followers(int(lo[j - 1]), int(hi[j - 1]), j)
            if c_hw.sum() > 0:
                counts, k = c_hw, j
                break
        with np.errstate(divide="ignore"):
            out = np.log(counts / counts.sum())
        out[BOS_ID] = -np.inf
        return out

    @classmethod
    def load(cls, directory, meta=None) -> "InfiniGram":
        directory = Path(directory)
        target = directory / (meta or {}).get("index", "..")
        try:
            return cls(SuffixArrayIndex.open(target))
        except NextwordError as error:
            raise NextwordError(f"{directory}: the ∞-gram's index: {error}") from None


# ---- the ∞-gram over a corpus: accuracy and suffix lengths ----------------------------------
def infinigram_report(index: SuffixArrayIndex, sentences: Iterable[np.ndarray],
                      long_suffix: int = 4) -> dict:
    """Next-token accuracy of the ∞-gram over id sentences (KenLM's tokens: each word and one
    </s> per sentence), the share of tokens it answers (P∞(w | h) > 0), and the share whose
    longest matching suffix is longer than `long_suffix` tokens (<s> counts as one)."""
    model = InfiniGram(index)
    argmax_0 = int(np.argmax(model.unigram))
    tokens = correct = answered = longer = 0
    histogram = np.zeros(0, dtype=np.int64)
    for batch in sentence_batches(sentences, BATCH_TOKENS):
        stream = PaddedStream.from_sentences(batch)
        ids = stream.ids.astype(np.int64)
        ids[stream.starts] = EOS_ID
        m = len(ids)
        k = np.zeros(m, dtype=np.int64)
        c_hw = model.unigram[ids].copy()
        lo = np.zeros(m, dtype=np.int64)
        hi = np.zeros(m, dtype=np.int64)
        for level in query.suffix_levels(index, ids, stream.starts[stream.sentence]):
            k[level.at] = level.length
            c_hw[level.at] = level.c_hw
            lo[level.at], hi[level.at] = level.lo, level.hi
        predicted = np.ones(m, dtype=bool)
        predicted[stream.starts] = False
        guess = np.full(m, argmax_0, dtype=np.int64)
        deep = np.flatnonzero(predicted & (k > 0))
        guess[deep] = query.most_frequent_next(index, lo[deep], hi[deep], k[deep])[0]
        t = np.flatnonzero(predicted)
        tokens += len(t)
        correct += int(np.count_nonzero(guess[t] == ids[t]))
        answered += int(np.count_nonzero(c_hw[t] > 0))
        longer += int(np.count_nonzero(k[t] > long_suffix))
        counts = np.bincount(k[t])
        histogram = np.pad(histogram, (0, max(0, len(counts) - len(histogram))))
        histogram[: len(counts)] += counts
    if tokens == 0:
        raise NextwordError("nothing to evaluate: the corpus has no sentences")
    return {"tokens": tokens, "accuracy": correct / tokens, "answered": answered / tokens,
            f"suffix_longer_than_{long_suffix}": longer / tokens,
            "mean_suffix_length": float(np.arange(len(histogram)) @ histogram / tokens),
            "suffix_length_histogram": histogram.tolist()}
