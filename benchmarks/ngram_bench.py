"""N-gram engine benchmark: counting, building, scoring, pruning, loading, chunked
counting, and KenLM / NLTK side by side. Prints markdown tables with the machine and date.

    NEXTWORD_DATA=../shared/data python benchmarks/ngram_bench.py [--skip-nltk] [--repeat 3]

Times are medians of --repeat runs (the machines are small and shared); memory is the peak of
what Python and NumPy allocate (tracemalloc) unless marked RSS (a child process's max RSS).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


from common import machine, median_time, table  # noqa: E402
from common import peak_python_memory as peak_mb  # noqa: E402

from nextword.evaluate import evaluate
from nextword.model import load_model
from nextword.ngram.arpa import read_arpa, write_arpa
from nextword.ngram.counts import PaddedStream, count_ngrams, count_ngrams_chunked
from nextword.ngram.entropy_pruning import entropy_prune
from nextword.ngram.estimators import make_estimator
from nextword.ngram.model import NgramModel
from nextword.text.corpora import load_corpus
from nextword.text.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parents[1]


# ---- helpers ----------------------------------------------------------------------------------
def child_run(args) -> tuple[float, float]:
    """Wall seconds and max RSS (MB) of `nextword ARGS` in a fresh Python process."""
    # VmHWM (peak RSS of this process's memory map) rather than ru_maxrss, which on Linux keeps
    # the RSS of the forked copy of this (large) benchmark process from before exec
    code = ("import sys; from nextword.cli import main; code = main(sys.argv[1:]); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
            "print(int(hwm.split()[1]), file=sys.stderr); sys.exit(code)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    return wall, int(done.stderr.strip().split("\n")[-1]) / 1024


def num_tokens(sentences) -> int:
    return sum(len(s) + 1 for s in sentences)


# ---- sections ---------------------------------------------------------------------------------
def counting_and_perplexity(train, valid, test, repeat):
    vocab = Vocabulary.build(train)
    stream = PaddedStream.from_sentences(vocab.encode(s) for s in train)
    rows = []
    for n in range(1, 6):
        seconds, counts = median_time(lambda: count_ngrams(stream, len(vocab), n), repeat)
        memory, _ = peak_mb(lambda: count_ngrams(stream, len(vocab), n))
        add = NgramModel.from_counts(counts, vocab, make_estimator("add-delta"))
        mkn_seconds, mkn = median_time(
            lambda: NgramModel.from_counts(counts, vocab, make_estimator(
                "modified-kneser-ney", discount_fallback=True)), repeat)   # n = 1: lmplz fails too
        eval_seconds, result = median_time(lambda: evaluate(mkn, test), repeat)
        rows.append([n, f"{seconds:.3f}", f"{memory:.0f}", f"{len(stream) / seconds / 1e6:.1f}",
                     f"{mkn_seconds:.3f}",
                     f"{sum(len(counts.counts[k]) for k in range(1, n + 1)):,}",
                     f"{evaluate(add, valid).perplexity:.2f}", f"{evaluate(add, test).perplexity:.2f}",
                     f"{evaluate(mkn, valid).perplexity:.2f}", f"{result.perplexity:.2f}",
                     f"{result.tokens / eval_seconds / 1e6:.2f}"])
    return table(["n", "count (s)", "count peak (MB)", "counted (M tok/s)", "MKN estimate (s)",
                  "n-grams 1..n",
                  "add-δ valid", "add-δ test", "MKN valid", "MKN test", "eval MKN (M tok/s)"], rows)


def against_kenlm(specs, repeat, workdir):
    """Text in, saved model out (in process and as a fresh CLI process), the perplexity against
    lmplz's, and scoring speed against the kenlm module on the same ARPA file."""
    import kenlm

    reference = {("ptb", 3): 148.28, ("ptb", 4): 142.72, ("ptb", 5): 141.19, ("wikitext-2", 5): 220.14}
    rows = []
    for corpus, n in specs:
        def build():
            lm = NgramModel.fit(list(load_corpus(f"{corpus}:train")), order=n,
                                estimator=make_estimator("modified-kneser-ney"))
            lm.save(workdir / f"{corpus}{n}")
            return lm
        seconds, lm = median_time(build, repeat)
        memory, _ = peak_mb(build)
        cli_wall, cli_rss = child_run(["train", "--order", n, "--smoothing", "modified-kneser-ney",
                                       "--corpus", f"{corpus}:train", "--output",
                                       workdir / f"cli-{corpus}{n}"])
        test = list(load_corpus(f"{corpus}:test"))
        saved = load_model(workdir / f"{corpus}{n}")
        eval_seconds, result = median_time(lambda: evaluate(saved, test), repeat)
        arpa = workdir / f"{corpus}{n}.arpa"
        write_arpa(lm, arpa)
        model = kenlm.Model(str(arpa))
        lines = [" ".join(s) for s in test]
        kenlm_seconds, total = median_time(lambda: sum(model.score(x) for x in lines), repeat)
        kenlm_ppl = 10 ** (-total / result.tokens)
        rows.append([f"{corpus} {n}", f"{result.perplexity:.2f}", f"{kenlm_ppl:.2f}",
                     f"{reference[(corpus, n)]:.2f}", f"{seconds:.2f}", f"{cli_wall:.2f}",
                     f"{memory:.0f}", f"{cli_rss:.0f}", f"{result.tokens / eval_seconds / 1e6:.2f}",
                     f"{result.tokens / kenlm_seconds / 1e6:.2f}"])
    return table(["model (MKN)", "nextword test ppl", "kenlm on our ARPA", "lmplz",
                  "build in process (s)", "CLI train wall (s)", "build peak (MB)", "CLI max RSS (MB)",
                  "nextword eval (M tok/s)", "kenlm score (M tok/s)"], rows)


