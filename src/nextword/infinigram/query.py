r"""Queries on a suffix-array index, vectorised over many queries at once.

The suffixes beginning with a string u occupy one range of ranks [lo, hi) of the suffix array,
so count(u) = hi - lo:

    rank:    lo(u) ................................................ hi(u)
    suffix:  u ·       u a ...   u a ...   u b ...   u b ...   u d ...        (u = k tokens)
                       \________ narrow(u, a) _______/
    Inside the range of u the tokens at offset k = len(u) are sorted (the ·: a suffix that ends
    there sorts first, read as -1), so the range of u+a is two binary searches inside it.

`ranges` (counts) finds a whole query in two binary searches over windows of the corpus;
`narrow` extends many strings by one token each, which is what scoring needs (every suffix
length of every position, `suffix_levels`). Both run their binary searches for all queries at
once (a NumPy step per halving), never a Python loop per query or per token.

The counts the models need for a context h (k tokens) and a word w:
    c(h)         occurrences of h followed by some token: count(h) less one if h ends the corpus
    c(h w)       count of h + w
    N1+(h •)     distinct tokens that follow h (`distinct_next`)
    N1+(• h w)   distinct tokens just before h w (`distinct_previous`): Kneser-Ney's count
    N1+(• h •)   distinct (before, after) pairs around h (`distinct_previous` with an offset)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from nextword.text.vocabulary import EOS_ID

SEGMENT_BLOCK = 1 << 22      # ranks gathered at once when reading whole ranges


def token_at(index, positions: np.ndarray) -> np.ndarray:
    """tokens[p] as int64, -1 where p is outside the corpus (past its end, or before it)."""
    positions = np.asarray(positions, dtype=np.int64)
    inside = (positions >= 0) & (positions < index.n)
    out = index.tokens[np.where(inside, positions, 0)].astype(np.int64)
    out[~inside] = -1
    return out


def narrow(index, lo: np.ndarray, hi: np.ndarray, offset, target: np.ndarray):
    """The sub-ranges of [lo, hi) whose suffixes have `target` at `offset` (every suffix in a
    range shares its first `offset` tokens): lower bounds of target and of target + 1, found
    by one vectorised binary search over all 2Q bounds."""
    q = len(lo)
    key = np.concatenate([target, target + 1]).astype(np.int64)
    a = np.concatenate([lo, lo]).astype(np.int64)          # invariant: key(a - 1) < key
    b = np.concatenate([hi, hi]).astype(np.int64)          # invariant: key(b) >= key
    off = np.broadcast_to(np.asarray(offset, dtype=np.int64), (q,))
    off = np.concatenate([off, off])
    live = np.flatnonzero(a < b)
    while len(live):
        mid = (a[live] + b[live]) >> 1
        right = token_at(index, index.sa[mid].astype(np.int64) + off[live]) < key[live]
        a[live] = np.where(right, mid + 1, a[live])
        b[live] = np.where(right, b[live], mid)
        live = live[a[live] < b[live]]
    return a[:q], a[q:]


def unigram_range(index, words: np.ndarray):
    """Rank range of each single word (from the cumulative unigram counts: no search)."""
    words = np.asarray(words, dtype=np.int64)
    valid = (words >= 0) & (words < len(index.unigram))
    w = np.where(valid, words, 0)
    lo = index.starts[w]
    hi = np.where(valid, index.starts[w + 1], lo)
    return lo, hi


SCALAR_QUERIES = 4     # up to this many queries, a plain bisect per query beats array steps


def ranges(index, queries: Sequence[np.ndarray]):
    """[lo, hi) of every query (id arrays of any lengths; an id < 0 matches nothing).

    The first token's range comes from the unigram table; inside it, two binary searches
    compare the rest of the query with whole windows of the corpus (lexicographically; a
    window cut short by the corpus's end sorts first), so the number of steps is log2 of the
    first word's count whatever n is. Many queries: every step is a few NumPy operations on
    all of them at once. A few queries: Python's bisect over the windows (each step a slice
    of the memory map), which avoids the per-operation cost of NumPy on tiny arrays."""
    lengths = np.array([len(q) for q in queries], dtype=np.int64)
    lo = np.zeros(len(queries), dtype=np.int64)
    hi = np.full(len(queries), index.n, dtype=np.int64)        # the empty string: every suffix
    nonempty = np.flatnonzero(lengths > 0)
    if len(nonempty) == 0:
        return lo, hi
    width = int(lengths.max())
    table = np.full((len(queries), width), -1, dtype=np.int64)        # (Q, max length)
    for i in nonempty.tolist():        # building the query table, not a per-token loop
        table[i, : lengths[i]] = queries[i]
    lo[nonempty], hi[nonempty] = unigram_range(index, table[nonempty, 0])
    todo = nonempty[(lengths[nonempty] > 1) & (hi[nonempty] > lo[nonempty])]
    impossible = (table < 0) & (np.arange(width) < lengths[:, None])
    hi[impossible.any(axis=1)] = lo[impossible.any(axis=1)]
    todo = todo[~impossible[todo].any(axis=1)]
    if len(todo) <= SCALAR_QUERIES:
        for i in todo.tolist():
            lo[i], hi[i] = _bisect_range(index, table[i, 1:lengths[i]], int(lo[i]), int(hi[i]))
    else:
        lo[todo], hi[todo] = _window_ranges(index, table[todo, 1:], lengths[todo] - 1,
                                            lo[todo], hi[todo])
    return lo, np.maximum(hi, lo)


def _bisect_range(index, rest: np.ndarray, lo: int, hi: int):
    """Inside [lo, hi) (suffixes sharing the first token), the ranks whose next tokens are `rest`."""
    import bisect

    k, tokens, sa, target = len(rest), index.tokens, index.sa, tuple(rest.tolist())

    def window(rank):
        start = int(sa[rank]) + 1
        return tuple(tokens[start:start + k].tolist())

    ranks = range(lo, hi)
    first = bisect.bisect_left(ranks, target, key=window)
    last = bisect.bisect_right(ranks, target, lo=first, key=window)
    return lo + first, lo + last


def _window_ranges(index, rest: np.ndarray, rest_length: np.ndarray, lo, hi):
    """Vectorised `_bisect_range` for many queries: rest (Q, W) padded, rest_length (Q,)."""
    q, w = rest.shape
    key = np.concatenate([rest, rest])                          # (2Q, W): lower, upper bounds
    length = np.concatenate([rest_length, rest_length])
    upper = np.arange(2 * q) >= q
    a = np.concatenate([lo, lo]).astype(np.int64)
    b = np.concatenate([hi, hi]).astype(np.int64)
    offsets = np.arange(1, w + 1)
    live = np.flatnonzero(a < b)
    while len(live):
        mid = (a[live] + b[live]) >> 1
        window = token_at(index, index.sa[mid].astype(np.int64)[:, None] + offsets)   # (L, W)
        beyond = offsets[None, :] > length[live][:, None]                # past the query's end
        differ = (window != key[live]) & ~beyond
        first = differ.argmax(axis=1)
        rows = np.arange(len(live))
        smaller = differ.any(axis=1) & (window[rows, first] < key[live][rows, first])
        equal = ~differ.any(axis=1)
        right = smaller | (equal & upper[live])      # lower bound: window < key; upper: <= key
        a[live] = np.where(right, mid + 1, a[live])
        b[live] = np.where(right, b[live], mid)
        live = live[a[live] < b[live]]
    return a[:q], a[q:]


def count(index, queries: Sequence[np.ndarray]) -> np.ndarray:
    """Occurrences of each n-gram in the corpus (the empty one: N)."""
    lo, hi = ranges(index, queries)
    return hi - lo


def ends_corpus(index, lo: np.ndarray, hi: np.ndarray, length) -> np.ndarray:
    """Whether the range (of strings of `length` tokens) holds the suffix that is the last
    `length` tokens of the corpus: that occurrence has no continuation. That suffix is the
    shortest with its first `length` tokens, so it is the first rank of its own range: the
    range holds it exactly when it starts at that rank."""
    length = np.broadcast_to(np.asarray(length, dtype=np.int64), lo.shape)
    lengths = np.unique(length[(length > 0) & (length <= index.n)])
    last_lo, _ = ranges(index, [np.asarray(index.tokens[index.n - k:], dtype=np.int64)
                                for k in lengths.tolist()])
    first_rank = np.full(len(lo), -1, dtype=np.int64)
    known = np.isin(length, lengths)
    first_rank[known] = last_lo[np.searchsorted(lengths, length[known])]
    return (hi > lo) & (lo == first_rank)


def context_count(index, lo, hi, length) -> np.ndarray:
    """c(h): occurrences of h that some token follows."""
    return (hi - lo) - ends_corpus(index, lo, hi, length)


def _segments(lo: np.ndarray, hi: np.ndarray):
    """Yield (range numbers, ranks) for the ranges, all their ranks flattened, in blocks of
    about SEGMENT_BLOCK ranks (a single larger range is one block)."""
    sizes = hi - lo
    ends = np.cumsum(sizes)
    first = 0
    while first < len(lo):
        last = int(np.searchsorted(ends, (ends[first - 1] if first else 0) + SEGMENT_BLOCK,
                                   side="right"))
        last = max(last, first + 1)
        part = np.arange(first, last)
        segment = np.repeat(part, sizes[part])
        offsets = np.arange(len(segment)) - np.repeat(np.cumsum(sizes[part]) - sizes[part], sizes[part])
        yield segment, lo[segment] + offsets
        first = last


def _unique_ranges(lo, hi, offset):
    """The distinct (range, offset) pairs and the inverse mapping back to the inputs. Distinct
    nonempty ranges of strings of one length are disjoint, so reading all their ranks reads
    at most N of them per length."""
    offset = np.broadcast_to(np.asarray(offset, dtype=np.int64), lo.shape)
    # (one range can belong to u and to u+v when v always follows u: the offset is in the key)
    order = np.lexsort((offset, hi, lo))
    new = np.ones(len(lo), dtype=bool)
    new[1:] = ((lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
               | (offset[order][1:] != offset[order][:-1]))
    first = order[new]
    inverse = np.empty(len(lo), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return lo[first], hi[first], offset[first], inverse


def _count_distinct(segment: np.ndarray, key: np.ndarray, segments: int) -> np.ndarray:
    """Distinct keys (>= 0) per segment number: one sort of segment * span + key when that
    fits in an int64 (it does unless |V|² times the ranges passes 2**62), else a lexsort."""
    if len(key) == 0:
        return np.zeros(segments, dtype=np.int64)
    span = int(key.max()) + 1
    if segments * span < 2**62:
        combined = np.sort(segment * span + key)
        new = np.ones(len(combined), dtype=bool)
        new[1:] = combined[1:] != combined[:-1]
        return np.bincount(combined[new] // span, minlength=segments)
    order = np.lexsort((key, segment))
    segment, key = segment[order], key[order]
    new = np.ones(len(key), dtype=bool)
    new[1:] = (segment[1:] != segment[:-1]) | (key[1:] != key[:-1])
    return np.bincount(segment[new], minlength=segments)


def distinct_next(index, lo: np.ndarray, hi: np.ndarray, offset) -> np.ndarray:
    """N1+(h •): distinct tokens that follow each range's string (of `offset` tokens). The
    followers are sorted inside a range, so they are the runs of equal tokens there."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64)
    ulo, uhi, uoff, inverse = _unique_ranges(lo, hi, offset)
    out = np.zeros(len(ulo), dtype=np.int64)
    for segment, ranks in _segments(ulo, uhi):
        following = token_at(index, index.sa[ranks].astype(np.int64) + uoff[segment])
        new_run = np.ones(len(ranks), dtype=bool)
        new_run[1:] = (following[1:] != following[:-1]) | (segment[1:] != segment[:-1])
        new_run &= following >= 0                    # the corpus's end is no follower
        out += np.bincount(segment[new_run], minlength=len(ulo))
    return out[inverse]


