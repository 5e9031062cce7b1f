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
"""
from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3      # mallopt parameters, <malloc.h>
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
ENV = "NEXTWORD_KEEP_FREED_MEMORY"


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
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
