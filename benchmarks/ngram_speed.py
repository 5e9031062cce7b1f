"""Where an n-gram user waits, against KenLM in the same run: build (text -> saved model, whole
process), build + ARPA file, scoring from Python against the kenlm module's Model.score, the
first load in a fresh process, and sampling. Prints a markdown table with machine and date.

    NEXTWORD_DATA=../shared/data python benchmarks/ngram_speed.py \\
        --lmplz /path/to/kenlm/build/bin/lmplz [--src OTHER/src --label before] [--repeat 3]

Every nextword figure runs in a child Python process importing from --src (default: this
checkout's src), so an older checkout (e.g. `git archive a459751 src`) is measured by the same
script in the same run. Times are medians of --repeat; memory is the child's peak RSS (VmHWM).
Rows needing lmplz or the kenlm module are left out when they are absent.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import compile_sources, machine, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# run inside the child: prints one JSON line
SCORE = """
import json, sys, time, statistics
from nextword.model import load_model
from nextword.evaluate import evaluate
from nextword.text.corpora import load_corpus
lm = load_model(sys.argv[1]); test = list(load_corpus(sys.argv[2])) * int(sys.argv[3])
times = []
for _ in range(int(sys.argv[4])):
    t = time.perf_counter(); r = evaluate(lm, test); times.append(time.perf_counter() - t)
out = {"seconds": statistics.median(times), "tokens": r.tokens, "ppl": r.perplexity}
try:
    import kenlm
    m = kenlm.Model(sys.argv[5]); lines = [" ".join(s) for s in test]; kt = []
    for _ in range(int(sys.argv[4])):
        t = time.perf_counter(); total = sum(m.score(x) for x in lines); kt.append(time.perf_counter() - t)
    out["kenlm_seconds"] = statistics.median(kt); out["kenlm_ppl"] = 10 ** (-total / r.tokens)
except ImportError:
    pass
print(json.dumps(out))
"""
LOAD = """
import json, sys, time
t = time.perf_counter()
from nextword.model import load_model
import nextword.ngram.model
t1 = time.perf_counter()
lm = load_model(sys.argv[1])      # memory-mapped arrays and the vocabulary: nothing scored
print(json.dumps({"imports": t1 - t, "seconds": time.perf_counter() - t1}))
"""
SAMPLE = """
import json, sys, time
from nextword.model import load_model
from nextword.generate import generate
try:
    from nextword.generate import sample_sentences
except ImportError:
    sample_sentences = generate
lm = load_model(sys.argv[1]); count = int(sys.argv[2])
t = time.perf_counter()
n = sum(len(s) + 1 for s in sample_sentences(lm, count, seed=1))
print(json.dumps({"seconds": time.perf_counter() - t, "tokens": n}))
"""
CLI = ("import sys; from nextword.cli import main; code = main(sys.argv[1:]); "
       "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
       "print(int(hwm.split()[1]), file=sys.stderr); sys.exit(code)")


def child(src: Path, code: str, *args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed(cmd: list, env=None, stdout=subprocess.DEVNULL) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command (GNU time's %M when there, else VmHWM)."""
    start = time.perf_counter()
    if shutil.which("/usr/bin/time"):
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, check=True,
                              stdout=stdout, stderr=subprocess.PIPE, text=True)
    else:
        done = subprocess.run(cmd, env=env, check=True, stdout=stdout, stderr=subprocess.PIPE,
                              text=True)
    wall = time.perf_counter() - start
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def nextword(src: Path, *args) -> tuple[float, float]:
    return timed([sys.executable, "-c", CLI, *map(str, args)], env=dict(os.environ, PYTHONPATH=str(src)))


