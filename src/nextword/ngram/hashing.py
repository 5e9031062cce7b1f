"""Open-addressing hash tables over the trie's sorted keys: a lookup is one or two gathers
instead of a binary search of ~22 steps (the scorer's and the sampler's hot path).

For a key table keys[0..N) (sorted, unique; key = parent_row * V + word) the hash table is an
array of rows, EMPTY where free::

    m       = ceil(N / load)                                  slots before the overflow tail
    home(x) = ((x · φ mod 2^64) >> 32) · m >> 32              Fibonacci hashing, then Lemire's
                                                              multiply-shift onto [0, m)
    slot    = home(x), home(x) + 1, ...                       linear probing, no wrap-around

Built without a Python loop: the rows sorted by home slot land at
``pos[i] = max(home[i], pos[i-1] + 1) = i + max_{j <= i} (home[j] - j)``, so slots hold keys in
increasing home order ("ordered linear probing"). A search stops at an empty slot or at a key
whose home lies after the query's: an absent key costs about as few probes as a present one.
The table ends with at least one EMPTY slot, so a probe never runs off it.

The load (keys per home slot) trades memory for probes: at LOAD = 0.35 a table takes 11.4 bytes
per key and the scorer's probes of PTB test against the PTB 5-gram took 24% less time than at
0.5 (the load of tables saved before the model recorded it, in model.json's "hash_load"; 8
bytes), at 0.25 (16 bytes) 34% less (docs/benchmarks.md). m follows from the number of keys and
the load, so a table is read with the load it was built with.

Most of a search is two gathers, the slot's row and that row's key (memory reads at random);
the keys still open after them go on a slot at a time, a few hundred after the second round.
Fetching a window of slots, or finishing the last ones by binary search in the sorted keys,
measured slower.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from nextword.errors import NextwordError
from nextword.ngram import radix
from nextword.parallel import in_pairs

LOAD = 0.35                     # keys per home slot, for the tables built now
LEGACY_LOAD = 0.5               # the tables of models saved before "hash_load" was recorded
EMPTY = -1
GOLDEN = np.uint64(0x9E3779B97F4A7C15)      # 2^64 / φ: spreads consecutive keys apart
SLOT_DTYPE = np.int32           # rows of tables under 2^31 n-grams; int64 above


def slot_count(n: int, load: float = LOAD) -> int:
    """m: the home slots of a table of n keys (the overflow tail comes on top)."""
    return max(1, math.ceil(n / load))


def home(keys: np.ndarray, m: int) -> np.ndarray:
    """The home slot of each key, in [0, m)."""
    keys = np.asarray(keys)
    unsigned = keys.view(np.uint64) if keys.dtype == np.int64 else keys.astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = unsigned * GOLDEN                     # one new array, then in place
    mixed >>= np.uint64(32)
    mixed *= np.uint64(m)
    mixed >>= np.uint64(32)
    return mixed.view(np.int64)


def build(keys: np.ndarray, load: float = LOAD) -> np.ndarray:
    """The slot array of a key table (see module doc): rows by slot, EMPTY where free."""
    n = len(keys)
    m = slot_count(n, load)
    rows, pos = place(home(keys, m), m)
    dtype = SLOT_DTYPE if n < np.iinfo(SLOT_DTYPE).max else np.int64
    slots = np.full(table_size(m, pos), EMPTY, dtype=dtype)
    slots[pos] = rows
    return slots


def place(homes: np.ndarray, m: int) -> tuple:
    """(rows, pos): the keys' rows in home order and the slot of each (ordered linear probing)."""
    rows = radix.argsort(homes, int(m - 1).bit_length())
    pos, _ = _positions(homes[rows], 0, NO_CARRY)
    return rows, pos


def table_size(m: int, pos: np.ndarray) -> int:
    """Slots of a table whose keys lie at `pos`: the m home slots, the overflow past them, and
    the free slot that ends every table."""
    return max(m, int(pos[-1]) + 1 if len(pos) else 0) + 1


NO_CARRY = np.iinfo(np.int64).min