def estimators_table(train, valid, test, repeat):
    vocab = Vocabulary.build(train)
    counts = count_ngrams(PaddedStream.from_sentences(vocab.encode(s) for s in train), len(vocab), 5)
    rows = []
    for name in ["add-delta", "laplace", "kneser-ney", "modified-kneser-ney", "katz", "witten-bell",
                 "absolute", "stupid-backoff"]:
        est = make_estimator(name)
        seconds, lm = median_time(lambda: NgramModel.from_counts(counts, vocab, est), repeat)
        v = evaluate(lm, valid, allow_unnormalised=True).perplexity
        t = evaluate(lm, test, allow_unnormalised=True).perplexity
        mark = " (unnormalised)" if not lm.normalised else ""
        rows.append([name, f"{seconds:.3f}", f"{v:.2f}{mark}", f"{t:.2f}{mark}"])
    return table(["estimator (5-gram)", "estimate (s)", "valid ppl", "test ppl"], rows)


def pruning_table(train, test, workdir):
    """Count cut-offs against Stolcke pruning to the same total size, for MKN and Katz."""
    models = {name: NgramModel.fit(train, order=5, estimator=make_estimator(name))
              for name in ("modified-kneser-ney", "katz")}
    ppl = lambda lm: f"{evaluate(lm, test).perplexity:.2f}"
    full = sum(models["katz"].describe()["ngrams"].values())
    rows = [["none", f"{full:,}", ppl(models["modified-kneser-ney"]), "", "", ppl(models["katz"]), "", ""]]
    for prune in [(0, 0, 0, 1), (0, 0, 1), (0, 1, 1), (0, 1, 2), (0, 2, 2)]:
        row = [" ".join(map(str, prune))]
        for name, histories in [("modified-kneser-ney", ("counts", "model")), ("katz", ("model",))]:
            cut = NgramModel.fit(train, order=5, estimator=make_estimator(name), prune=prune)
            size = sum(cut.describe()["ngrams"].values())
            if len(row) == 1:
                row.append(f"{size:,}")
            row.append(ppl(cut))
            for history in histories:
                seconds, pruned = median_time(lambda: entropy_prune(models[name], size, history), 1)
                row.append(f"{ppl(pruned)}")
            row.append(f"{seconds:.1f}") if name == "katz" else None
        rows.append(row)
    return table(["cut-offs (--prune)", "n-grams", "MKN, cut-offs", "MKN, Stolcke P(h)=c(h)/N (default)",
                  "MKN, Stolcke P(h) from model", "Katz, cut-offs", "Katz, Stolcke", "Stolcke time (s)"],
                 rows)


def loading_table(workdir, repeat):
    """Loading the saved PTB 5-gram (memory-mapped .npy) against reading its ARPA text."""
    test = list(load_corpus("ptb:test"))
    directory, arpa = workdir / "ptb5", workdir / "ptb5.arpa"
    rows = []
    load_seconds, _ = median_time(lambda: load_model(directory), repeat)
    first_seconds, _ = median_time(lambda: evaluate(load_model(directory), test), repeat)
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 1e6
    rows.append(["binary (.npy, mmap)", f"{size:.0f}", f"{load_seconds:.3f}", f"{first_seconds:.3f}"])
    cli_wall, _ = child_run(["eval", directory, "--corpus", "ptb:test", "--json"])
    rows.append(["  same, CLI `eval` wall incl. Python start", "", "", f"{cli_wall:.2f}"])
    arpa_seconds, _ = median_time(lambda: read_arpa(arpa), 1)
    rows.append(["ARPA text (streaming reader)", f"{arpa.stat().st_size / 1e6:.0f}",
                 f"{arpa_seconds:.2f}", ""])
    return table(["format", "size (MB)", "load (s)", "load + eval PTB test (s)"], rows)