def median_of(fn, repeat):
    runs = [fn() for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def measure(corpus: str, order: int, trees: list, lmplz: str | None, repeat: int,
            samples: int, slow_samples: int, work: Path) -> list:
    rows = []
    train = work / f"{corpus}.train.txt"
    from nextword.text.corpora import load_corpus      # the text lmplz reads: the same tokens
    # lmplz refuses the literal <unk> of PTB and WikiText-2: renamed, it is an ordinary word
    train.write_text("".join(" ".join(s).replace("<unk>", "unk_word") + "\n"
                             for s in load_corpus(f"{corpus}:train")))
    peer = {}
    if lmplz:
        arpa = work / f"{corpus}.lmplz.arpa"

        def run_lmplz():
            with open(train) as text, open(arpa, "w") as out:
                start = time.perf_counter()
                done = subprocess.run(["/usr/bin/time", "-f", "%M", lmplz, "-o", str(order), "-S",
                                       "100M", "-T", str(work)], stdin=text,
                                      stdout=out, stderr=subprocess.PIPE, text=True, check=True)
                return time.perf_counter() - start, int(done.stderr.strip().splitlines()[-1]) / 1024
        peer["lmplz"] = median_of(run_lmplz, repeat)
    for label, src in trees:
        model, arpa = work / f"{label}-{corpus}{order}", work / f"{label}-{corpus}{order}.arpa"
        build = median_of(lambda: nextword(src, "train", "--order", order, "--smoothing",
                                           "modified-kneser-ney", "--corpus", f"{corpus}:train",
                                           "--output", model), repeat)
        export = median_of(lambda: nextword(src, "export", model, "--arpa", arpa), repeat)
        # text to ARPA in one process: the ARPA file alone (as lmplz writes it), else with a
        # model folder beside it (a tree without that), else train + export (a tree without
        # train --arpa)
        train_args = ["train", "--order", order, "--smoothing", "modified-kneser-ney",
                      "--corpus", f"{corpus}:train", "--arpa", f"{arpa}-direct"]
        direct = None
        for how, more in (("train --arpa, no model folder", []),
                          ("train -o --arpa", ["--output", f"{model}-direct", "--force"])):
            try:
                direct = (*median_of(lambda: nextword(src, *train_args, *more), repeat), how)
                break
            except subprocess.CalledProcessError:
                pass
        if direct is None:
            direct = (build[0] + export[0], max(build[1], export[1]), "train + export")
        loads = [child(src, LOAD, model) for _ in range(repeat)]
        load = (statistics.median(x["imports"] for x in loads),
                statistics.median(x["seconds"] for x in loads))
        scores = {}
        for times in (1, 10):
            scores[times] = child(src, SCORE, model, f"{corpus}:test", times, repeat, arpa)
        count = samples if label == "now" else slow_samples   # token-by-token: seconds each
        sample = child(src, SAMPLE, model, count)
        sample["count"] = count
        rows.append((label, build, export, direct, load, scores, sample))
    out = []
    for label, build, export, direct, load, scores, sample in rows:
        lm_build = peer.get("lmplz")
        out.append([f"{corpus} {order} {label}",
                    f"{build[0]:.2f} s, {build[1]:.0f} MiB",
                    f"{direct[0]:.2f} s, {direct[1]:.0f} MiB ({direct[2]}"
                    + (f"; {direct[0] / lm_build[0]:.2f}x lmplz)" if lm_build else ")"),
                    f"{export[0]:.2f} s, {export[1]:.0f} MiB",
                    f"{lm_build[0]:.2f} s, {lm_build[1]:.0f} MiB" if lm_build else "—",
                    *[f"{s['tokens'] / s['seconds'] / 1e6:.2f} / "
                      + (f"{s['tokens'] / s['kenlm_seconds'] / 1e6:.2f} "
                         f"({s['kenlm_seconds'] / s['seconds']:.2f}x)" if "kenlm_seconds" in s else "—")
                      for s in (scores[1], scores[10])],
                    f"{load[1] * 1000:.0f} ms (+ imports {load[0] * 1000:.0f} ms)",
                    f"{sample['tokens'] / sample['seconds']:,.0f} ({sample['count']:,} sent.)"])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lmplz", default=os.environ.get("LMPLZ"))
    parser.add_argument("--src", type=Path, action="append", default=[],
                        help="another checkout's src to measure beside this one (repeatable)")
    parser.add_argument("--label", action="append", default=[], help="a name for each --src")
    parser.add_argument("--corpus", action="append", default=[], help="default: ptb, wikitext-2")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=100000)
    parser.add_argument("--samples-other", type=int, default=100,
                        help="sentences sampled with each --src (an old sampler is slow)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    trees = [(label, src.resolve()) for label, src in zip(args.label, args.src)]
    trees.append(("now", ROOT / "src"))
    for _, src in trees:
        compile_sources(src)
    lmplz = args.lmplz if args.lmplz and Path(args.lmplz).exists() else None
    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for corpus in args.corpus or ["ptb", "wikitext-2"]:
            rows += measure(corpus, args.order, trees, lmplz, args.repeat, args.samples,
                            args.samples_other, Path(tmp))
    print(table(["model (MKN)", "build: text -> saved model (whole process)",
                 "text -> ARPA file", "export: saved model -> ARPA",
                 f"lmplz -o {args.order} -S 100M to ARPA",
                 "scoring test, M tok/s: nextword / kenlm Model.score (ratio)",
                 "same, test x10", "first load_model in a fresh process", "sampling tok/s"], rows))


if __name__ == "__main__":
    main()
