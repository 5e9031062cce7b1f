"""Text to ARPA file against lmplz, in alternating rounds: nextword (this checkout and any other
checkout's src), then lmplz, each a fresh process, round after round.

    NEXTWORD_DATA=../shared/data python benchmarks/text_to_arpa.py --corpus ptb:train \\
        --lmplz /path/to/kenlm/build/bin/lmplz [--src before=/path/to/other/src] [--rounds 9]

nextword runs `train ngram --order 5 --smoothing modified-kneser-ney --corpus C --arpa F`; lmplz
runs `-o 5 -S 100M` on the same text with `<unk>` renamed `<UNK>` (lmplz reserves `<unk>`). A
shared VM's speed drifts, so each round runs every contender once and the table gives medians
and ratios to lmplz's median; memory is peak RSS (GNU time). The nextword files must be
byte-identical, or the script stops.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import compile_sources, machine, table  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"


def timed(command: list, env: dict | None = None) -> tuple:
    """(wall seconds, peak RSS MiB) of a command, from GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name, *command], env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, peak = report.read().split()[-2:]
    return float(wall), int(peak) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True, help="e.g. ptb:train")
    parser.add_argument("--lmplz", required=True, help="KenLM's lmplz binary")
    parser.add_argument("--src", action="append", default=[], metavar="LABEL=PATH",
                        help="also run the code under PATH (another checkout's src)")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    from nextword.text.corpora import load_corpus

    sources = [("this checkout", SRC)] + [(item.partition("=")[0], Path(item.partition("=")[2]))
                                          for item in args.src]
    for _, src in sources:
        compile_sources(src)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        text = tmp / "text.txt"
        with open(text, "w", encoding="utf-8") as out:       # what lmplz reads: <unk> renamed
            out.writelines(" ".join("<UNK>" if w == "<unk>" else w for w in s) + "\n"
                           for s in load_corpus(args.corpus))
        runs: dict = {label: [] for label, _ in sources}
        runs["lmplz -o 5 -S 100M"] = []
        for _ in range(args.rounds):
            for number, (label, src) in enumerate(sources):
                env = dict(os.environ, PYTHONPATH=str(src))
                runs[label].append(timed(
                    [sys.executable, "-m", "nextword", "train", "ngram", "--order", "5",
                     "--smoothing", "modified-kneser-ney", "--corpus", args.corpus, "--arpa",
                     str(tmp / f"nextword{number}.arpa")], env))
            runs["lmplz -o 5 -S 100M"].append(timed(
                [args.lmplz, "-o", "5", "-S", "100M", "--text", str(text), "--arpa",
                 str(tmp / "lmplz.arpa")]))
        for number in range(1, len(sources)):
            if not filecmp.cmp(tmp / "nextword0.arpa", tmp / f"nextword{number}.arpa",
                               shallow=False):
                raise SystemExit(f"{sources[number][0]} wrote another ARPA file")
    peer = statistics.median(wall for wall, _ in runs["lmplz -o 5 -S 100M"])
    print(f"Machine: {machine()}; {args.corpus} to a 5-gram ARPA file, medians of "
          f"{args.rounds} alternating rounds\n")
    rows = []
    for label, r in runs.items():
        wall = statistics.median(w for w, _ in r)
        rows.append([label, f"{wall:.2f}", f"{statistics.median(m for _, m in r):.1f}",
                     f"{wall / peer:.2f}"])
    print(table(["contender", "wall (s)", "peak RSS (MiB)", "x lmplz"], rows))


if __name__ == "__main__":
    main()
