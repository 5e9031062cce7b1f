"""Synthetic corpora: sentences sampled from a saved n-gram model, a corpus of realistic n-gram
statistics at any size without downloads (the 10 M and 100 M-word corpora of docs/scale.md).

The sentences are the batched sampler's (nextword.ngram.sampling: exactly the model's
distribution, many sentences at once); sentence i depends only on the seed and i, so the same
seed gives the same corpus whatever the batch.
"""
from __future__ import annotations

import sys
from pathlib import Path

from nextword.errors import NextwordError
from nextword.fileio import atomic_path
from nextword.generate import BATCH_SENTENCES, SamplingConfig

MAX_WORDS = 1000            # a sentence longer than this is cut (a model that rarely ends one)
WRITE_WORDS = 1 << 20       # words decoded and written at a time


def synthesize(model, tokens: int, path: str | Path, seed: int = 0, batch: int = BATCH_SENTENCES,
               progress=None) -> dict:
    """Write sentences sampled from `model` to `path`, one a line, until at least `tokens` words
    (</s> not counted) are written; returns {"sentences", "words"}."""
    if tokens < 1:
        raise NextwordError(f"--tokens must be >= 1, got {tokens}")
    make = getattr(model, "batch_sampler", None)
    sampler = make(SamplingConfig(max_length=MAX_WORDS)) if make is not None else None
    if sampler is None:
        raise NextwordError("synth samples n-gram models (a model folder or an ARPA file)")
    # a short corpus does not wait for a large batch: rows for about the sentences needed
    sentences = sampler.sentences(sys.maxsize >> 2, seed, min(batch, max(64, tokens // 16)))
    written = {"sentences": 0, "words": 0}
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        block: list = []
        size = 0
        for ids in sentences:
            block.append(ids)
            size += len(ids)
            if written["words"] + size >= tokens or size >= WRITE_WORDS:
                _write(out, model.vocab, block)
                written["sentences"] += len(block)
                written["words"] += size
                block, size = [], 0
                if progress is not None:
                    progress(written["words"])
                if written["words"] >= tokens:
                    break
    return written


def _write(out, vocab, block: list) -> None:
    """Sentences of ids as lines of words: one lookup for the whole block."""
    out.write("".join(" ".join(words) + "\n" for words in vocab.decode_all(block)))
