"""Scoring and sampling speed of the unbounded Kneser–Ney model and the ∞-gram.

    python benchmarks/infinigram_scoring.py                  # PTB and WikiText-2 test

For each corpus: index its train split (in a temporary folder), then score its test split
with `nextword.evaluate` (the path of `nextword eval`) three times, and time 200 steps of
`next_logprobs` + `advance` (the path of `nextword generate`). CPU seconds are reported beside
wall seconds: on a shared machine they are the figure to compare.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table  # noqa: E402

from nextword.evaluate import evaluate  # noqa: E402
from nextword.infinigram.index import build_index  # noqa: E402
from nextword.model import load_model  # noqa: E402
from nextword.text.corpora import load_corpus  # noqa: E402


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="ptb,wikitext-2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"# infinigram_scoring, {machine()}\n")
    rows = []
    for name in args.corpora.split(","):
        with tempfile.TemporaryDirectory() as directory:
            build_index(load_corpus(f"{name}:train"), directory)
            test = list(load_corpus(f"{name}:test"))
            for path in (Path(directory), Path(directory) / "infinigram"):
                lm = load_model(path)
                runs = [timed(lambda: evaluate(lm, test, allow_unnormalised=True))
                        for _ in range(args.repeat)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                result = runs[-1][2]
                ids = [int(t) for s in test[:40] for t in lm.vocab.encode(s)][:200]

                def steps():
                    state = lm.initial_state()
                    for token in ids:
                        lm.next_logprobs(state)
                        state = lm.advance(state, token)
                step_wall, step_cpu, _ = timed(steps)
                rows.append([f"{name}:test", type(lm).__name__, f"{result.tokens:,}",
                             f"{result.perplexity:.2f}", f"{cpu:.2f} s CPU, {wall:.2f} s wall",
                             f"{result.tokens / cpu:,.0f}",
                             f"{step_cpu / len(ids) * 1e3:.1f} ms CPU ({step_wall / len(ids) * 1e3:.1f} wall)"])
    print(table(["test set", "model", "tokens", "perplexity", f"scoring (median of {args.repeat})",
                 "tokens / CPU s", "next_logprobs + advance per step"], rows))


if __name__ == "__main__":
    main()
