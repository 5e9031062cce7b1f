"""N-gram estimation at scale: lmplz -S, nextword in memory, nextword --memory, Spark local.

    NEXTWORD_DATA=../shared/data nice python benchmarks/scale_bench.py \\
        --corpus ptb:train --corpus /scratch/synth10M.txt --memory 1G \\
        [--lmplz /path/to/lmplz] [--workers 1 2] [--repeat 3] [--agreement] \\
        [--skip lmplz memory disk spark] [--discount-fallback] [--workdir DIR]

Every row is one fresh process (the CLI), timed by wall clock; memory is the peak of the summed
RSS of the process and its children (the JVM for Spark), sampled every 0.1 s from /proc, and the
peak of their summed RssAnon (RSS without the pages of mapped files, which the kernel can drop:
the memory the tools themselves hold). Each
corpus is first copied with the literal token <unk> renamed (lmplz refuses it; every tool reads
the same copy, so the models are comparable). --agreement compares the --memory model's ARPA
(and Spark's, with --spark-output arpa) with lmplz's: same n-gram sets, largest log10
difference (benchmarks/arpa_agreement.py, in bounded memory). Prints markdown tables with the
machine and date. lmplz rows are skipped when no binary is given ($LMPLZ or --lmplz).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arpa_agreement import agreement  # noqa: E402
from common import machine, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def tree_rss_kb(pid: int) -> tuple[int, int]:
    """Summed VmRSS and RssAnon (kB) of a process and all its descendants, from /proc. RSS counts
    the pages of mapped files too (reclaimable by the kernel); RssAnon is the memory the
    processes themselves hold. A child with exactly its parent's figures is not counted."""
    children: dict = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    rss = anon = 0
    todo = [(pid, None)]
    while todo:
        p, parents = todo.pop()
        try:
            with open(f"/proc/{p}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
            mine = int(fields["VmRSS"].split()[0]), int(fields["RssAnon"].split()[0])
        except (OSError, KeyError, ValueError):
            continue
        todo.extend((child, mine) for child in children.get(p, []))
        # a child spawned by vfork (as the JVM and Python start processes) shows its parent's
        # memory until it executes: the same address space, counted once. The two were read
        # at different moments, while the parent may allocate: within SHARED_SLACK of it.
        if not (parents and all(abs(a - b) <= SHARED_SLACK * b for a, b in zip(mine, parents))):
            rss, anon = rss + mine[0], anon + mine[1]
    return rss, anon


SHARED_SLACK = 0.02     # a child within 2% of its parent's VmRSS and RssAnon: its parent's memory


def measured(args, stdin=None, env=None) -> tuple:
    """(wall seconds, peak tree RSS in MB, peak tree RssAnon in MB) of one command; raises
    with the end of its stderr on failure, and keeps the whole of it in a file."""
    start = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as source, \
            tempfile.TemporaryFile() as errors:     # a file: a pipe could fill and block it
        process = subprocess.Popen(args, stdin=source, stdout=subprocess.DEVNULL,
                                   stderr=errors, env=env)
        peak = anon = 0
        while process.poll() is None:
            rss, held = tree_rss_kb(process.pid)
            peak, anon = max(peak, rss), max(anon, held)
            time.sleep(0.1)
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    if process.returncode != 0:
        handle, path = tempfile.mkstemp(prefix="scale_bench-", suffix=".err")
        with os.fdopen(handle, "w") as kept:
            kept.write(err)
        raise RuntimeError(f"{' '.join(map(str, args))} failed (its whole stderr: {path}):\n"
                           f"{err[-2000:]}")
    return time.perf_counter() - start, peak / 1024, anon / 1024


def nextword(*args) -> list:
    return [sys.executable, "-m", "nextword", *map(str, args)]


def prepared(spec: str, workdir: Path) -> tuple:
    """(path, words, lines) of a copy of the corpus with <unk> renamed."""
    from nextword.text.corpora import load_corpus

    # Spark skips files whose names start with "_" or "."
    out = workdir / ("corpus-" + spec.replace(":", "-").replace("/", "_").strip("_.") + ".txt")
    words = lines = 0
    with open(out, "w", encoding="utf-8") as handle:
        for sentence in load_corpus(spec):
            sentence = ["UNKWORD" if w == "<unk>" else w for w in sentence]
            handle.write(" ".join(sentence) + "\n")
            words += len(sentence)
            lines += 1
    return out, words, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", action="append", required=True)
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--memory", default="1G")
    parser.add_argument("--lmplz", default=os.environ.get("LMPLZ"))
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--skip", nargs="*", default=[], help="rows to skip: lmplz memory disk spark")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--agreement", action="store_true")
    parser.add_argument("--spark-output", choices=["folder", "arpa"], default="folder",
                        help="what the Spark rows write: the model folder (-o, read back from "
                             "Spark's ARPA text on the driver) or the ARPA file alone (--arpa, "
                             "as lmplz)")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--discount-fallback", action="store_true",
                        help="both tools: discounts 0.5, 1, 1.5 where the count-of-counts cannot "
                             "give them (a sampled corpus has no word seen after one context only)")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="scale-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    n, size = args.order, args.memory
    print(f"# n-gram estimation at scale, order {n}\n\n{machine()}\n")
    rows, notes = [], []
    for spec in args.corpus:
        path, words, lines = prepared(spec, workdir)
        label = f"{spec} ({words / 1e6:.1f} M words)"
        runs = []
        if args.lmplz and "lmplz" not in args.skip:
            runs.append((f"lmplz -o {n} -S {size}", lambda: measured(
                [args.lmplz, "-o", str(n), "-S", size, "-T", f"{workdir}/", "--arpa",
                 str(workdir / "lmplz.arpa")] + (["--discount_fallback"] if args.discount_fallback
                                                 else []), stdin=path)))
        train = ["train", "ngram", "--order", n, "--corpus", path] + (
            ["--discount-fallback"] if args.discount_fallback else [])
        if "memory" not in args.skip:
            runs.append(("nextword in memory", lambda: measured(
                nextword(*train, "-o", workdir / "mem"), env=env)))
        if "disk" not in args.skip:
            runs.append((f"nextword --memory {size}", lambda: measured(
                nextword(*train, "-o", workdir / "disk", "--memory", size, "--temp-dir", workdir),
                env=env)))
        if "spark" not in args.skip:
            for w in args.workers:
                output = (["--arpa", workdir / f"spark{w}.arpa"] if args.spark_output == "arpa"
                          else ["-o", workdir / f"spark{w}"])
                runs.append((f"nextword --engine spark, local {w} worker{'s' if w > 1 else ''}"
                             + (" (ARPA file)" if args.spark_output == "arpa" else ""),
                             lambda w=w, output=output: measured(
                                 nextword(*train, *output, "--engine", "spark", "--workers", w),
                                 env=env)))
        for name, run in runs:
            results = [run() for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in results)
            peak = statistics.median(r[1] for r in results)
            anon = statistics.median(r[2] for r in results)
            rows.append([label, name, f"{wall:.1f}", f"{peak:,.0f}", f"{anon:,.0f}"])
            print(f"  {label}: {name}: {wall:.1f} s, {peak:,.0f} MB, anon {anon:,.0f} MB",
                  file=sys.stderr)
        if args.agreement and args.lmplz and "lmplz" not in args.skip:
            if "disk" not in args.skip:
                subprocess.run(nextword("export", workdir / "disk", "--arpa",
                                        workdir / "disk.arpa"),
                               check=True, env=env, stdout=subprocess.DEVNULL)
                notes.append(f"{label}: nextword --memory {size} vs lmplz ARPA: "
                             f"{agreement(workdir / 'disk.arpa', workdir / 'lmplz.arpa')}")
            if "spark" not in args.skip and args.spark_output == "arpa":
                for w in args.workers:
                    agree = agreement(workdir / f"spark{w}.arpa", workdir / "lmplz.arpa")
                    notes.append(f"{label}: Spark ARPA ({w} worker{'s' if w > 1 else ''}) vs "
                                 f"lmplz ARPA: {agree}")
    print(table(["corpus", f"{n}-gram MKN build", "wall (s)", "peak RSS, process tree (MB)",
                 "peak anonymous RSS (MB)"], rows))
    for note in notes:
        print(f"\n{note}")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
