"""Shared helpers for benchmark scripts: machine description, timing, peak memory, tables."""
from __future__ import annotations

import datetime
import os
import platform
import resource
import statistics
import time
import tracemalloc


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numpy

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy "
            f"{numpy.__version__}, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")


def compile_sources(src) -> None:
    """Write the bytecode of every module under `src` (__pycache__), as installing a package
    does: child processes then read it instead of compiling each module on every start (~50 ms
    a command where PYTHONDONTWRITEBYTECODE is set, as on these machines)."""
    import compileall

    compileall.compile_dir(str(src), quiet=1)


def median_time(fn, repeat: int = 3):
    """Median wall time of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_python_memory(fn):
    """Peak memory allocated through Python (NumPy arrays included) during fn(), in MB."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6, result


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(headers, rows) -> str:
    """A GitHub-markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
