"""Sampling sentences from any model: from <s> until </s>, with temperature, top-k and top-p."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from nextword.checks import check_number, check_seed
from nextword.errors import NextwordError
from nextword.model import LanguageModel
from nextword.text.vocabulary import BOS_ID, EOS_ID


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
        check_number("--temperature", self.temperature, 0, low_open=True)
        check_number("--top-k", self.top_k, 1, whole=True, allow_none=True)
        check_number("--top-p", self.top_p, 0, 1, low_open=True, allow_none=True)
        check_number("--max-length", self.max_length, 1, whole=True)


def sampling_distribution(logprobs: np.ndarray, config: SamplingConfig) -> np.ndarray:
    """Turn ln P(w | history) into the distribution actually sampled from.

    p_T(w) ∝ exp(ln P(w) / T), then zero outside the top k / the top-p nucleus, renormalised.
    """
    return sampling_distributions(np.asarray(logprobs)[None, :], config)[0]


def sampling_distributions(logprobs: np.ndarray, config: SamplingConfig) -> np.ndarray:
    """`sampling_distribution` for a batch: one row of ln P(w | history) per history, (B, V)."""
    scaled = logprobs / config.temperature
    finite = np.isfinite(scaled)
    scaled = scaled - np.where(finite, scaled, -np.inf).max(axis=1, keepdims=True)
    probs = np.exp(scaled)                                   # exp(-inf) = 0 for <s>
    rows = np.arange(len(probs))[:, None]
    if config.top_k is not None and config.top_k < probs.shape[1]:
        # exactly k tokens: ties with the k-th broken by the lower id (a stable sort);
        # a row with k or fewer non-zero tokens keeps them all, zeros add nothing
        keep = np.argsort(-probs, axis=1, kind="stable")[:, : config.top_k]
        mask = np.zeros(probs.shape, dtype=bool)
        mask[rows, keep] = True
        probs = np.where(mask, probs, 0.0)
    if config.top_p is not None and config.top_p < 1:
        order = np.argsort(-probs, axis=1, kind="stable")
        cumulative = np.cumsum(np.take_along_axis(probs, order, axis=1), axis=1)
        cumulative /= cumulative[:, -1:]
        kept = (cumulative < config.top_p).sum(axis=1, keepdims=True) + 1   # reach p, inclusive
        mask = np.zeros(probs.shape, dtype=bool)
        mask[rows, order] = np.arange(probs.shape[1])[None, :] < kept
        probs = np.where(mask, probs, 0.0)
    return probs / probs.sum(axis=1, keepdims=True)


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
                     batch_size: int = 8192) -> Iterator[list[str]]:
    """`count` sentences as token lists, streamed; the same seed gives the same sentences.

    N-gram models draw `batch_size` sentences at a time (nextword.ngram.sampling); sentence i
    depends only on the seed and i, never on the batch size. Other models draw token by token.
    """
    if count < 0:
        raise NextwordError(f"count must be >= 0, got {count}")
    batched = getattr(model, "batch_sampler", None)
    if batched is not None:
        for ids in batched(config).sentences(count, seed, batch_size):
            yield model.vocab.decode(ids)
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