def _positions(homes: np.ndarray, before: int, carry: int) -> tuple:
    """Slots of keys sorted by home slot, the first being the `before`-th key in home order:
    pos_i = i + max(carry, max_{j <= i} (h_j - j)). Returns (pos, the carry for the keys after
    them); `homes` is overwritten (it becomes pos)."""
    at = np.arange(before, before + len(homes), dtype=np.int64)
    pos = homes
    pos -= at
    np.maximum.accumulate(pos, out=pos)
    if len(pos):
        np.maximum(pos, carry, out=pos)
        carry = int(pos[-1])
    pos += at
    return pos, carry


# working bytes per key of a bucket: rows, homes and their sort (37, measured) and its slots
BUCKET_BYTES = 37 + math.ceil(np.dtype(SLOT_DTYPE).itemsize / LOAD)
SCAN_KEYS = 1 << 20         # keys read at a time while a bucket is gathered


def write(keys: np.ndarray, path: str | Path, memory: int) -> None:
    """Write `build(keys)` to `path` as a .npy file holding about `memory` bytes, for tables
    too large to build whole (the bounded-memory build): the slots are made one range of home
    slots (a bucket) at a time, each a pass over `keys` (a memory map) that keeps the keys homed
    there. Positions go on from the bucket before, as the running maximum runs on in `build`:

        pos_i = i + max(G, max_{j <= i in the bucket} (h_j - j)),   G = the same over earlier buckets

    with i the key's index in home order. The slots are appended as they are made; the header,
    whose length does not depend on the shape, is written again once the length is known."""
    n = len(keys)
    m = slot_count(n)
    dtype = np.dtype(SLOT_DTYPE if n < np.iinfo(SLOT_DTYPE).max else np.int64)
    buckets = min(m, max(1, math.ceil(n * BUCKET_BYTES / max(memory, 1))))
    bits = int(m - 1).bit_length()
    with open(path, "wb") as handle:
        header = _npy_header(dtype, m + 1)
        handle.write(header)
        written = 0                                   # slots appended so far
        before = 0                                    # keys in earlier buckets
        carry = NO_CARRY                              # G
        for b in range(buckets):
            low, high = b * m // buckets, (b + 1) * m // buckets
            row_parts, home_parts = [np.empty(0, dtype)], [np.empty(0, np.int64)]

            def homed_here(start: int) -> tuple:    # the keys of a slice homed in the bucket
                h = home(keys[start: start + SCAN_KEYS], m)
                inside = np.flatnonzero((h >= low) & (h < high))
                return (inside + start).astype(dtype), h[inside]

            def keep(start: int, found: tuple) -> None:
                row_parts.append(found[0])
                home_parts.append(found[1])

            in_pairs(range(0, n, SCAN_KEYS), homed_here, keep)     # two slices at a time
            rows = np.concatenate(row_parts)
            del row_parts
            homes = np.concatenate(home_parts)
            del home_parts
            order = radix.argsort(homes, bits)
            rows, homes = rows[order], homes[order]
            del order
            pos, carry = _positions(homes, before, carry)
            end = max(high, int(pos[-1]) + 1 if len(rows) else written)
            if b == buckets - 1:
                end += 1                              # the EMPTY slot that ends every table
            region = np.full(end - written, EMPTY, dtype=dtype)
            region[pos - written] = rows
            handle.write(region.data)
            written, before = end, before + len(rows)
            del region, rows, pos
        handle.seek(0)
        final = _npy_header(dtype, written)
        if len(final) != len(header):                 # pragma: no cover - NumPy pads headers
            raise RuntimeError("the .npy header changed length")
        handle.write(final)


