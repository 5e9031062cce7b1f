"""What the checksums of model.json cost: loading a saved n-gram model with the default check
(sizes; every byte of the small files; a sample of the memory-mapped arrays), with every byte
checked (`info --verify`), and with no check at all (the folder's list of files removed); and
the hashing a save adds.

    NEXTWORD_DATA=... python benchmarks/load_check_bench.py --corpus ptb:train --order 5
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nextword.fileio import write_manifest  # noqa: E402
from nextword.model import load_model  # noqa: E402
from nextword.ngram.estimators import make_estimator  # noqa: E402
from nextword.ngram.model import NgramModel  # noqa: E402
from nextword.text.corpora import load_corpus  # noqa: E402


def median_ms(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="ptb:train")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    lm = NgramModel.fit_stream(load_corpus(args.corpus), args.order,
                               make_estimator("modified-kneser-ney"))
    with tempfile.TemporaryDirectory() as tmp:
        checked, bare = Path(tmp) / "checked", Path(tmp) / "bare"
        lm.save(checked)
        shutil.copytree(checked, bare)
        meta = json.loads((bare / "model.json").read_text())
        del meta["files"]
        (bare / "model.json").write_text(json.dumps(meta))
        size = sum(p.stat().st_size for p in checked.rglob("*") if p.is_file())
        rows = [
            ("load, no check (no list of files)", median_ms(lambda: load_model(bare), args.repeats)),
            ("load, default check", median_ms(lambda: load_model(checked), args.repeats)),
            ("load, every byte (info --verify)",
             median_ms(lambda: load_model(checked, verify=True), args.repeats)),
            ("hashing at save (write_manifest)",
             median_ms(lambda: write_manifest(bare, mapped=("arrays/",)), args.repeats)),
        ]
    print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; "
          f"{args.corpus} {args.order}-gram, {size / 1e6:.0f} MB on disk, median of {args.repeats}")
    print("| what | ms |")
    print("|---|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.1f} |")


if __name__ == "__main__":
    main()