def chunked_table(repeat):
    """Peak memory of counting 5-grams: ids of the whole corpus in memory (one pass), or
    encoded and counted a chunk at a time with a merge (the text itself is streamed)."""
    rows = []
    for name, spec, times in [("PTB train", "ptb:train", 1), ("WikiText-2 train", "wikitext-2:train", 1),
                              ("WikiText-2 train ×2", "wikitext-2:train", 2)]:
        corpus = load_corpus(spec)
        vocab = Vocabulary.build(corpus)
        stream_of = lambda: (vocab.encode(s) for _ in range(times) for s in corpus)

        def one_pass():
            return count_ngrams(PaddedStream.from_sentences(stream_of()), len(vocab), 5)

        whole_mb, counts = peak_mb(one_pass)
        tokens = int(counts.counts[1].sum() - counts.counts[1][1])
        result = [name, f"{tokens:,}", f"{sum(len(c) for c in counts.counts[1:]):,}", f"{whole_mb:.0f}"]
        for chunk in (1 << 18, 1 << 20):
            seconds, _ = median_time(lambda: count_ngrams_chunked(stream_of(), len(vocab), 5, chunk), 1)
            mb, _ = peak_mb(lambda: count_ngrams_chunked(stream_of(), len(vocab), 5, chunk))
            result += [f"{mb:.0f}", f"{seconds:.1f}"]
        rows.append(result)
    return table(["corpus", "tokens", "n-grams 1..5", "one pass peak (MB)", "chunks of 256k: peak (MB)",
                  "time (s)", "chunks of 1M: peak (MB)", "time (s)"], rows)


def nltk_table(train, test):
    """NLTK lm 3.10 against nextword on PTB train, trigram: fit and per-token scoring."""
    from nltk.lm import KneserNeyInterpolated, Laplace
    from nltk.lm.preprocessing import padded_everygram_pipeline

    rows = []
    sample = [(tuple(s[max(0, i - 2):i]), s[i]) for s in test[:40] for i in range(len(s))][:60]
    for name, cls, ours in [("Laplace", Laplace, "laplace"),
                            ("interpolated Kneser–Ney", KneserNeyInterpolated, "kneser-ney")]:
        grams, words = padded_everygram_pipeline(3, train)
        model = cls(3)
        start = time.perf_counter()
        model.fit(grams, words)
        nltk_fit = time.perf_counter() - start
        start = time.perf_counter()
        for context, word in sample:
            model.score(word, context)
        nltk_rate = len(sample) / (time.perf_counter() - start)
        fit_seconds, lm = median_time(lambda: NgramModel.fit(train, order=3,
                                                             estimator=make_estimator(ours)), 3)
        eval_seconds, result = median_time(lambda: evaluate(lm, test), 3)
        ours_rate = result.tokens / eval_seconds
        rows.append([name, f"{nltk_fit:.2f}", f"{fit_seconds:.2f}", f"{nltk_fit / fit_seconds:.0f}×",
                     f"{nltk_rate:,.0f}", f"{ours_rate:,.0f}", f"{ours_rate / nltk_rate:,.0f}×"])
    return table(["trigram", "NLTK fit (s)", "nextword fit (s)", "fit ratio", "NLTK score (tok/s)",
                  "nextword eval (tok/s)", "score ratio"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-nltk", action="store_true", help="NLTK's fit takes ~10 s and 200 MB")
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    train, valid, test = (list(load_corpus(f"ptb:{s}")) for s in ("train", "valid", "test"))
    print(f"PTB train {num_tokens(train):,} tokens, valid {num_tokens(valid):,}, test "
          f"{num_tokens(test):,} (words + one </s> per line)\n")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sections = [
            ("Counting and perplexity by order (PTB)", lambda: counting_and_perplexity(train, valid, test, args.repeat)),
            ("Modified Kneser–Ney against lmplz and the kenlm module",
             lambda: against_kenlm([("ptb", 3), ("ptb", 4), ("ptb", 5), ("wikitext-2", 5)], args.repeat, workdir)),
            ("Every estimator, PTB 5-gram", lambda: estimators_table(train, valid, test, args.repeat)),
            ("Pruning the PTB 5-gram (MKN): size against perplexity", lambda: pruning_table(train, test, workdir)),
            ("Loading the PTB 5-gram", lambda: loading_table(workdir, args.repeat)),
            ("Counting in chunks: memory against corpus size", lambda: chunked_table(args.repeat)),
        ]
        if not args.skip_nltk:
            sections.append(("NLTK lm 3.10 side by side (PTB, trigram)", lambda: nltk_table(train, test)))
        for title, make in sections:
            start = time.perf_counter()
            text = make()
            print(f"### {title}\n\n{text}\n\n({time.perf_counter() - start:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