def distinct_previous(index, lo: np.ndarray, hi: np.ndarray, offset=None) -> np.ndarray:
    """N1+(• u) for each range's string u: distinct tokens just before its occurrences (the
    corpus's start counts as one). With `offset` = len(u): N1+(• u •), distinct (before, after)
    pairs, occurrences without a follower left out. Unlike followers, the tokens before are
    in no order inside a range: each block is sorted by (range, key)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64)
    ulo, uhi, uoff, inverse = _unique_ranges(lo, hi, 0 if offset is None else offset)
    out = np.zeros(len(ulo), dtype=np.int64)
    width = len(index.unigram) + 1
    for segment, ranks in _segments(ulo, uhi):
        start = index.sa[ranks].astype(np.int64)
        key = token_at(index, start - 1) + 1         # 0 stands for the corpus's start
        if offset is not None:
            following = token_at(index, start + uoff[segment])
            key = key * width + following
            segment, key = segment[following >= 0], key[following >= 0]
        out += _count_distinct(segment, key, len(ulo))
    return out[inverse]


def most_frequent_next(index, lo: np.ndarray, hi: np.ndarray, offset):
    """(token, count) of each range's most frequent follower (ties: the smaller id): the
    ∞-gram's prediction. Runs of equal followers, the longest per range."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    ulo, uhi, uoff, inverse = _unique_ranges(lo, hi, offset)
    best_token = np.full(len(ulo), -1, dtype=np.int64)
    best_count = np.zeros(len(ulo), dtype=np.int64)
    for segment, ranks in _segments(ulo, uhi):
        following = token_at(index, index.sa[ranks].astype(np.int64) + uoff[segment])
        new_run = np.ones(len(ranks), dtype=bool)
        new_run[1:] = (following[1:] != following[:-1]) | (segment[1:] != segment[:-1])
        run_start = np.flatnonzero(new_run)
        run_length = np.diff(np.append(run_start, len(ranks)))
        run_token, run_segment = following[run_start], segment[run_start]
        run_length[run_token < 0] = 0
        # per segment: the longest run; sorting by (segment, -length, token) puts it first
        order = np.lexsort((run_token, -run_length, run_segment))
        head = np.ones(len(order), dtype=bool)
        head[1:] = run_segment[order][1:] != run_segment[order][:-1]
        pick = order[head]
        better = run_length[pick] > best_count[run_segment[pick]]
        best_token[run_segment[pick][better]] = run_token[pick][better]
        best_count[run_segment[pick][better]] = run_length[pick][better]
    return best_token[inverse], best_count[inverse]


