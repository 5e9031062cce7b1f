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
from itertools import chain, islice, repeat
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from nextword.errors import NextwordError
from nextword.model import LanguageModel
from nextword.text.vocabulary import ID_DTYPE, UNK_ID, check_token_lists


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
        return exp_or_inf(self.cross_entropy)

    @property
    def perplexity_excluding_oov(self) -> float:
        kept = self.tokens - self.oov
        return exp_or_inf(-self.log_prob_excluding_oov / kept) if kept else math.nan

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(
            cross_entropy=self.cross_entropy,
            bits_per_token=self.bits_per_token,
            perplexity=self.perplexity,
            perplexity_excluding_oov=self.perplexity_excluding_oov,
        )
        return out


def exp_or_inf(x: float) -> float:
    """math.exp, with inf for a perplexity too large for a float (a diverged model)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


# sentences read, encoded and summed as one block (one NumPy call per sum): PTB test x10 through
# the 5-gram took 12% less time in blocks of 65,536 than of 4,096 (docs/benchmarks.md)
FLUSH_SENTENCES = 1 << 16


def encode_sentences(model: LanguageModel, sentences: Iterable[Sequence[str]],
                     oov_masks: deque, block_size: int = 1024) -> Iterator[np.ndarray]:
    """Encode token lists to ids, remembering (in `oov_masks`) which tokens were OOV.

    Sentences are encoded a block at a time (one dictionary pass in C over the block's tokens).
    A sentence without OOV queues None."""
    index = model.vocab.index
    iterator = iter(sentences)
    while True:
        block = list(islice(iterator, block_size))
        if not block:
            return
        lengths, ids, oov = _encode_block(index, block)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        sentence_of_oov = np.searchsorted(ends, np.flatnonzero(oov), side="right")
        has_oov = np.bincount(sentence_of_oov, minlength=len(block)) > 0
        for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
            oov_masks.append(oov[start:end] if has_oov[i] else None)
            yield ids[start:end]


def evaluate(model: LanguageModel, sentences: Iterable[Sequence[str]],
             progress=None, allow_unnormalised: bool = False) -> Evaluation:
    """Score a corpus (an iterable of token lists; `lines_corpus(lines)` for lines of text),
    streaming: memory does not grow with it.

    Log-probabilities are summed over blocks of FLUSH_SENTENCES sentences (one NumPy call
    per block, not one per sentence); the log-probability excluding OOVs is the total minus
    what the OOV positions received, summed by block the same way."""
    if not model.normalised and not allow_unnormalised:
        raise NextwordError(getattr(
            model, "unnormalised_reason",
            "this model gives scores, not probabilities (stupid backoff): its 'perplexity' is "
            "not one; pass --unnormalised (allow_unnormalised=True) to report it anyway"))
    if hasattr(model, "flat_logprobs"):
        return _evaluate_flat(model, sentences, progress)
    masks: deque = deque()         # the model may read ahead to batch; masks wait here
    total = oov_logprob = 0.0
    tokens = oov = num_sentences = 0
    pending: list[np.ndarray] = []
    pending_oov: list[np.ndarray] = []          # what the block's OOV positions received

    def flush() -> None:
        nonlocal total, tokens, num_sentences, oov_logprob
        block = np.concatenate(pending)
        total += float(block.sum())
        tokens += len(block)
        num_sentences += len(pending)
        pending.clear()
        if pending_oov:
            oov_logprob += float(np.concatenate(pending_oov).sum())
            pending_oov.clear()
        if progress is not None:
            progress.update(len(block))

    for logprobs in model.sentence_logprobs(encode_sentences(model, sentences, masks)):
        mask = masks.popleft()
        pending.append(logprobs)
        if mask is not None and mask.any():
            pending_oov.append(logprobs[:-1][mask])
            oov += int(mask.sum())
        if len(pending) >= FLUSH_SENTENCES:
            flush()
    if pending:
        flush()
    if num_sentences == 0:
        raise NextwordError("nothing to evaluate: the corpus has no sentences")
    return Evaluation(total, tokens, num_sentences, oov, total - oov_logprob, model.normalised)


def _encode_block(index: dict, block: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A block of token lists -> (lengths, ids, oov): one dictionary pass in C over the whole
    block. A word not in the vocabulary gets <unk>'s id and is marked OOV (the literal "<unk>"
    is in the vocabulary: not OOV)."""
    check_token_lists(block)
    lengths = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
    ids = np.fromiter(map(index.get, chain.from_iterable(block), repeat(-1)), dtype=ID_DTYPE,
                      count=int(lengths.sum()))
    oov = ids < 0
    ids[oov] = UNK_ID
    return lengths, ids, oov


def _evaluate_flat(model: LanguageModel, sentences: Iterable[Sequence[str]],
                   progress=None) -> Evaluation:
    """`evaluate` for a model that scores a block of sentences given as one array of word ids
    and their lengths (`flat_logprobs`): no array per sentence. Blocks of FLUSH_SENTENCES
    sentences are summed exactly as `evaluate` sums them, so the totals are the same bits."""
    total = oov_logprob = 0.0
    tokens = oov = num_sentences = 0
    for lengths, ids, is_oov in id_blocks(model.vocab, sentences):
        logprobs = model.flat_logprobs(ids, lengths)       # each word, then </s>, per sentence
        total += float(logprobs.sum())
        tokens += len(logprobs)
        num_sentences += len(lengths)
        if progress is not None:
            progress.update(len(logprobs))
        at = np.flatnonzero(is_oov)
        if len(at):
            sentence = np.searchsorted(np.cumsum(lengths), at, side="right")
            oov += len(at)
            oov_logprob += float(logprobs[at + sentence].sum())     # in order, as `evaluate`
    if num_sentences == 0:
        raise NextwordError("nothing to evaluate: the corpus has no sentences")
    return Evaluation(total, tokens, num_sentences, oov, total - oov_logprob, model.normalised)


def id_blocks(vocab, sentences) -> Iterator[tuple]:
    """(lengths, ids, oov) of each FLUSH_SENTENCES sentences (the last block fewer): numbered
    from the corpus's bytes where it gives them (`Corpus.blocks`: no string per word,
    `nextword.text.byteread`), else from its token lists. Either way the same blocks of
    sentences, so the same sums."""
    blocks = getattr(sentences, "blocks", None)
    if blocks is None:
        iterator = iter(sentences)
        while block := list(islice(iterator, FLUSH_SENTENCES)):
            yield _encode_block(vocab.index, block)
        return
    yield from _regroup(_number_blocks(vocab, blocks()), FLUSH_SENTENCES)


def _number_blocks(vocab, blocks: Iterable[bytes]) -> Iterator[tuple]:
    """(lengths, ids, oov) of each block of whole lines, one sentence a line."""
    words = vocab.word_index()
    for block in blocks:
        ids, lengths = words.ids(block)
        oov = ids < 0
        ids[oov] = UNK_ID
        yield lengths, ids.astype(ID_DTYPE), oov


def _regroup(parts: Iterable[tuple], size: int) -> Iterator[tuple]:
    """(lengths, ids, oov) parts of any number of sentences, regrouped `size` sentences a part."""
    held: list = []
    count = 0

    def joined() -> tuple:
        return held[0] if len(held) == 1 else tuple(np.concatenate(c) for c in zip(*held))

    for part in parts:
        held.append(part)
        count += len(part[0])
        while count >= size:
            lengths, ids, oov = joined()
            cut = int(lengths[:size].sum())
            yield lengths[:size], ids[:cut], oov[:cut]
            held = [(lengths[size:], ids[cut:], oov[cut:])]
            count -= size
    if count:
        yield joined()
