"""Scoring speed of saved n-gram models against the kenlm module, in alternating rounds.

    NEXTWORD_DATA=../shared/data python benchmarks/scoring_interleaved.py \\
        --corpus ptb:test --kenlm runs/ptb5.arpa runs/ptb5-old runs/ptb5 [--rounds 60]

Each round scores the corpus once with every model (`evaluate`, load excluded) and once with
`kenlm.Model.score` per sentence, one after the other, so a machine whose speed drifts (a shared
VM) slows every contender alike; the table gives the median of the rounds and each one's speed
relative to kenlm's. Prints a markdown table with the machine and date.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, table  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="saved n-gram model folders")
    parser.add_argument("--corpus", required=True, help="e.g. ptb:test")
    parser.add_argument("--kenlm", metavar="ARPA", help="the ARPA file (or KenLM binary) kenlm loads")
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()

    from nextword.evaluate import evaluate
    from nextword.model import load_model
    from nextword.text.corpora import load_corpus

    test = list(load_corpus(args.corpus))
    contenders = {}
    for folder in args.models:
        lm = load_model(folder)
        contenders[f"{folder} (hash load {getattr(lm, 'hash_load', '-')})"] = \
            lambda lm=lm: evaluate(lm, test)
    if args.kenlm:
        import kenlm

        km, lines = kenlm.Model(args.kenlm), [" ".join(s) for s in test]
        contenders["kenlm Model.score"] = lambda: sum(km.score(line) for line in lines)
    tokens = evaluate(load_model(args.models[0]), test).tokens
    times: dict = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, score in contenders.items():
            start = time.perf_counter()
            score()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(v) for name, v in times.items()}
    peer = medians.get("kenlm Model.score")
    print(f"Machine: {machine()}; {args.corpus}, {tokens:,} tokens, medians of {args.rounds} "
          "alternating rounds\n")
    print(table(["scorer", "ms", "M tokens/s", "x kenlm"],
                [[name, f"{m * 1e3:.1f}", f"{tokens / m / 1e6:.2f}",
                  f"{peer / m:.2f}" if peer else "-"] for name, m in medians.items()]))


if __name__ == "__main__":
    main()