def continuations(index, context: np.ndarray):
    """(ids, counts) of every token that follows the context, ids ascending."""
    context = np.asarray(context, dtype=np.int64)
    if len(context) == 0:
        counts = continuation_unigram(index)
        ids = np.flatnonzero(counts)
        return ids, counts[ids]
    lo, hi = ranges(index, [context])
    following = token_at(index, index.sa[lo[0]:hi[0]].astype(np.int64) + len(context))
    ids, counts = np.unique(following[following >= 0], return_counts=True)
    return ids, counts


def continuation_unigram(index) -> np.ndarray:
    """c(w) after the empty context: the tokens at positions 1..N-1 (the leading </s> is the
    first sentence's <s>, never predicted)."""
    counts = np.asarray(index.unigram, dtype=np.int64).copy()
    counts[int(index.tokens[0])] -= 1
    return counts


def longest_suffix(index, context: np.ndarray, followed: bool = False):
    """(k, count) for the longest suffix of the context (k tokens) that occurs in the corpus;
    with `followed`, that occurs followed by some token (the ∞-gram's suffix). k = 0: none."""
    context = np.asarray(context, dtype=np.int64)
    m = len(context)
    if m == 0:
        return 0, index.n
    suffixes = [context[m - k:] for k in range(1, m + 1)]
    lo, hi = ranges(index, suffixes)
    lengths = np.arange(1, m + 1)
    counts = context_count(index, lo, hi, lengths) if followed else hi - lo
    seen = np.flatnonzero(counts > 0)
    if len(seen) == 0:
        return 0, index.n
    k = int(seen.max())            # counts fall as the suffix grows, so seen = 1..k
    return k + 1, int(counts[k])


