"""benchmarks/scale_bench.py measures a process tree's memory from /proc: a child started by
vfork shares its parent's memory until it executes, and is counted once."""
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "scale_bench.py"

# holds 512 MiB and starts processes without end: Python's subprocess starts them by vfork
SPAWNER = """
import subprocess
import numpy as np
held = np.ones(1 << 26)
print(flush=True)
while True:
    subprocess.run(["true"])
"""


def test_a_process_holding_512_mib_while_it_starts_others_measures_512_mib():
    spec = importlib.util.spec_from_file_location("scale_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    process = subprocess.Popen([sys.executable, "-c", SPAWNER], stdout=subprocess.PIPE)
    try:
        process.stdout.readline()                   # the array is in memory
        peak = 0
        for _ in range(200):                        # ~1 in 20 samples catches a vfork child
            peak = max(peak, bench.tree_rss_kb(process.pid)[1])
            time.sleep(0.005)
    finally:
        process.kill()
        process.wait()
    assert 512 * 1024 <= peak < 1.5 * 512 * 1024
