"""Sampling speed of saved models, tokens/s: batched (many sentences advance together) against
token by token (one sentence, one `next_logprobs` per token), in one run.

    python benchmarks/sampling_speed.py MODEL [MODEL ...] [--sentences 100000] [--slow 20]
        [--filtered 200] [--top-k-sentences 10000] [--src OTHER/src]

Tokens are words plus one </s> per sentence. The batched count is sampled at each model's default
batch (65,536 sentences for n-gram models, 256 for networks); --network-sentences sets the count
for networks, whose every step computes a (B, V) distribution. Load time is excluded. Threads:
one (torch and OpenBLAS), the project's default on shared machines. Prints a markdown table with
the machine and date.

--filtered N also times N sentences drawn with top-k 50 and with top-p 0.9 and prints a hash of
their text, so that two versions of the code (--src: another checkout's src) can be checked to
draw the same sentences; --top-k-sentences M times M sentences with top-k 50 as well (an n-gram
model's top-k reads about k words of each backoff level per draw, top-p the whole vocabulary, so
top-k is worth timing on a batch of the size it is used at).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, table  # noqa: E402

FILTERS = ({"top_k": 50}, {"top_p": 0.9})        # configurations timed with --filtered


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
    parser.add_argument("--filtered", type=int, default=0,
                        help="also this many sentences with top-k 50 and with top-p 0.9")
    parser.add_argument("--top-k-sentences", type=int, default=0,
                        help="also this many sentences with top-k 50")
    parser.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"),
                        help="the nextword source to time (default: this checkout's)")
    args = parser.parse_args()
    sys.path.insert(0, args.src)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    from nextword.generate import SamplingConfig, sample_sentences
    from nextword.model import load_model

    rows = []
    for path in args.models:
        lm = load_model(path)
        kind = lm.describe().get("type", type(lm).__name__)
        count = args.sentences if kind == "ngram" else args.network_sentences
        batched, tokens = tokens_per_second(sample_sentences(lm, count, seed=1))
        slow, _ = tokens_per_second(_token_by_token(lm, args.slow))
        row = [path, kind, f"{batched:,.0f} ({count:,} sent., {tokens:,} tokens)",
               f"{slow:,.0f} ({args.slow} sent.)", f"{batched / slow:,.1f}x"]
        timed = [(config, args.filtered) for config in FILTERS if args.filtered]
        timed += [(FILTERS[0], args.top_k_sentences)] if args.top_k_sentences else []
        for config, number in timed:
            sentences = []
            speed, _ = tokens_per_second(sentences.append(s) or s for s in sample_sentences(
                lm, number, seed=1, config=SamplingConfig(**config)))
            text = "\n".join(" ".join(s) for s in sentences).encode()
            row.append(f"{speed:,.0f} (text {hashlib.sha256(text).hexdigest()[:12]})")
        rows.append(row)
        print(f"  {path}: {batched:,.0f} tokens/s batched, {slow:,.0f} token by token",
              file=sys.stderr)
    print(f"{machine()}; nextword from {args.src}\n")
    header = ["model", "kind", "batched, tokens/s", "token by token, tokens/s", "ratio"]
    if args.filtered:
        header += [f"{name}, {args.filtered:,} sent., tokens/s" for name in ("top-k 50", "top-p 0.9")]
    if args.top_k_sentences:
        header += [f"top-k 50, {args.top_k_sentences:,} sent., tokens/s"]
    print(table(header, rows))


def _token_by_token(lm, count: int):
    """The one-sentence path every model has: next_logprobs, draw, advance (a generator: the
    draws happen while they are timed)."""
    import numpy as np

    from nextword.generate import sample_ids

    rng = np.random.default_rng(1)
    return (sample_ids(lm, rng) for _ in range(count))


if __name__ == "__main__":
    main()
