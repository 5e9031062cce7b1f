"""Sampling sentences from any model: from <s> until </s>, with temperature, top-k and top-p."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Iterator

import numpy as np

from nextword.checks import check_number, check_seed
from nextword.errors import NextwordError
from nextword.model import LanguageModel
from nextword.text.vocabulary import BOS_ID, EOS_ID

# n-gram sentences drawn side by side: PTB 5-gram, 1.0 M tokens/s at 65,536 against 0.69 M at
# 8,192 (fewer NumPy calls per token), for ~30 MB more (docs/benchmarks.md). A network's batch
# holds a (B, V) distribution per step, so it takes far fewer.
BATCH_SENTENCES = 65536
NETWORK_BATCH_SENTENCES = 256
DECODE_SENTENCES = 4096        # sentences of a batched sampler decoded together


MIN_TEMPERATURE = 0.001


@dataclass(frozen=True)
class SamplingConfig:
    """temperature < 1 sharpens, > 1 flattens; top_k / top_p keep the k most likely tokens
    (exactly k: among equal probabilities the lower ids) / the smallest set whose probability
    reaches p (nucleus sampling); max_length caps a sentence."""

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    max_length: int = 100

    def __post_init__(self):
        # below 0.001, ln P / T and bo^(1/T) leave the float range for ordinary models (and a
        # gap of 0.01 in ln P is already a factor e^-10); --top-k 1 is the exact greedy choice
        check_number("--temperature", self.temperature, MIN_TEMPERATURE)
        check_number("--top-k", self.top_k, 1, whole=True, allow_none=True)
        check_number("--top-p", self.top_p, 0, 1, low_open=True, allow_none=True)
        check_number("--max-length", self.max_length, 1, whole=True)


def _stable_first(values: np.ndarray, last: np.ndarray, count) -> np.ndarray:
    """Mask of the first `count` tokens of each row (B, V) in a stable sort by decreasing
    value (p for top-p, ln P for top-k), `last` (B, 1) being the count-th value: every token
    above it, then the ties with it by lower id, as many as fit."""
    keep, tied = values >= last, values == last
    ties = np.count_nonzero(tied, axis=1)
    room = count - (np.count_nonzero(keep, axis=1) - ties)              # count - those above
    crowded = np.flatnonzero(ties > room)                               # more ties than room
    if len(crowded):
        first_ties = np.cumsum(tied[crowded], axis=1) <= room[crowded, None]
        keep[crowded] = (values[crowded] > last[crowded]) | (tied[crowded] & first_ties)
    return keep


def sampling_distribution(logprobs: np.ndarray, config: SamplingConfig) -> np.ndarray:
    """Turn ln P(w | history) into the distribution actually sampled from.

    p_T(w) ∝ exp(ln P(w) / T), then zero outside the top k / the top-p nucleus, renormalised.
    """
    return sampling_distributions(np.asarray(logprobs)[None, :], config)[0]


def sampling_distributions(logprobs: np.ndarray, config: SamplingConfig) -> np.ndarray:
    """`sampling_distribution` for a batch: one row of ln P(w | history) per history, (B, V)."""
    weights = sampling_weights(logprobs, config)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights


def sampling_weights(logprobs: np.ndarray, config: SamplingConfig) -> np.ndarray:
    """`sampling_distributions` before the division by each row's sum: exp(ln P / T) relative
    to the row's largest, zero outside the top k and the nucleus. What a draw by inverse CDF
    needs (it scales its uniform number by the row's total instead: two passes fewer)."""
    scaled = logprobs / config.temperature if config.temperature != 1 else logprobs
    top = scaled.max(axis=1, keepdims=True)
    if not np.isfinite(top).all():          # a row holding NaN or +inf, or no mass at all
        top = np.where(np.isfinite(scaled), scaled, -np.inf).max(axis=1, keepdims=True)
    # one (B, V) array made here and worked in place: each new one costs about as much as the
    # exponentials (fresh pages)
    probs = np.subtract(scaled, top, out=None if scaled is logprobs else scaled)
    np.exp(probs, out=probs)                                 # exp(-inf) = 0 for <s>
    if config.top_k is not None and config.top_k < probs.shape[1]:
        # exactly k tokens: the k largest ln P, ties with the k-th broken by the lower id (ln P,
        # not p_T: the temperature keeps their order, but its rounding could tie two); the k-th
        # largest by a partition, not a sort (15 ms against 238 for 400 rows of 10,001 words)
        k = config.top_k
        kth = -np.partition(-logprobs, k - 1, axis=1)[:, k - 1:k]
        np.copyto(probs, 0.0, where=~_stable_first(logprobs, kth, k))
    if config.top_p is not None and config.top_p < 1:
        # the most probable tokens until their mass reaches p, inclusive: the running mass in
        # decreasing order needs only the values sorted (equal values add up the same in any
        # order; 10 ms against 117 for a stable argsort of 200 rows of 10,001 words)
        ordered = np.sort(probs, axis=1)[:, ::-1]
        cumulative = np.cumsum(ordered, axis=1)
        kept = _count_below(cumulative, config.top_p) + 1
        last = np.take_along_axis(ordered, kept[:, None] - 1, axis=1)
        np.copyto(probs, 0.0, where=~_stable_first(probs, last, kept))
    return probs


NUCLEUS_COLUMNS = 1024          # columns of the running mass first looked at for the nucleus


def _count_below(cumulative: np.ndarray, p: float) -> np.ndarray:
    """How many columns of each row's running mass (B, V), as a share of the row's total (its
    last column), lie below p: read from the first columns, as many more as a row's share has
    not reached p there (the nucleus is a few thousand words of a vocabulary of 33,278 words at
    p = 0.9, WikiText-2's 5-gram), since the share only grows."""
    total = cumulative[:, -1:]
    width = NUCLEUS_COLUMNS
    while True:
        share = cumulative[:, :width] / total
        if width >= cumulative.shape[1] or (share[:, -1] >= p).all():
            return np.count_nonzero(share < p, axis=1)
        width *= 4


# ---- counter-based random numbers: a sentence depends on (seed, its number), not on a stream
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 whose outputs pass BigCrush."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def seed_key(seed: int | None) -> np.uint64:
    if seed is None:
        seed = np.random.SeedSequence().entropy
    return _mix(np.array([int(seed) % (1 << 64)], dtype=np.uint64))[0]


def uniforms(key: np.uint64, sentence: np.ndarray, step: np.ndarray, draw: int) -> np.ndarray:
    """U[0, 1) numbers, one per (sentence, step), fixed by (key, sentence, step, draw)."""
    z = _mix(key ^ (sentence.astype(np.uint64) * _GOLDEN))
    z = _mix(z + (step.astype(np.uint64) * np.uint64(256) + np.uint64(draw + 1)) * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class BatchedSampler:
    """Many sentences advance together through a model with a batched step: `init(B)` gives
    the states after <s>, `step(state, tokens (B,))` the next states, `logprobs(state)` the
    (B, V) ln P of the next token, and `select(state, rows)`, if given, the state of those rows
    only: a sentence that ends leaves the batch, so each step computes only the sentences still
    going (without it they are carried to the end of the longest, ~3/4 of the work at PTB's
    lengths). Each row draws by `inverse_cdf` from `sampling_weights` with the
    counter-based `uniforms`, so sentence i depends on the seed and i (up to the float rounding
    of a different batch shape)."""

    def __init__(self, init, step, logprobs, config: SamplingConfig, select=None):
        self.init, self.step, self.logprobs, self.config = init, step, logprobs, config
        self.select = select

    def sentences(self, count: int, seed: int | None = None,
                  batch_size: int = NETWORK_BATCH_SENTENCES, first: int = 0) -> Iterator[np.ndarray]:
        key = seed_key(seed)
        for begin in range(first, first + count, batch_size):
            numbers = np.arange(begin, min(begin + batch_size, first + count))
            state = self.init(len(numbers))
            live = np.arange(len(numbers))              # batch row of each row of `state`
            done = np.zeros(len(numbers), dtype=bool)   # rows kept after their end (no select)
            owner, drawn = [], []
            for t in range(self.config.max_length):
                weights = sampling_weights(self.logprobs(state), self.config)
                u = uniforms(key, numbers[live], np.full(len(live), t), 0)
                tokens = inverse_cdf(weights, u)
                tokens = np.where(done, EOS_ID, tokens)
                going = tokens != EOS_ID
                owner.append(live[going])
                drawn.append(tokens[going])
                if not going.any():
                    break
                if self.select is not None and not going.all():
                    keep = np.flatnonzero(going)
                    state, live, tokens, done = (self.select(state, keep), live[keep],
                                                 tokens[keep], done[keep])
                done |= ~going if self.select is None else False
                state = self.step(state, tokens)
            owner = np.concatenate(owner)
            order = np.argsort(owner, kind="stable")        # step order within each sentence
            words = np.concatenate(drawn)[order].astype(np.int32)
            bounds = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(numbers)))])
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
                yield words[a:b]