def _npy_header(dtype: np.dtype, size: int) -> bytes:
    """The .npy header of a 1-D array (NumPy pads it so that its length does not depend on the
    size)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {
        "descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (size,)})
    return buffer.getvalue()


def find(slots: np.ndarray, keys: np.ndarray, query: np.ndarray, load: float = LOAD) -> np.ndarray:
    """Row of each query key in `keys`, or -1 where absent. The first probe settles most
    queries; each later round gathers the next slot of those still open. An EMPTY slot (-1)
    reads the last key, as Python indexing does; where that key equals the query the row
    returned is still the slot's -1, so no test of occupancy precedes the comparison. A row
    out of range (a damaged file) is a NextwordError."""
    query = np.asarray(query, dtype=np.int64)
    if not len(keys) or not len(query):
        return np.full(len(query), -1, dtype=np.int64)
    m = slot_count(len(keys), load)
    h = home(query, m)
    try:
        row = slots.take(h).astype(np.int64)
        miss = keys.take(row) != query
        # go on past a different key: the key in a home slot never has a later home
        open_ = np.flatnonzero(miss & (row >= 0))
        row |= -miss.view(np.int8)          # -1 where missed: no branch per key (np.where's cost 2x)
        q, h = query.take(open_), h.take(open_)
        pos = h + 1
        while len(open_):           # a few hundred keys after the second round: few calls a round
            r = slots.take(pos).astype(np.int64)
            stored = keys.take(r)
            hit = stored == q
            found = np.flatnonzero(hit)
            row[open_.take(found)] = r.take(found)
            # stop at a gap or at a key of a later home
            go_on = np.flatnonzero(~hit & (r >= 0) & (home(stored, m) <= h))
            open_, q, h, pos = open_.take(go_on), q.take(go_on), h.take(go_on), pos.take(go_on) + 1
    except IndexError:
        raise NextwordError(f"a hash table names rows beyond its {len(keys):,} keys: the "
                            f"model's hash_*.npy files are damaged") from None
    return row


def check(slots: np.ndarray, size: int, load: float = LOAD) -> str | None:
    """What is wrong with a loaded slot array for a table of `size` keys, or None."""
    if slots.ndim != 1 or slots.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        return f"expected a 1-D int32 or int64 array, got {slots.dtype}{slots.shape}"
    if len(slots) < slot_count(size, load) + 1 or slots[-1] != EMPTY:
        return f"{len(slots):,} slots do not fit a table of {size:,} keys"
    return None


KEY_LOAD = 0.15                 # keys per home slot of a KeyTable
KEY_SLOTS = 1 << 22             # ... unless that takes more slots than this (64 MB): then fuller,
MAX_KEY_LOAD = 0.5              # up to this (a vocabulary of 2 M words and more)


class KeyTable:
    """A fixed map from distinct non-zero int64 keys to values >= 0, for the small tables of
    the text readers (a vocabulary's words as byte keys, `nextword.text.byteread`). The keys and
    values sit in the slots themselves (0: a free slot), placed as `build` places rows, so a
    lookup gathers the key and the value at the home slot with no row in between; the trie's
    tables above keep rows instead, so that their keys stay sorted. A lookup that meets another
    key goes on to the next slot until its key or a free slot: at KEY_LOAD 1.7% of PTB test's
    words of up to 8 bytes do. The first 8 bytes of its 78,669 words were looked up among PTB's
    7,149 short words in 0.43 ms, against `find`'s 0.90 at LOAD with its rows' ids gathered
    after."""

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) and not keys.all():
            raise ValueError("a KeyTable's keys must be non-zero (0 marks a free slot)")
        self.m = slot_count(len(keys), min(MAX_KEY_LOAD, max(KEY_LOAD, len(keys) / KEY_SLOTS)))
        rows, pos = place(home(keys, self.m), self.m)
        size = table_size(self.m, pos)
        self.keys = np.zeros(size, dtype=np.int64)
        self.keys[pos] = keys.take(rows)
        self.values = np.full(size, -1, dtype=np.int64)
        self.values[pos] = np.asarray(values, dtype=np.int64).take(rows)
        self.size = len(keys)

    def __len__(self) -> int:
        return self.size

    def items(self) -> tuple:
        """(keys, values) of the table, in slot order."""
        held = np.flatnonzero(self.keys)
        return self.keys.take(held), self.values.take(held)

    def get(self, query: np.ndarray) -> np.ndarray:
        """The value of each query key, -1 where absent (a query of 0 meets a free slot's -1)."""
        query = np.asarray(query, dtype=np.int64)
        at = home(query, self.m)
        stored = self.keys.take(at)
        values = self.values.take(at)
        miss = stored != query
        open_ = np.flatnonzero(miss & (stored != 0))
        values |= -miss.view(np.int8)                       # -1 where missed
        q, at = query.take(open_), at.take(open_) + 1
        while len(open_):                                   # the table ends with a free slot
            stored = self.keys.take(at)
            hit = stored == q
            found = np.flatnonzero(hit)
            values[open_.take(found)] = self.values.take(at.take(found))
            go_on = np.flatnonzero(~hit & (stored != 0))
            open_, q, at = open_.take(go_on), q.take(go_on), at.take(go_on) + 1
        return values
