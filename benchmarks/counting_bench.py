"""Counting speed and the lecture's add-δ backoff model on Penn Treebank, n = 1..5.

    python benchmarks/counting_bench.py [--repeat 3] [--max-order 5]

Prints a markdown table: count time (median), peak memory of counting, tokens/s counted, and the
perplexity of add-δ (δ = 0.25, backoff to shorter contexts) on PTB valid and test.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, median_time, peak_python_memory, table  # noqa: E402

from nextword.evaluate import evaluate  # noqa: E402
from nextword.ngram.counts import PaddedStream, count_ngrams  # noqa: E402
from nextword.ngram.estimators import AddDelta  # noqa: E402
from nextword.ngram.model import NgramModel  # noqa: E402
from nextword.text.corpora import load_corpus  # noqa: E402
from nextword.text.vocabulary import Vocabulary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-order", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    train = list(load_corpus("ptb:train"))
    read_seconds = time.perf_counter() - started
    vocab = Vocabulary.build(train)
    stream = PaddedStream.from_sentences(vocab.encode(s) for s in train)
    tokens = sum(len(s) + 1 for s in train)
    valid, test = load_corpus("ptb:valid"), load_corpus("ptb:test")
    print(f"# PTB train: {tokens:,} tokens (words + </s>), vocabulary {len(vocab):,}; "
          f"read + tokenise {read_seconds:.2f} s")
    print(f"# {machine()}\n")
    rows = []
    for order in range(1, args.max_order + 1):
        seconds, counts = median_time(lambda: count_ngrams(stream, len(vocab), order), args.repeat)
        peak_mb, _ = peak_python_memory(lambda: count_ngrams(stream, len(vocab), order))
        lm = NgramModel.from_counts(counts, vocab, AddDelta(0.25))
        score_seconds, result = median_time(lambda: evaluate(lm, test), args.repeat)
        rows.append([
            order, f"{seconds:.3f}", f"{peak_mb:.0f}", f"{tokens / seconds / 1e6:.2f}",
            f"{sum(counts.size(k) for k in range(1, order + 1)):,}",
            f"{evaluate(lm, valid).perplexity:.2f}", f"{result.perplexity:.2f}",
            f"{result.tokens / score_seconds / 1e6:.2f}",
        ])
    print(table(["n", "count time (s)", "peak memory (MB)", "counted (M tok/s)", "n-grams (1..n)",
                 "add-δ valid ppl", "add-δ test ppl", "eval (M tok/s)"], rows))


if __name__ == "__main__":
    main()
