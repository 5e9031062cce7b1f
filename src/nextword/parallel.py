"""Two items of a NumPy pipeline at once: this thread and one helper thread.

NumPy lets go of the GIL inside its loops (sorts, gathers, arithmetic on large arrays), so two
threads keep both cores of a small machine busy where the work is in those loops: the ARPA
writer (PTB 5-gram 0.84 -> 0.52 s) and every stage of the bounded-memory build. Each pair of
items is computed side by side, then finished in order on this thread: whatever is not safe
to share (an open file, a running sum) belongs in `finish`, never in `compute`. One helper, not
a pool: glibc gives each thread that allocates its own arena of kept memory, so each thread is
memory too, and twice the working set is what callers budget for (PAIR).
"""
from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

PAIR = 2                 # items whose `compute` may run at the same time
_END = object()


def in_pairs(items: Iterable, compute: Callable, finish: Callable) -> None:
    """finish(item, compute(item)) for every item, in order; `compute` runs for two items at a
    time, the second on a helper thread, while `finish` runs on this one. An exception in either
    stops the loop (the helper's item is waited for first)."""
    items = iter(items)
    with ThreadPoolExecutor(1) as helper:
        for first in items:
            second = next(items, _END)
            # in a copy of this thread's context: np.errstate (a context variable) holds there too
            later = (helper.submit(contextvars.copy_context().run, compute, second)
                     if second is not _END else None)
            finish(first, compute(first))
            if later is not None:
                finish(second, later.result())
