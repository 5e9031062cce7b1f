"""Do two ARPA files hold the same model? Same n-gram sets, largest log10 differences.

    python benchmarks/arpa_agreement.py A.arpa B.arpa [--tolerance 1e-6] [--workdir DIR]

Files of any size, in any entry order (lmplz, Spark and nextword each order entries their own
way), in bounded memory: one process per file reads it a line at a time and keeps, for each
order, a 64-bit hash of every n-gram's words with its log10 p and log10 bo (24 bytes an entry);
it sorts them by hash and writes them to a folder; the two files are then compared order by
order from those arrays, memory-mapped. At most one order of each file is in memory at a time
(the 90 M 5-grams of a 100 M-word corpus: 2.2 GB each; a process peaked at 7.1 GB while it
sorted them, and two 12.9 and 9.7 GB files took 5 minutes on two cores). The hash is
Python's (the same secret in both processes, which are forked); two entries of one file with
the same hash (a duplicate n-gram, or a collision) are reported.
An absent backoff weight is 0, as ARPA defines it; log10 p of -99 (lmplz's <s>) or -inf is
compared only for being so on both sides.
"""
from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
from array import array
from pathlib import Path

import numpy as np


def digest(path: Path, out: Path) -> None:
    """Write out/{k}.hash.npy, {k}.logp.npy and {k}.bo.npy (sorted by hash) for every order k of
    an ARPA file (run in a forked process: the files are its result)."""
    with open(path, "rb") as handle:
        for line in handle:                           # the header, up to the first section
            if line.startswith(b"\\1-grams:"):
                break
        k, done = 1, False
        while not done:
            hashes, logp, bo = array("q"), array("d"), array("d")
            add_h, add_p, add_b = hashes.append, logp.append, bo.append
            done = True
            for line in handle:
                parts = line.rstrip(b"\r\n").split(b"\t")
                if len(parts) == 1:                   # a blank line, the next section or the end
                    if parts[0].startswith(b"\\") and parts[0].endswith(b"-grams:"):
                        done = False
                        break
                    continue
                add_h(hash(parts[1]))
                add_p(float(parts[0]))
                add_b(float(parts[2]) if len(parts) > 2 else 0.0)
            order = np.argsort(np.frombuffer(hashes, dtype=np.int64), kind="stable")
            for name, values, dtype in (("hash", hashes, np.int64), ("logp", logp, np.float64),
                                        ("bo", bo, np.float64)):
                np.save(out / f"{k}.{name}.npy", np.frombuffer(values, dtype=dtype)[order])
            del hashes, logp, bo, order
            k += 1


def agreement(a: Path, b: Path, tolerance: float = 1e-6, workdir: Path | None = None) -> str:
    """One line: the same n-gram sets (or which orders differ), the largest |Δ log10 p| and
    |Δ log10 bo|, and how many values differ by more than `tolerance`."""
    root = Path(tempfile.mkdtemp(prefix="arpa-agreement-", dir=workdir))
    try:
        # forked (nothing pickled), the two processes hash with this one's secret
        children = []
        for path, side in ((a, "a"), (b, "b")):
            (root / side).mkdir()
            children.append(multiprocessing.get_context("fork").Process(
                target=digest, args=(Path(path), root / side)))
            children[-1].start()
        for child in children:
            child.join()
        if any(child.exitcode != 0 for child in children):
            raise RuntimeError("reading an ARPA file failed (its process's error is above)")
        orders_a, orders_b = (sorted(int(f.name.split(".")[0])
                                     for f in (root / side).glob("*.hash.npy"))
                              for side in ("a", "b"))
        if orders_a != orders_b:
            return f"different orders ({len(orders_a)} against {len(orders_b)})"
        parts, worst_p, worst_bo, over, total = [], 0.0, 0.0, 0, 0
        for k in orders_a:
            x, y = ({name: np.load(root / side / f"{k}.{name}.npy", mmap_mode="r")
                     for name in ("hash", "logp", "bo")} for side in ("a", "b"))
            hx, hy = x["hash"], y["hash"]
            if (hx[1:] == hx[:-1]).any() or (hy[1:] == hy[:-1]).any():
                parts.append(f"{k}-grams: two entries of one file with one hash (a duplicate "
                             "or a collision)")
                continue
            if len(hx) != len(hy) or not np.array_equal(hx, hy):
                only = len(np.setdiff1d(hx, hy, assume_unique=True))
                parts.append(f"{k}-grams differ ({len(hx):,} against {len(hy):,}; "
                             f"{only:,} only in the first)")
                continue
            px, py = x["logp"], y["logp"]
            normal = np.isfinite(px) & (px > -99)
            if not np.array_equal(normal, np.isfinite(py) & (py > -99)):
                parts.append(f"{k}-grams: log p of -99 or -inf on one side only")
                continue
            dp = np.abs(px[normal] - py[normal])
            dbo = np.abs(x["bo"] - y["bo"])
            worst_p = max(worst_p, float(dp.max(initial=0.0)))
            worst_bo = max(worst_bo, float(dbo.max(initial=0.0)))
            over += int((dp > tolerance).sum() + (dbo > tolerance).sum())
            total += len(hx)
        sets = "same n-gram sets" if not parts else "; ".join(parts)
        return (f"{sets} ({total:,} entries); max |Δ log10 p| {worst_p:.2e}, "
                f"max |Δ log10 bo| {worst_bo:.2e}; {over:,} values differ by more than "
                f"{tolerance:g}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the sorted arrays go (24 bytes an entry of each file)")
    args = parser.parse_args()
    for path in (args.a, args.b):
        if not path.is_file():
            sys.exit(f"arpa_agreement: error: no such file: {path}")
    print(agreement(args.a, args.b, args.tolerance, args.workdir))


if __name__ == "__main__":
    main()
