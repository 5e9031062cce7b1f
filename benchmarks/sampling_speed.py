"""Sampling speed of saved models, tokens/s: batched (many sentences advance together) against
token by token (one sentence, one `next_logprobs` per token), in one run.

    python benchmarks/sampling_speed.py MODEL [MODEL ...] [--sentences 100000] [--slow 20]

Tokens are words plus one </s> per sentence. The batched count is sampled at each model's default
batch (65,536 sentences for n-gram models, 256 for networks); --network-sentences sets the count
for networks, whose every step computes a (B, V) distribution. Load time is excluded. Threads:
one (torch and OpenBLAS), the project's default on shared machines. Prints a markdown table with
the machine and date.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, table  # noqa: E402


def tokens_per_second(sentences) -> tuple[float, int]:
    start = time.perf_counter()
    tokens = sum(len(s) + 1 for s in sentences)
    return tokens / (time.perf_counter() - start), tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--sentences", type=int, default=100000, help="batched, n-gram models")
    parser.add_argument("--network-sentences", type=int, default=2048, help="batched, networks")
    parser.add_argument("--slow", type=int, default=20, help="sentences drawn token by token")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    from nextword.generate import sample_sentences
    from nextword.model import load_model

    rows = []
    for path in args.models:
        lm = load_model(path)
        kind = lm.describe().get("type", type(lm).__name__)
        count = args.sentences if kind == "ngram" else args.network_sentences
        batched, tokens = tokens_per_second(sample_sentences(lm, count, seed=1))
        slow, _ = tokens_per_second(_token_by_token(lm, args.slow))
        rows.append([path, kind, f"{batched:,.0f} ({count:,} sent., {tokens:,} tokens)",
                     f"{slow:,.0f} ({args.slow} sent.)", f"{batched / slow:,.1f}x"])
        print(f"  {path}: {batched:,.0f} tokens/s batched, {slow:,.0f} token by token",
              file=sys.stderr)
    print(f"{machine()}\n")
    print(table(["model", "kind", "batched, tokens/s", "token by token, tokens/s", "ratio"], rows))


def _token_by_token(lm, count: int):
    """The one-sentence path every model has: next_logprobs, draw, advance (a generator: the
    draws happen while they are timed)."""
    import numpy as np

    from nextword.generate import sample_ids

    rng = np.random.default_rng(1)
    return (sample_ids(lm, rng) for _ in range(count))


if __name__ == "__main__":
    main()
