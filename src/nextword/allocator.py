"""Freed memory kept for reuse: the NumPy pipelines' temporaries stop costing page faults.

glibc's malloc serves a block above M_MMAP_THRESHOLD with fresh pages from the kernel and gives
them back on free; below it, from the heap, whose free top is handed back whenever it exceeds
M_TRIM_THRESHOLD. Both start at 128 KiB and rise as large blocks are freed, but the trim
threshold stays a few MB: a scorer that allocates and frees the same few-MB temporaries on every
call then faults in every 4 KiB page of them again, each call. Measured on the PTB 5-gram, PTB
test from Python: 22.8 ms -> 15.8 ms a pass (docs/benchmarks.md).

Fixed thresholds (which turn glibc's own adjustment off) keep that memory: blocks up to
MMAP_THRESHOLD (32 MiB, where glibc's adjustment tops out anyway) come from the heap, and up to
TRIM_THRESHOLD of its free top stays in the process. Set NEXTWORD_KEEP_FREED_MEMORY=0 to leave
the allocator as it is. Elsewhere than glibc (musl, macOS) nothing changes.

A build is the opposite case: its temporaries are large (a few MB to GB), each made a handful of
times, and kept in the heap they fragment it, so the process holds far more than it uses.
`returning_freed_memory()` lowers the mmap threshold to BUILD_MMAP_THRESHOLD while a build runs:
each block from 4 MiB gets its own pages and gives them back when freed. 4 MiB is where NumPy
asks the kernel for transparent huge pages, so those pages fault in 2 MiB at a time; with 1 MiB
the faults of the smaller blocks cost 12% of the time. Measured on the PTB 5-gram, text to ARPA:
peak RSS 159 -> 140 MB (1 MiB: 134 MB), the time within 2% (docs/benchmarks.md).
"""
from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3      # mallopt parameters, <malloc.h>
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
BUILD_MMAP_THRESHOLD = 4 << 20
ENV = "NEXTWORD_KEEP_FREED_MEMORY"
_state = {"mallopt": None, "builds": 0}        # set once the thresholds are raised


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (see the module doc); True if it did."""
    if os.environ.get(ENV, "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt          # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    # glibc returns 1 on success; musl's mallopt is a stub that returns 0
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    _state["mallopt"] = mallopt if done else None
    return done


@contextmanager
def returning_freed_memory():
    """Within the block, freed blocks of BUILD_MMAP_THRESHOLD and more go back to the kernel
    (see the module doc); nested blocks are one. Nothing changes where the thresholds were not
    raised (opted out, or not glibc)."""
    mallopt = _state["mallopt"]
    if mallopt is None:
        yield
        return
    if _state["builds"] == 0:
        mallopt(M_MMAP_THRESHOLD, BUILD_MMAP_THRESHOLD)
    _state["builds"] += 1
    try:
        yield
    finally:
        _state["builds"] -= 1
        if _state["builds"] == 0:
            mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
