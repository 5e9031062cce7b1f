"""Start-up cost of the command line: wall time and peak memory of fresh `nextword` processes.

    python benchmarks/cli_startup.py                              # this checkout
    python benchmarks/cli_startup.py --compare before=/path/to/other/src   # and another one

Rows: `nextword --help`; `nextword info` and `nextword eval --corpus ptb:test` of the PTB
3-gram (modified Kneser-Ney, built first into --workdir); the PTB 5-gram build, text to saved
model (`nextword train -n 5 --smoothing modified-kneser-ney --corpus ptb:train`). Each is run
--repeat times in a fresh process; the table gives medians. Peak memory is the child's max RSS
(os.wait4). Needs $NEXTWORD_DATA (or ../shared/data) with ptb/.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

HERE = Path(__file__).resolve().parents[1] / "src"


def run_once(src: Path, args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one `python -m nextword ARGS` with `src` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "nextword", *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}: {process.stderr.read().decode()[-500:]}")
    return wall, usage.ru_maxrss / 1024


def measure(src: Path, args: list[str], repeat: int) -> tuple[float, float]:
    runs = [run_once(src, args) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=SRC",
                        help="also measure the `src` directory of another checkout")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("runs/cli-startup"))
    args = parser.parse_args(argv)
    versions = [("this checkout", HERE)] + [(label, Path(src).resolve()) for label, _, src in
                                             (item.partition("=") for item in args.compare)]
    for _, src in versions:
        common.compile_sources(src)          # as installed: no module compiled on every start
    args.workdir.mkdir(parents=True, exist_ok=True)
    model = args.workdir / "ptb3"
    if not model.exists():
        run_once(HERE, ["train", "-n", "3", "--smoothing", "modified-kneser-ney", "--corpus",
                        "ptb:train", "-o", str(model)])
    commands = [
        ("nextword --help", ["--help"]),
        ("nextword info (PTB 3-gram)", ["info", str(model)]),
        ("nextword eval --corpus ptb:test (PTB 3-gram)", ["eval", str(model), "--corpus", "ptb:test"]),
        ("PTB 5-gram build, text to saved model", ["train", "-n", "5", "--smoothing",
                                                   "modified-kneser-ney", "--corpus", "ptb:train",
                                                   "-o", str(args.workdir / "ptb5")]),
    ]
    rows = []
    for name, command in commands:
        for label, src in versions:
            wall, rss = measure(src, command, args.repeat)
            rows.append([name, label, f"{wall:.2f}", f"{rss:.0f}"])
            print(f"# {name} [{label}]: {wall:.2f} s, {rss:.0f} MB", file=sys.stderr, flush=True)
    print(f"# fresh processes, medians of {args.repeat}; {common.machine()}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(common.table(["command", "code", "wall (s)", "peak RSS (MB)"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