def batch_steps(model: LanguageModel, config: SamplingConfig):
    """(init, step, logprobs, select) of a model whose sentences advance side by side (an
    n-gram model's `batch_steps`, a network's or a mixture's `BatchedSampler`), for a model
    that samples it with others; None for a model that advances one sentence at a time."""
    steps = getattr(model, "batch_steps", None)
    if steps is not None:
        return steps()
    make = getattr(model, "batch_sampler", None)
    sampler = make(config) if make is not None else None
    if isinstance(sampler, BatchedSampler) and sampler.select is not None:
        return sampler.init, sampler.step, sampler.logprobs, sampler.select
    return None


DRAW_BLOCK = 64             # columns summed together before a row's running sum is searched


def inverse_cdf(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A column of each row of `weights` (B, V; not normalised) drawn by inverse CDF at u in
    [0, 1): the first column whose running sum exceeds u times the row's total, never one
    without mass. The running sum is read in two steps: the sums of blocks of DRAW_BLOCK
    columns and their running sum find the block, then the running sum inside it the column
    (a pass over the rows and a few small ones, 7-9x faster than np.cumsum over the rows for
    256 rows of 10,000 or 33,278 words; the sums differ from a single running sum only in their
    rounding). A row whose block the inner sum does not reach (rounding) is searched whole."""
    size, V = weights.shape
    rows = np.arange(size)
    cumulative = np.cumsum(np.add.reduceat(weights, np.arange(0, V, DRAW_BLOCK), axis=1), axis=1)
    target = u * cumulative[:, -1]
    block = np.minimum(np.count_nonzero(cumulative <= target[:, None], axis=1),
                       cumulative.shape[1] - 1)
    columns = block[:, None] * DRAW_BLOCK + np.arange(DRAW_BLOCK)
    inside = columns < V
    np.minimum(columns, V - 1, out=columns)
    values = np.where(inside, np.take_along_axis(weights, columns, axis=1), 0.0)
    running = np.cumsum(values, axis=1)
    running += np.where(block > 0, cumulative[rows, block - 1], 0.0)[:, None]
    at = np.count_nonzero(running <= target[:, None], axis=1)
    tokens = columns[rows, np.minimum(at, DRAW_BLOCK - 1)]
    unreached = np.flatnonzero(at == DRAW_BLOCK)
    if len(unreached):
        whole = weights[unreached]
        last = V - 1 - np.argmax(whole[:, ::-1] > 0, axis=1)
        below = np.count_nonzero(np.cumsum(whole, axis=1) <= target[unreached, None], axis=1)
        tokens[unreached] = np.minimum(below, last)
    return tokens


def sample_ids(model: LanguageModel, rng: np.random.Generator,
               config: SamplingConfig = SamplingConfig()) -> list[int]:
    """One sentence of word ids (without <s> and </s>), drawn token by token."""
    state = model.initial_state()
    ids: list[int] = []
    while len(ids) < config.max_length:
        probs = sampling_distribution(model.next_logprobs(state), config)
        token = int(rng.choice(len(probs), p=probs))
        if token == EOS_ID:
            break
        assert token != BOS_ID, "models give <s> no probability"
        ids.append(token)
        state = model.advance(state, token)
    return ids


def sample_sentences(model: LanguageModel, count: int, seed: int | None = None,
                     config: SamplingConfig = SamplingConfig(),
                     batch_size: int | None = None) -> Iterator[list[str]]:
    """`count` sentences as token lists, streamed; the same seed gives the same sentences.

    Models with a batched sampler draw `batch_size` sentences at a time (default: theirs,
    BATCH_SENTENCES for n-gram models, NETWORK_BATCH_SENTENCES for networks); sentence i depends
    only on the seed and i, not on the batch size. Other models draw token by token.
    """
    if count < 0:
        raise NextwordError(f"count must be >= 0, got {count}")
    batched = getattr(model, "batch_sampler", None)
    sampler = batched(config) if batched is not None else None     # None: this one cannot
    if sampler is not None:
        sentences = (sampler.sentences(count, seed) if batch_size is None else
                     sampler.sentences(count, seed, batch_size))
        while block := list(islice(sentences, DECODE_SENTENCES)):
            yield from model.vocab.decode_all(block)
        return
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield model.vocab.decode(sample_ids(model, rng, config))


def generate(model: LanguageModel, count: int = 1, seed: int | None = None,
             config: SamplingConfig = SamplingConfig()) -> list[list[str]]:
    """`count` sentences as token lists; the same seed gives the same sentences."""
    check_number("--count", count, 0, whole=True)
    check_seed(seed)
    return list(sample_sentences(model, count, seed, config))
