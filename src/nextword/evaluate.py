"""Cross-entropy and perplexity, computed one way for every model.

The convention (KenLM's): each sentence is scored from <s>; every word and one </s> per
sentence are predicted and counted; <s> is never predicted. A token missing from the
vocabulary is scored as <unk> and counted as an OOV; perplexity is reported including OOVs
and, KenLM-style, excluding them (their positions dropped; later words still count).

    cross-entropy H = -(1/N) * sum_t ln P(w_t | history)      (nats per token)
    perplexity      = exp(H) = 2 ** (H / ln 2)
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from nextword.errors import NextwordError
from nextword.model import LanguageModel


@dataclass(frozen=True)
class Evaluation:
    log_prob: float                 # natural-log total over all predicted tokens
    tokens: int                     # predicted tokens: words + one </s> per sentence
    sentences: int
    oov: int                        # tokens not in the vocabulary (scored as <unk>)
    log_prob_excluding_oov: float
    normalised: bool = True

    @property
    def cross_entropy(self) -> float:
        """Nats per token."""
        return -self.log_prob / self.tokens if self.tokens else math.nan

    @property
    def bits_per_token(self) -> float:
        return self.cross_entropy / math.log(2)

    @property
    def perplexity(self) -> float:
        return _exp(self.cross_entropy)

    @property
    def perplexity_excluding_oov(self) -> float:
        kept = self.tokens - self.oov
        return _exp(-self.log_prob_excluding_oov / kept) if kept else math.nan

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(
            cross_entropy=self.cross_entropy,
            bits_per_token=self.bits_per_token,
            perplexity=self.perplexity,
            perplexity_excluding_oov=self.perplexity_excluding_oov,
        )
        return out


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def encode_sentences(model: LanguageModel, sentences: Iterable[Sequence[str]],
                     oov_masks: deque) -> Iterator[np.ndarray]:
    """Encode token lists to ids, remembering (in `oov_masks`) which tokens were OOV."""
    vocab = model.vocab
    for tokens in sentences:
        oov_masks.append(~vocab.known(tokens))
        yield vocab.encode(tokens)


def evaluate(model: LanguageModel, sentences: Iterable[Sequence[str]],
             progress=None, allow_unnormalised: bool = False) -> Evaluation:
    """Score a corpus (an iterable of token lists), streaming: memory does not grow with it."""
    if not model.normalised and not allow_unnormalised:
        raise NextwordError(
            "this model gives scores, not probabilities (stupid backoff): its 'perplexity' is "
            "not one; pass --unnormalised (allow_unnormalised=True) to report it anyway"
        )
    masks: deque[np.ndarray] = deque()   # the model may read ahead to batch; masks wait here
    total = total_known = 0.0
    tokens = oov = num_sentences = 0
    for logprobs in model.sentence_logprobs(encode_sentences(model, sentences, masks)):
        mask = masks.popleft()
        total += float(logprobs.sum())
        if mask.any():
            total_known += float(logprobs[:-1][~mask].sum() + logprobs[-1])
            oov += int(mask.sum())
        else:
            total_known += float(logprobs.sum())
        tokens += len(logprobs)
        num_sentences += 1
        if progress is not None:
            progress.update(len(logprobs))
    if num_sentences == 0:
        raise NextwordError("nothing to evaluate: the corpus has no sentences")
    return Evaluation(total, tokens, num_sentences, oov, total_known, model.normalised)