# ---- every suffix of every position of a token stream ---------------------------------------
@dataclass
class Level:
    """Statistics of the k-token context of some positions of a stream (k = `length`).

    at: positions (into the stream) whose context x[t-k:t] occurs followed by something;
    c_h: c(x[t-k:t]); c_hw: c(x[t-k:t+1]); lo, hi: the context's rank range; joint_lo,
    joint_hi: that of x[t-k:t+1]."""

    length: int
    at: np.ndarray
    c_h: np.ndarray
    c_hw: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    joint_lo: np.ndarray
    joint_hi: np.ndarray


def suffix_levels(index, stream: np.ndarray, sentence_start: np.ndarray):
    """For a stream of sentences (each: </s> as <s>, its words, </s>) yield a Level for
    k = 1, 2, ... until no context of that length occurs; position t is predicted from the
    contexts x[t-k:t] inside its sentence, t - k >= sentence_start[t].

    The string x[s:s+L] is, at once, the context of length L of position s + L and, with its
    next token, the joint n-gram of that position. So each start s is narrowed token by token
    (all starts of the stream together) and dropped when its string stops occurring: the work
    per level is the number of contexts still seen, which falls fast with k.
    """
    stream = np.asarray(stream, dtype=np.int64)
    sentence_start = np.asarray(sentence_start, dtype=np.int64)
    m = len(stream)
    # the end (exclusive) of the sentence of each position
    starts = np.unique(sentence_start)
    ends = np.append(starts[1:], m)[np.searchsorted(starts, sentence_start)]
    s = np.arange(m, dtype=np.int64)
    lo, hi = unigram_range(index, stream)            # strings of length L = 1
    length = 1
    while True:
        # x[s:s+L] is a context for position s + L if that position is in the sentence
        keep = (hi > lo) & (s + length < ends[s])
        s, lo, hi = s[keep], lo[keep], hi[keep]
        if len(s) == 0:
            return
        c_h = context_count(index, lo, hi, length)
        t = s + length
        new_lo, new_hi = narrow(index, lo, hi, length, stream[t])
        followed = c_h > 0
        yield Level(length, t[followed], c_h[followed], (new_hi - new_lo)[followed],
                    lo[followed], hi[followed], new_lo[followed], new_hi[followed])
        s, lo, hi = s, new_lo, new_hi
        length += 1
