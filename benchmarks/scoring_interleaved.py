"""Scoring speed of saved n-gram models against the kenlm module, in alternating rounds.

    NEXTWORD_DATA=../shared/data python benchmarks/scoring_interleaved.py \\
        --corpus ptb:test --kenlm runs/ptb5.arpa runs/ptb5-old runs/ptb5 \\
        [--src before=/path/to/an/older/checkout/src] [--times 10] [--rounds 60] [--from-file]
        [--per-sentence] [--kenlm-joins] [--lines]

Every contender (each model folder with this checkout's code, the same with each `--src`, and
`kenlm.Model.score` per sentence, given lines joined from the token lists before the rounds; with
--kenlm-joins also given the token lists themselves, each joined inside the timing) lives in its
own process, loaded once; each round asks every one in turn to score the corpus once
(`evaluate`, load excluded), so a machine whose speed drifts (a shared VM) slows every
contender alike, and two versions of the code are compared in the same rounds. The table gives
the median of the rounds and each one's speed relative to kenlm's (given the lines). Prints a
markdown table with the machine and date.

With --lines both are given the same lines in memory (joined from the token lists before the
rounds): kenlm scores each, nextword evaluates `lines_corpus(lines)`, which numbers them from
their bytes as it numbers a file's.

With --from-file every round starts from the text file instead of token lists in memory: nextword
evaluates the corpus object (`evaluate(lm, load_corpus(C))`, which numbers the file's bytes
without a string per word), kenlm's contender reads the file's lines and scores each. (Not with
--times: the file is read as it is.) With --per-sentence every contender returns each
sentence's score: nextword's `score_columns` (arrays of per-line log-probabilities, no Python
step per line), kenlm's `Model.score` per line into a list.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import compile_sources, machine, table  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"

# a contender: loads once, then scores the corpus once per line read from stdin and prints the
# seconds it took; the first line it prints describes what it scored
WORKER = """
import json, sys, time
from nextword.text.corpora import load_corpus
mode = sys.argv[5]
from_file = mode == "file"
per_sentence = sys.argv[6] == "per-sentence"
corpus = load_corpus(sys.argv[2])
test = corpus if from_file else list(corpus) * int(sys.argv[3])
if sys.argv[1].startswith("kenlm"):
    import kenlm
    km = kenlm.Model(sys.argv[4])
    if from_file:
        from nextword.text.corpora import STANDARD, data_dir
        name, _, split = sys.argv[2].partition(":")
        path = (data_dir() / STANDARD[name][0] / STANDARD[name][1][split] if name in STANDARD
                else sys.argv[2])
        def score():
            with open(path, encoding="utf-8") as lines:
                return list(map(km.score, lines)) if per_sentence else sum(map(km.score, lines))
    elif sys.argv[1] == "kenlm-join":      # the same token lists: a line made per sentence
        score = (lambda: [km.score(" ".join(s)) for s in test]) if per_sentence else (
            lambda: sum(km.score(" ".join(s)) for s in test))
    else:
        lines = [" ".join(s) for s in test]
        score = (lambda: list(map(km.score, lines))) if per_sentence else (
            lambda: sum(km.score(line) for line in lines))
    print(json.dumps({"hash_load": "-"}), flush=True)
else:
    from nextword.evaluate import evaluate
    from nextword.model import load_model
    lm = load_model(sys.argv[4])
    if mode == "lines":
        from nextword.text.corpora import lines_corpus
        test = lines_corpus([" ".join(s) for s in test])
    if per_sentence:
        from nextword.scoring import score_columns
        per_line = lambda: [c["logprob"] for c in score_columns(lm, test)]
        per_line()
    score = per_line if per_sentence else (lambda: evaluate(lm, test))
    r = evaluate(lm, test)
    print(json.dumps({"hash_load": getattr(lm, "hash_load", "-"), "tokens": r.tokens,
                      "perplexity": r.perplexity}), flush=True)
for _ in sys.stdin:
    start = time.perf_counter()
    score()
    print(time.perf_counter() - start, flush=True)
