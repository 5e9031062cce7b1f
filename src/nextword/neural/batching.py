"""From sentences to training batches: one token stream, B parallel streams, T-step segments.

The stream convention (the one the PTB literature and PyTorch's word_language_model use): the
lines of the corpus are joined into one stream with ``</s>`` closing each line, and the stream
starts with a ``</s>`` so that the first word of the corpus is predicted too. The model thus
reads ``</s>`` as "a new line begins"; ``<s>`` is never in the stream, and wherever a model is
asked to read ``<s>`` (per-sentence evaluation, sampling) it reads ``</s>`` instead
(:func:`input_ids`). Every word and every ``</s>`` is a target exactly once, so a stream of N
tokens predicts the same N tokens the n-gram model predicts.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from nextword.errors import NextwordError
from nextword.text.vocabulary import BOS_ID, EOS_ID


def token_stream(sentences: Iterable[np.ndarray]) -> np.ndarray:
    """[</s>] + s1 + [</s>] + s2 + [</s>] + ...  as one int64 array of ids."""
    parts = [np.array([EOS_ID], dtype=np.int64)]
    for ids in sentences:
        parts.append(np.asarray(ids, dtype=np.int64))
        parts.append(np.array([EOS_ID], dtype=np.int64))
    return np.concatenate(parts)


def input_ids(ids: np.ndarray | torch.Tensor):
    """What the model reads: <s> is read as </s>, the token the training stream starts lines with."""
    if isinstance(ids, torch.Tensor):
        return torch.where(ids == BOS_ID, EOS_ID, ids)
    return np.where(ids == BOS_ID, EOS_ID, ids)


def batchify(stream: np.ndarray, batch_size: int) -> torch.Tensor:
    """Cut one stream into `batch_size` parallel streams, one per column; the tail is dropped.

        stream:  a b c d e f g h i j k l m n o p q r s t u v w x (y z dropped)
        batch_size = 4, each stream L = 24 // 4 = 6 tokens long:

            ┌ a g m s ┐
            │ b h n t │
            │ c i o u │   (L, B): row t holds token t of each stream;
            │ d j p v │   column b is the b-th sixth of the corpus, read top to bottom
            │ e k q w │
            └ f l r x ┘
    """
    if batch_size < 1:
        raise NextwordError(f"batch size must be >= 1, got {batch_size}")
    length = len(stream) // batch_size
    if length < 2:
        raise NextwordError(
            f"the training corpus ({len(stream)} tokens) is too short for batch size {batch_size}"
        )
    data = torch.as_tensor(np.asarray(stream[: length * batch_size], dtype=np.int64))
    return data.view(batch_size, length).t().contiguous()          # (L, B)


def num_segments(data: torch.Tensor, bptt: int) -> int:
    """How many T-step segments `segments` yields for (L, B) data: ceil((L - 1) / T)."""
    return -(-(data.size(0) - 1) // bptt)


def segments(data: torch.Tensor, bptt: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(inputs, targets) of T = `bptt` steps, in order, from segment number `start` on.

        data (L, B) ──► rows i .. i+T-1 are the inputs, rows i+1 .. i+T the targets:
            inputs  ┌ a g m s ┐        targets ┌ b h n t ┐
                    └ b h n t ┘  T = 2         └ c i o u ┘   then rows 2..3 / 3..4, ...
        The last segment may be shorter. Teacher forcing: the inputs are always the true tokens.
    """
    if bptt < 1:
        raise NextwordError(f"bptt (segment length) must be >= 1, got {bptt}")
    for i in range(start * bptt, data.size(0) - 1, bptt):
        length = min(bptt, data.size(0) - 1 - i)
        yield data[i: i + length], data[i + 1: i + 1 + length]      # (T, B), (T, B)
