"""How Spark's shuffles cost with the n-gram as an array of words, of word ids, or as ids packed
into longs (`nextword.ngram.spark.Keys`), on the top-order n-grams of a corpus.

    python benchmarks/spark_keys.py --corpus FILE [--order 5] [--rounds 3] [--workers 2]

Three steps of the Kneser–Ney build, timed on each representation in alternating rounds:
counting the n-grams of every line (explode + group-by), a context group-by joined back to its
rows (what `contexts` does), and a join of every n-gram to its suffix's group (what
`interpolate` does). Each step ends in a small aggregate, so nothing is collected. Prints a
markdown table of the medians with the machine and date.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, table  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="a text file, one sentence a line")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from nextword.ngram import spark as engine
    from nextword.text.vocabulary import BOS_ID, EOS_ID

    keep, k = StorageLevel.MEMORY_AND_DISK, args.order
    spark = engine.session(workers=args.workers)
    words = engine.sentences(spark, [args.corpus]).persist(keep)
    vocab, _ = engine.build_vocabulary(spark, words)
    keys = engine.Keys(len(vocab))
    ids = engine.word_ids(words, engine.spelling(spark, vocab)).persist(keep)
    ids.count()

    def sliced(i):                                  # the k-gram at i as an array
        return F.struct(F.slice("s", i + 1, k).alias("g"))

    def counted(source, bos, eos, gram, how=F.count):
        padded = source.select(F.concat(F.array(F.lit(bos)), "w", F.array(F.lit(eos))).alias("s"))
        return (padded.where(F.size("s") >= k)
                .select(F.explode(F.transform(F.sequence(F.lit(0), F.size("s") - k), gram)).alias("x"))
                .select("x.*").groupBy(*grams[gram]).agg(how(F.lit(1)).alias("raw")))

    # each representation: its n-gram columns, and a context's and a suffix's as expressions
    packed = engine._starting_at(keys, k)
    grams = {sliced: ["g"], packed: keys.names("g", k)}
    kinds = {
        "array<string>": (words, "<s>", "</s>", sliced,
                          lambda: [F.slice("g", 1, k - 1).alias("h")],
                          lambda: [F.slice("g", 2, k - 1).alias("h")]),
        "array<int> of ids": (ids, BOS_ID, EOS_ID, sliced,
                              lambda: [F.slice("g", 1, k - 1).alias("h")],
                              lambda: [F.slice("g", 2, k - 1).alias("h")]),
        "ids packed into longs": (ids, BOS_ID, EOS_ID, packed,
                                  lambda: keys.context(k, "h"),
                                  lambda: keys.suffix(k, "h")),
    }
    tables = {}
    for name, (source, bos, eos, gram, _, _) in kinds.items():
        tables[name] = counted(source, bos, eos, gram).persist(keep)
        tables[name].count()

    def count_step(name):
        source, bos, eos, gram, _, _ = kinds[name]
        # summed, not counted: the cached table's plan would be read from the cache instead
        return counted(source, bos, eos, gram, F.sum).agg(F.sum("raw")).collect()[0][0]

    def join_back(name, part):
        t = tables[name]
        t = t.select(*grams[kinds[name][3]], "raw", *part())
        h = [c for c in t.columns if c.startswith("h")]
        groups = t.groupBy(*h).agg(F.sum("raw").alias("den"))
        return t.join(groups, h).agg(F.sum(F.col("raw") / F.col("den"))).collect()[0][0]

    steps = {"count the n-grams": count_step,
             "context group-by, joined back": lambda name: join_back(name, kinds[name][4]),
             "suffix group-by, joined back": lambda name: join_back(name, kinds[name][5])}
    times = {(step, name): [] for step in steps for name in kinds}
    for _ in range(args.rounds):
        for step, run in steps.items():
            for name in kinds:
                start = time.perf_counter()
                run(name)
                times[step, name].append(time.perf_counter() - start)
    n_grams = tables["ids packed into longs"].count()
    spark.stop()

    print(f"# Spark shuffles by n-gram representation ({k}-grams)\n\n{machine()}; "
          f"{args.corpus}: {n_grams:,} distinct {k}-grams, vocabulary {len(vocab):,} "
          f"({keys.b} bits an id, {keys.m} ids a long); local mode, {args.workers} workers; "
          f"medians of {args.rounds} alternating rounds\n")
    rows = []
    for step in steps:
        base = statistics.median(times[step, "array<string>"])
        for name in kinds:
            median = statistics.median(times[step, name])
            rows.append([step, name, f"{median:.1f}", f"{base / median:.2f}x"])
    print(table(["step", "n-gram as", "seconds", "speed vs array<string>"], rows))


if __name__ == "__main__":
    main()
