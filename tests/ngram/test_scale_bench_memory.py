"""benchmarks/scale_bench.py measures a process tree's memory from /proc: a child started by
vfork shares its parent's memory until it executes, and is counted once; a child holding its own
memory is counted."""
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


# holds 64 MiB and starts a child that holds 256 MiB of its own
PARENT = """
import subprocess, sys
import numpy as np
held = np.ones(1 << 23)
child = subprocess.Popen([sys.executable, "-c",
                          "import sys, numpy as np; held = np.ones(1 << 25); print(flush=True); "
                          "sys.stdin.read()"],                  # ends when its parent does
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
child.stdout.readline()
print(flush=True)
sys.stdin.read()
"""


def scale_bench():
    spec = importlib.util.spec_from_file_location("scale_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_a_process_holding_512_mib_while_it_starts_others_measures_512_mib():
    bench = scale_bench()
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


def test_a_child_holding_its_own_memory_is_counted():
    bench = scale_bench()
    process = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
    try:
        process.stdout.readline()                   # both arrays are in memory
        _, anon = bench.tree_rss_kb(process.pid)
    finally:
        process.kill()
        process.wait()
    assert (64 + 256) * 1024 <= anon < 1.5 * (64 + 256) * 1024
