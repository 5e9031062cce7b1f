"""Importing nextword keeps freed memory for reuse (glibc): NumPy temporaries allocated and
freed over and over stop faulting their pages in again; NEXTWORD_KEEP_FREED_MEMORY=0 opts out."""
from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from nextword.allocator import ENV

# 8 arrays of 1 MiB made and freed 30 times; the page faults of the last 29 rounds
FAULTS = """
import resource, numpy as np, nextword
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def round_():
    arrays = [np.ones(1 << 17) for _ in range(8)]
    del arrays
round_()
before = faults()
for _ in range(29):
    round_()
print(faults() - before)
"""


def faults_with(setting: str) -> int:
    done = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True,
                          env={**os.environ, ENV: setting}, check=True)
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_freed_temporaries_are_reused_without_page_faults():
    pages = 29 * 8 * (1 << 20) // 4096            # what faulting every page each round costs
    kept, given_back = faults_with("1"), faults_with("0")
    assert given_back > pages // 2                 # glibc's default: the pages come back each round
    assert kept < pages // 50                      # kept: next to none


def test_opted_out_nothing_is_set():
    from nextword.allocator import keep_freed_memory

    code = f"import os; os.environ['{ENV}'] = '0'\n" \
           "from nextword.allocator import keep_freed_memory; print(keep_freed_memory())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    if platform.libc_ver()[0] == "glibc":
        assert keep_freed_memory() is True


# how much of a freed 16 MiB array the process gives back: inside a build's block, then after it
# (a block the heap can serve comes from the heap: the build's block comes first)
BUILD_RETURNS = """
import os, numpy as np, nextword
from nextword.allocator import returning_freed_memory
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
def given_back():
    a = np.ones(1 << 21)                   # 16 MiB, every page touched
    held = rss()
    del a
    return held - rss()
with returning_freed_memory():
    with returning_freed_memory():        # nested: one block
        pass
    inside = given_back()
given_back()
print(inside, given_back())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_build_gives_freed_blocks_back_and_the_scorer_keeps_them_after():
    done = subprocess.run([sys.executable, "-c", BUILD_RETURNS], capture_output=True, text=True,
                          env={**os.environ, ENV: "1"}, check=True)
    inside, after = map(int, done.stdout.split())
    assert inside >= 15 << 20                      # the build: back to the kernel at once
    assert after < 1 << 20                         # kept again once the build is over
