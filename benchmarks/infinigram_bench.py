"""Suffix-array index: build time, size and peak memory; count and continuation latency,
side by side with the `infini-gram` package's C++ engine on the same token ids.

    python benchmarks/infinigram_bench.py                       # PTB and WikiText-2
    python benchmarks/infinigram_bench.py --synthetic 100000000 # + a sampled 100 M-token corpus

Build: each suffix-array build runs in a fresh Python process, so its peak RSS is its own
(the growth of the peak over the loaded token array).
Latency: one query per call (what a user waits for), n-grams drawn at random positions of the
corpus (so they occur), median and 99th percentile in microseconds; `batched` is the time of
one vectorised call for all the queries divided by their number.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table  # noqa: E402

from nextword.infinigram import query  # noqa: E402
from nextword.infinigram.index import SuffixArrayIndex  # noqa: E402
from nextword.infinigram.suffix_array import suffix_array  # noqa: E402
from nextword.text.corpora import load_corpus  # noqa: E402

LENGTHS = range(1, 21)


_CHILD = """
import resource, sys, time, numpy as np
from nextword.infinigram.suffix_array import suffix_array
tokens = np.load(sys.argv[1])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, cpu = time.perf_counter(), time.process_time()
suffix_array(tokens, sys.argv[2])
print(time.perf_counter() - start, time.process_time() - cpu,
      (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)
"""


def time_build(tokens_path, builder):
    """(wall seconds, CPU seconds, peak extra bytes) of one suffix-array build in a fresh
    Python process. On a shared machine the CPU time is the figure to compare."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(tokens_path), builder],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def percentiles(times):
    us = np.array(times) * 1e6
    return float(np.median(us)), float(np.percentile(us, 99))


def latency(fn, items):
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return percentiles(times)


def sample_ngrams(index, n, count, rng):
    starts = rng.integers(0, index.n - n, size=count)
    return [np.asarray(index.tokens[s:s + n], dtype=np.int64) for s in starts]


def infini_gram_engine(index, directory):
    """The same token ids in infini-gram's v4 layout: tokenized.0 (a 0xFFFF document separator,
    then little-endian u16 ids), table.0 (the suffix array as byte offsets, in the byte order
    its memcmp search expects: the order of the byte-swapped ids), offset.0 (one document)."""
    from infini_gram.engine import InfiniGramEngine

    ids = np.concatenate([[0xFFFF], index.tokens]).astype("<u2")
    swapped = ids.byteswap()
    sa = suffix_array(swapped.astype(np.uint16))
    ds_size = 2 * len(ids)
    ptr_size = int(np.ceil(np.log2(ds_size) / 8))
    offsets = (2 * sa.astype(np.uint64)).view(np.uint8).reshape(-1, 8)[:, :ptr_size]
    (directory / "tokenized.0").write_bytes(ids.tobytes())
    (directory / "table.0").write_bytes(np.ascontiguousarray(offsets).tobytes())
    (directory / "offset.0").write_bytes(np.array([0], dtype=np.uint64).tobytes())
    return InfiniGramEngine(index_dir=str(directory), eos_token_id=2)


def batched_table(args):
    """count() of many n-grams in one vectorised call, per corpus: CPU time per query."""
    rows = []
    rng = np.random.default_rng(0)
    for spec in args.corpora.split(","):
        index = SuffixArrayIndex.from_sentences(load_corpus(spec))
        for n in (1, 2, 5, 10, 20):
            ngrams = sample_ngrams(index, n, args.batched, rng)
            cpu, wall = time.process_time(), time.perf_counter()
            query.count(index, ngrams)
            rows.append([spec, n, f"{(time.process_time() - cpu) / len(ngrams) * 1e6:.1f}",
                         f"{(time.perf_counter() - wall) / len(ngrams) * 1e6:.1f}"])
    print(table(["corpus", "n", f"CPU µs/query ({args.batched:,} in one call)", "wall µs/query"],
                rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="ptb:train,wikitext-2:train")
    parser.add_argument("--synthetic", type=int, default=0, help="tokens of a synthetic corpus")
    parser.add_argument("--synthetic-ids", default=None, help=".npy of synthetic ids (made if absent)")
    parser.add_argument("--queries", type=int, default=300, help="queries per n")
    parser.add_argument("--numpy-max", type=int, default=30_000_000,
                        help="time the NumPy builder only below this many tokens")
    parser.add_argument("--no-infini-gram", action="store_true")
    parser.add_argument("--batched", type=int, default=0,
                        help="only this: CPU µs per query of one count() call over this many")
    args = parser.parse_args()
    print(f"# infinigram_bench, {machine()}\n")
    if args.batched:
        return batched_table(args)
    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="infinigram-bench-"))
    corpora = []
    for spec in args.corpora.split(","):
        start = time.perf_counter()
        index = SuffixArrayIndex.from_sentences(load_corpus(spec), builder="divsufsort")
        corpora.append((spec, index.tokens, index.vocab, time.perf_counter() - start))
    if args.synthetic:
        from synthetic_corpus import sample_corpus

        ptb = SuffixArrayIndex.from_sentences(load_corpus("ptb:train"))
        path = args.synthetic_ids
        if path and os.path.exists(path):
            ids = np.load(path)
        else:
            start = time.perf_counter()
            ids = sample_corpus(ptb, args.synthetic)
            print(f"sampled {len(ids):,} synthetic tokens in {time.perf_counter() - start:.0f} s")
            if path:
                np.save(path, ids)
        corpora.append((f"synthetic {len(ids) / 1e6:.0f}M", ids, ptb.vocab, float("nan")))

    build_rows, count_rows, cont_rows = [], [], []
    for name, tokens, vocab, read_seconds in corpora:
        tokens_path = work / "tokens.npy"
        np.save(tokens_path, tokens)
        sa_wall, sa_cpu, sa_bytes = time_build(tokens_path, "divsufsort")
        numpy_cell = "-"
        if len(tokens) <= args.numpy_max:
            np_wall, np_cpu, np_bytes = time_build(tokens_path, "numpy")
            numpy_cell = (f"{np_cpu:.2f} s CPU ({np_cpu / sa_cpu:.1f}x), {np_wall:.2f} s wall, "
                          f"{np_bytes / len(tokens):.0f} B/tok")
        start, cpu = time.perf_counter(), time.process_time()
        built = SuffixArrayIndex.from_ids(tokens, vocab, builder="divsufsort")
        built.save(work / "index")
        total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
        del built
        index = SuffixArrayIndex.open(work / "index")
        build_rows.append([name, f"{index.n:,}", f"{sa_cpu:.2f} s CPU, {sa_wall:.2f} s wall",
                           f"{sa_bytes / len(tokens):.0f}", numpy_cell,
                           f"{total_cpu:.2f} s CPU, {total:.2f} s wall",
                           f"{index.nbytes() / 2**20:.1f} MiB", f"{index.nbytes() / index.n:.2f}"])
        engine = None
        if not args.no_infini_gram:
            try:
                (work / "ig").mkdir(exist_ok=True)
                engine = infini_gram_engine(index, work / "ig")
            except Exception as error:                   # report, do not hide: the row says so
                print(f"infini-gram engine unavailable: {error!r}")
        for n in LENGTHS:
            ngrams = sample_ngrams(index, n, args.queries, rng)
            ours = latency(lambda q: query.count(index, [q]), ngrams)
            start = time.perf_counter()
            counts = query.count(index, ngrams)
            batched = (time.perf_counter() - start) / len(ngrams) * 1e6
            row = [name, n, f"{ours[0]:.0f}", f"{ours[1]:.0f}", f"{batched:.1f}",
                   f"{statistics.median(counts.tolist()):.0f}"]
            if engine is not None:
                theirs = latency(lambda q: engine.count(input_ids=q.tolist()), ngrams)
                same = all(engine.count(input_ids=q.tolist())["count"] == c
                           for q, c in zip(ngrams, counts.tolist()))
                row += [f"{theirs[0]:.0f}", f"{theirs[1]:.0f}", "yes" if same else "NO"]
            count_rows.append(row)
        for n in (1, 2, 3, 5):
            contexts = sample_ngrams(index, n, args.queries, rng)
            ours = latency(lambda q: query.continuations(index, q), contexts)
            row = [name, n, f"{ours[0]:.0f}", f"{ours[1]:.0f}"]
            if engine is not None:
                theirs = latency(lambda q: engine.ntd(prompt_ids=q.tolist()), contexts)
                row += [f"{theirs[0]:.0f}", f"{theirs[1]:.0f}"]
            cont_rows.append(row)
        del index
        print(f"done: {name}", *build_rows[-1:], *count_rows[-len(LENGTHS):], *cont_rows[-4:],
              sep="\n", flush=True)
    print("## Build (libdivsufsort through pydivsufsort; NumPy prefix doubling)\n")
    print(table(["corpus", "tokens", "SA (divsufsort)", "peak B/token", "SA (NumPy)",
                 "whole index + save", "index size", "bytes/token"], build_rows))
    ig = ["infini-gram median µs", "infini-gram p99 µs", "same counts"]
    print("\n## count(n-gram), one query per call\n")
    print(table(["corpus", "n", "median µs", "p99 µs", "batched µs/query", "median count"]
                + (ig if count_rows and len(count_rows[0]) > 6 else []), count_rows))
    print("\n## continuation distribution (all followers with counts), one context per call\n")
    print(table(["corpus", "context n", "median µs", "p99 µs"]
                + (ig[:2] if cont_rows and len(cont_rows[0]) > 4 else []), cont_rows))
    import shutil
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