"""


def start(kind: str, src: Path, corpus: str, times: int, target: str, mode: str,
          per_sentence: bool) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(src))
    return subprocess.Popen([sys.executable, "-c", WORKER, kind, corpus, str(times), target, mode,
                             "per-sentence" if per_sentence else "total"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)


def read(worker: subprocess.Popen, key: tuple) -> str:
    line = worker.stdout.readline()
    if not line:
        raise SystemExit(f"{' '.join(filter(None, key))}: the contender stopped (its error is above)")
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="saved n-gram model folders")
    parser.add_argument("--corpus", required=True, help="e.g. ptb:test")
    parser.add_argument("--kenlm", metavar="ARPA", help="the ARPA file (or KenLM binary) kenlm loads")
    parser.add_argument("--src", action="append", default=[], metavar="LABEL=PATH",
                        help="also score with the code under PATH (another checkout's src)")
    parser.add_argument("--times", type=int, default=1, help="score the corpus repeated this often")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--from-file", action="store_true",
                        help="start every round from the text file, not token lists in memory")
    parser.add_argument("--per-sentence", action="store_true",
                        help="every contender returns each sentence's score, not the total")
    parser.add_argument("--lines", action="store_true",
                        help="give nextword the lines kenlm scores (lines_corpus), not token lists")
    parser.add_argument("--kenlm-joins", action="store_true",
                        help="also time kenlm given the same token lists (each joined into its "
                             "line inside the timing), not lines made before")
    args = parser.parse_args()
    if args.from_file and args.times != 1:
        parser.error("--from-file reads the file as it is: no --times")
    if args.from_file and args.lines:
        parser.error("--from-file or --lines, not both")
    mode = "file" if args.from_file else "lines" if args.lines else "lists"

    sources = [("this checkout", SRC)]
    for item in args.src:
        label, _, path = item.partition("=")
        sources.append((label, Path(path).resolve()))
    for _, src in sources:
        compile_sources(src)
    workers = {}
    for label, src in sources:
        for folder in args.models:
            workers[(label, folder)] = start("nextword", src, args.corpus, args.times, folder,
                                             mode, args.per_sentence)
    if args.kenlm:
        workers[("kenlm Model.score", "")] = start("kenlm", SRC, args.corpus, args.times,
                                                   args.kenlm, mode, args.per_sentence)
        if args.kenlm_joins and not args.from_file:
            workers[("kenlm, joining each token list", "")] = start(
                "kenlm-join", SRC, args.corpus, args.times, args.kenlm, "lists", args.per_sentence)
    info = {key: json.loads(read(w, key)) for key, w in workers.items()}
    perplexities = {round(i["perplexity"], 6) for i in info.values() if "perplexity" in i}
    if len(perplexities) > 1:
        raise SystemExit(f"the contenders disagree on the perplexity: {sorted(perplexities)}")
    tokens = next(i["tokens"] for i in info.values() if "tokens" in i)
    times: dict = {key: [] for key in workers}
    for _ in range(args.rounds):
        for key, w in workers.items():
            w.stdin.write("go\n")
            w.stdin.flush()
            times[key].append(float(read(w, key)))
    for w in workers.values():
        w.stdin.close()
        w.wait()
    medians = {key: statistics.median(v) for key, v in times.items()}
    peer = medians.get(("kenlm Model.score", ""))
    print(f"Machine: {machine()}; {args.corpus}" + (f" x{args.times}" if args.times > 1 else "")
          + (", from the file" if args.from_file else ", lines in memory" if args.lines else "")
          + (", a score per sentence" if args.per_sentence else "")
          + f", {tokens:,} tokens, perplexity {perplexities.pop():.4f}, medians of {args.rounds} "
          "alternating rounds\n")
    print(table(["code", "model", "hash load", "ms", "M tokens/s", "x kenlm"],
                [[label, folder or "-", info[(label, folder)]["hash_load"], f"{m * 1e3:.1f}",
                  f"{tokens / m / 1e6:.2f}", f"{peer / m:.2f}" if peer else "-"]
                 for (label, folder), m in medians.items()]))


if __name__ == "__main__":
    main()
