"""ARPA files: write them so KenLM and SRILM score like nextword; read any tool's, streaming.

The format (log10 throughout; the model stores natural logs and converts here, at the edge)::

    \\data\\
    ngram 1=N1
    ngram 2=N2
                                            (blank line)
    \\1-grams:
    log10 P(w)<TAB>w<TAB>log10 bo(w)
    ...
    \\2-grams:
    log10 P(w2 | w1)<TAB>w1 w2[<TAB>log10 bo(w1 w2)]     (no backoff column at the top order)
    ...
    \\end\\

Scoring (KenLM and SRILM): P(w | h) = P(h w) if stored, else bo(h) · P(w | h'), bo = 1 for a
context that is not stored: exactly `fallback="backoff"` of `nextword.ngram.estimators`.
What this writer does, following KenLM's lmplz (see docs/ngram.md):
  * `<unk>` first, then `<s>` with log10 probability 0 (it is never predicted; SRILM writes -99,
    which reads the same) and `</s>`; counts in the header equal the entries that follow;
  * `%.9g` numbers (lmplz writes the shortest text of the same 32-bit float; 9 digits is more);
  * a word that is not a context gets backoff 0 (log10 1); the file appears atomically.
"""
from __future__ import annotations

import math
import re
from itertools import islice
from pathlib import Path

import numpy as np

from nextword.errors import NextwordError, where
from nextword.fileio import BOM, READ_ERRORS, atomic_path, compression, open_binary, read_error
from nextword.ngram.backoff import backoff_logprobs, ngram_ids
from nextword.ngram.counts import NOT_FOUND, lookup
from nextword.ngram.tables import Tables
from nextword.parallel import in_pairs
from nextword.text.byteread import WordIndex, split_words, word_keys
from nextword.text.vocabulary import BOS, BOS_ID, EOS, RESERVED, UNK, Vocabulary

LN10 = math.log(10.0)
MISSING_UNK_LOG10 = -100.0          # KenLM's probability for <unk> when a file lacks it
_COUNT_LINE = re.compile(r"ngram (\d+)\s*=\s*(\d+)$")
_SECTION = re.compile(r"\\(\d+)-grams:$")


# ---- writing ----------------------------------------------------------------------------------
SIGNIFICANT = 9             # digits per number, as %.9g: more than a 32-bit float holds
SMALLEST = 1e-10            # |log10| below this is written 0 (a factor within 2.3e-10 of 1)
CHUNK_BYTES = 1 << 21       # one block of lines is formatted in a byte matrix about this big
PAD = 0                     # filler byte of the matrices, dropped before writing


# 10^k by table lookup (a gather, not a power per value); the 4-digit strings of 0..9999 as
# one uint32 each (4 ASCII bytes), and how many trailing zeros each has
_OFFSET = 400
with np.errstate(over="ignore"):
    _POWERS = 10.0 ** np.arange(-_OFFSET, _OFFSET + 1)
_ZERO, _DOT, _MINUS = ord("0"), ord("."), ord("-")
_N = np.arange(10000)
_FOUR = (np.stack([_N // 1000 % 10, _N // 100 % 10, _N // 10 % 10, _N % 10], axis=1)
         .astype(np.uint8) + _ZERO).view(np.uint32).ravel()
_TRAILING = sum((_N % d == 0).astype(np.int64) for d in (10, 100, 1000, 10000))
# [i]: the digits of i with its trailing zeros dropped (PAD bytes; 0 for i = 0); [10000 + i]:
# all four. Little-endian (as _FOUR's view): the first digit is the low byte.
_HALF = np.concatenate([_FOUR & ((1 << (8 * (4 - _TRAILING))) - 1).astype(np.uint32), _FOUR])
# "0" bytes 3..p+1 of a word: the zeros between "0." and the first digit of 10^-p .. 10^(1-p)
_ZEROS = np.array([sum(_ZERO << (8 * i) for i in range(3, 2 + p)) for p in range(5)],
                  dtype=np.uint64)
SHORTEST_EXPONENT = -4      # 10^-4 <= |x| < 10: the short layout (nearly every log10 p and bo)
assert PAD == 0 and SIGNIFICANT == 9         # digits 1 + 4 + 4, masked to PAD by multiplying


def _number_bytes(values: np.ndarray) -> np.ndarray:
    """log10 values as ASCII in a (N, W) byte matrix padded with PAD: SIGNIFICANT significant
    digits in positional notation (no exponent), trailing zeros dropped, -99 for -inf, no
    negative zero, as %.9g reads. m = round(|x| · 10^(S-1-e)) holds the S digits d_0..d_{S-1}
    (d_i stands for 10^(e-i)); rows of exponent -4 <= e <= 0 are laid out as two 64-bit words
    each (`_short_layout`), any other in `_positional_layout`."""
    S = SIGNIFICANT
    values = np.where(np.isneginf(values), -99.0, values)
    a = np.abs(values)
    zero = ~(a >= SMALLEST)
    a[zero] = 1.0
    e = np.floor(np.log10(a)).astype(np.int64)                 # decimal exponent
    m = np.rint(a * _POWERS[S - 1 - e + _OFFSET]).astype(np.int64)
    # log10 may be off by one next to a power of 10: settle e on m itself, where m is not S digits
    off = np.flatnonzero((m >= 10 ** S) | (m < 10 ** (S - 1)))
    if len(off):
        a_off, e_off = a[off], e[off]
        for _ in range(2):
            m_off = np.rint(a_off * _POWERS[S - 1 - e_off + _OFFSET]).astype(np.int64)
            e_off += (m_off >= 10 ** S).astype(np.int64) - (m_off < 10 ** (S - 1))
        m[off] = np.rint(a_off * _POWERS[S - 1 - e_off + _OFFSET]).astype(np.int64)
        e[off] = e_off
    m[zero] = 0
    e[zero] = 0
    negative = (values < 0) & ~zero
    short = (e >= SHORTEST_EXPONENT) & (e <= 0)
    if short.all():
        return _short_layout(negative, e, m)
    out = _positional_layout(negative[~short], e[~short], m[~short])
    if short.any():
        rows = _short_layout(negative[short], e[short], m[short])
        out = np.pad(out, ((0, 0), (0, max(0, rows.shape[1] - out.shape[1]))))
        whole = np.zeros((len(values), out.shape[1]), dtype=np.uint8)
        whole[~short], whole[short, :rows.shape[1]] = out, rows
        out = whole
    return out


def _short_layout(negative: np.ndarray, e: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The rows of -4 <= e <= 0, each in 16 bytes (two little-endian uint64), without a loop
    over exponents: with p = -e,

        p = 0:  [-] d_0 . d_1 .. d_8        p > 0:  [-] 0 . 0 (p-1 times) d_0 d_1 .. d_8

    the eight digits d_1..d_8 (trailing zeros dropped, by table) shifted into place as one
    word; the point only where digits follow it. Columns past the longest row are cut."""
    U = np.uint64
    first, rest = np.divmod(m, 10 ** 8)                              # d_0, d_1..d_8
    middle, low = np.divmod(rest, 10 ** 4)
    middle += (low > 0) * 10000            # all four digits of the middle where low has some
    digits = _HALF[middle].astype(U) | (_HALF[low].astype(U) << U(32))
    p = (-e).astype(U)
    shift = (p + U(3)) * U(8)                                 # bit of d_1 (of d_0 for p = 0)
    first = first.astype(U) + U(_ZERO)
    words = np.empty((len(m), 2), dtype=U)
    low_word = np.where(negative, U(_MINUS), U(PAD))
    low_word |= np.where(p > 0, U(_ZERO), first) << U(8)
    low_word |= np.where((p > 0) | (digits != 0), U(_DOT << 16), U(PAD))
    low_word |= _ZEROS[p]
    low_word |= np.where(p > 0, first, U(PAD)) << (shift - U(8))
    low_word |= digits << shift
    words[:, 0] = low_word
    words[:, 1] = digits >> (U(64) - shift)
    used = 8 + (int(words[:, 1].max()).bit_length() + 7) // 8 if len(m) else 0
    return words.view(np.uint8)[:, :used]


def _positional_layout(negative: np.ndarray, e: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Any exponent: the digits as a (N, S) matrix, then the rows of each exponent (a handful)
    laid out together::

        e >= 0:  [-] d_0 .. d_e [. d_{e+1} ..]          e < 0:  [-] 0 . 0 (-e-1 times) d_0 ..
    """
    S = SIGNIFICANT
    n = len(m)
    middle, low = m // 10 ** 4 % 10 ** 4, m % 10 ** 4
    digits = np.empty((n, S), dtype=np.uint8)
    digits[:, 0] = m // 10 ** 8 + _ZERO
    digits[:, 1:5] = _FOUR[middle].view(np.uint8).reshape(n, 4)
    digits[:, 5:] = _FOUR[low].view(np.uint8).reshape(n, 4)
    trailing = np.where(low > 0, _TRAILING[low], 4 + np.where(middle > 0, _TRAILING[middle], 4))
    last = np.where(m > 0, S - 1 - trailing, 0)                 # last non-zero digit
    # a digit after the point and after the last non-zero one is dropped
    digits *= np.arange(S, dtype=np.int16) <= np.maximum(e, last).astype(np.int16)[:, None]
    dot = np.where(last > e, _DOT, PAD).astype(np.uint8)
    low_e = int(e.min()) if n else 0
    exponents = np.flatnonzero(np.bincount(e - low_e)) + low_e if n else e
    width = 1 + max(S + 2, int(exponents.max()) + 2 if n else 0, S + 1 - low_e)
    out = np.full((n, width), PAD, dtype=np.uint8)
    out[:, 0] = np.where(negative, _MINUS, PAD)
    for x in exponents.tolist():
        rows = np.flatnonzero(e == x) if len(exponents) > 1 else slice(None)
        d = digits[rows]
        count = len(d)
        if x >= 0:       # zeros stand in for the digits of a number of 10 digits or more
            whole = min(x + 1, S)
            parts = [d[:, :whole], np.full((count, x + 1 - whole), _ZERO, np.uint8),
                     dot[rows, None], d[:, whole:]]
        else:
            parts = [np.full((count, 1), _ZERO, np.uint8), dot[rows, None],
                     np.full((count, -x - 1), _ZERO, np.uint8), d]
        block = np.concatenate(parts, axis=1)
        out[rows, 1:1 + block.shape[1]] = block
    return out


def _token_bytes(tokens: list) -> np.ndarray:
    """(V, L) UTF-8 bytes of each token, padded with PAD."""
    encoded = [t.encode("utf-8") for t in tokens]
    width = max(map(len, encoded))
    return np.frombuffer(b"".join(e.ljust(width, b"\0") for e in encoded),
                         dtype=np.uint8).reshape(len(encoded), width)


def _lines(columns: list) -> bytes:
    """Join per-row byte matrices (and single bytes) side by side; drop the padding."""
    n = next(len(c) for c in columns if isinstance(c, np.ndarray))
    parts = [c if isinstance(c, np.ndarray) else np.full((n, 1), c, dtype=np.uint8)
             for c in columns]
    matrix = np.concatenate(parts, axis=1)
    return matrix[matrix != PAD].tobytes()


def check_writable(model) -> None:
    """NextwordError unless the model's rule is ARPA's backoff (asked before the work)."""
    t: Tables = model.tables
    if t.fallback != "backoff":
        raise NextwordError(
            f"an ARPA file cannot express {model.estimator.get('name', 'this')} smoothing: unseen "
            "words after a seen context share its left-over mass uniformly, while ARPA backs off "
            "to the shorter context; use a backoff estimator (modified-kneser-ney, katz, ...)")
    if t.unseen_context_logbackoff != 0.0:
        raise NextwordError(
            "an ARPA file cannot express stupid backoff: it multiplies by the backoff factor even "
            "for a context never seen, where ARPA readers use 1")


def write_arpa(model, path: str | Path, progress=None) -> dict:
    """Write a backoff n-gram model as an ARPA file; return the number of entries per order.

    Streams: a block of lines at a time is formatted (numbers and words as byte matrices, see
    `_number_bytes`) and written, so memory holds two blocks, never the file; two are formatted
    at once (`nextword.parallel.in_pairs`) and written in order. `progress`, if given, is moved
    by the number of entries written."""
    check_writable(model)
    n = model.order
    words = _token_bytes(model.vocab.tokens)
    sizes = {1: model.vocab_size}
    sizes.update({k: len(model.keys[k]) for k in range(2, n + 1)})
    blocks = []
    for k in range(1, n + 1):
        width = 2 * 16 + k * (words.shape[1] + 1)                   # bytes per line, about
        step = max(1024, CHUNK_BYTES // width)
        # an empty table is one empty block: its section header is still written
        blocks += [(k, first, min(first + step, sizes[k]))
                   for first in range(0, max(sizes[k], 1), step)]

    def format_block(block: tuple) -> bytes:
        return _block_lines(model, words, *block) if block[2] > block[1] else b""

    def write(block: tuple, lines: bytes) -> None:
        k, first, stop = block
        if first == 0:
            out.write(f"\n\\{k}-grams:\n".encode())
        out.write(lines)
        if progress is not None:
            progress.update(stop - first)

    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(b"\\data\\\n")
        for k in range(1, n + 1):
            out.write(f"ngram {k}={sizes[k]}\n".encode())
        in_pairs(blocks, format_block, write)
        out.write(b"\n\\end\\\n")
    return sizes


def _block_lines(model, words: np.ndarray, k: int, first: int, stop: int) -> bytes:
    """The ARPA lines of rows first..stop of table k."""
    t: Tables = model.tables
    tab, space, newline = ord("\t"), ord(" "), ord("\n")
    rows = np.arange(first, stop)
    log10prob = np.asarray(t.logprob[k][first:stop], dtype=np.float64) / LN10
    if k == 1:
        log10prob[rows == BOS_ID] = 0.0              # lmplz: <s> is written as 0
        ids = rows[:, None]
    else:
        ids = ngram_ids(model.keys, model.vocab_size, k, rows)               # (B, k)
    columns = [_number_bytes(log10prob), tab]
    for j in range(k):
        columns += [words[ids[:, j]]] + ([space] if j < k - 1 else [])
    if k < model.order:
        log10bo = np.asarray(t.logbackoff[k][first:stop], dtype=np.float64) / LN10
        columns += [tab, _number_bytes(log10bo)]
    return _lines(columns + [newline])


# ---- reading ----------------------------------------------------------------------------------
class _Lines:
    """Line iterator that knows the line number (1-based) for error messages."""

    def __init__(self, path: Path):
        self.path = path
        self.compression = compression(path)
        self.handle = open_binary(path)            # gzip, bzip2 and xz read as KenLM reads them
        self.number = 0

    def next(self) -> str | None:
        try:
            raw = self.handle.readline()
        except READ_ERRORS as error:
            raise read_error(self.path, self.number + 1, error) from None
        if not raw:
            return None
        self.number += 1
        if self.number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        try:
            return raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise self.error(f"invalid UTF-8 at byte {error.start} of the line") from None

    def raw_block(self, count: int) -> list:
        """Up to `count` raw lines (bytes, newline kept), without advancing `number`."""
        try:
            return list(islice(self.handle, count))
        except READ_ERRORS as error:
            raise read_error(self.path, self.number + 1, error) from None

    def replay(self, raw: list, first: int):
        """Decode lines of a raw block one by one, as `next` would, numbering from `first`."""
        for j, line in enumerate(raw):
            self.number = first + j
            try:
                yield line.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise self.error(f"invalid UTF-8 at byte {error.start} of the line") from None

    def error(self, message: str, line: int | None = None) -> NextwordError:
        return NextwordError(f"{where(self.path, line or self.number)}: {message}")


def read_arpa(path: str | Path) -> "NgramModel":  # noqa: F821
    """Read an ARPA file line by line into an NgramModel (memory: the arrays, never the text)."""
    from nextword.ngram.model import NgramModel

    path = Path(path)
    if not path.exists():
        raise NextwordError(f"{path}: no such file")
    lines = _Lines(path)
    try:
        sizes = _read_header(lines)
        n = len(sizes)
        vocab, unigram_log10, unigram_bo, notes = _read_unigrams(lines, sizes[1], n)
        V = len(vocab)
        keys: list = [None, None]
        logprob = [None, unigram_log10 * LN10]
        logbackoff = [None, unigram_bo * LN10] if n > 1 else [None]
        blanks = 0
        for k in range(2, n + 1):
            ids, log10p, log10bo, first_line = _read_order(lines, k, sizes[k], n, vocab, keys,
                                                           sizes[k - 1])
            missing = _prefix_rows(keys, V, ids) == NOT_FOUND
            if missing.any():
                blanks += _insert_blanks(vocab, keys, logprob, logbackoff,
                                         np.unique(ids[missing, :k - 1], axis=0))
            key, sort = _sorted_order(lines, vocab, keys, ids, first_line)
            keys.append(key)
            logprob.append(log10p[sort] * LN10)
            if k < n:
                logbackoff.append(log10bo[sort] * LN10)
        if blanks:
            notes.append(f"{blanks:,} n-gram(s) used as contexts had no entry of their own; "
                         "added as blank entries (backoff 1, probability by backing off), as "
                         "KenLM does")
        _read_end(lines, n, sizes[n])
    finally:
        lines.handle.close()
    logprob[1][BOS_ID] = -np.inf                  # <s> is context only, whatever the file says
    tables = Tables(logprob, logbackoff, "backoff", 0.0, notes=notes)
    description = {"name": "arpa", "file": str(path)}
    if notes:
        description["notes"] = notes
    return NgramModel(vocab, n, keys, tables, description)


def _next_content(lines: _Lines) -> str | None:
    """The next non-blank line."""
    while True:
        line = lines.next()
        if line is None or line.strip():
            return line


def _read_header(lines: _Lines) -> dict:
    while True:                                   # comments or anything before \data\
        line = lines.next()
        if line is None:
            raise lines.error("not an ARPA file: no \\data\\ line")
        if line.strip() == "\\data\\":
            break
    sizes: dict = {}
    while True:
        line = lines.next()
        if line is None:
            raise lines.error("file ends inside the \\data\\ header")
        if not line.strip():
            if sizes:
                break
            continue
        match = _COUNT_LINE.match(line.strip())
        if not match:
            raise lines.error(f"expected 'ngram K=COUNT' in the \\data\\ header, got {line!r}")
        k, count = int(match.group(1)), int(match.group(2))
        if k != len(sizes) + 1:
            raise lines.error(f"header lists order {k} after order {len(sizes)}; orders must be "
                              "1, 2, 3, ... in turn")
        sizes[k] = count
    if sizes[1] == 0:
        raise lines.error("the header announces no unigrams")
    _check_sizes(lines, sizes)
    return sizes


# Each k-gram entry takes at least 2k + 2 bytes ("p<TAB>w w ... w<LF>"): an announced count that
# the file cannot hold is refused before anything is allocated for it (a header announcing
# 999,999,999,999 n-grams once asked for 14.6 TiB). Compressed files, whose size says little,
# are read in blocks that grow with what is actually there (see _read_order).
MAX_ORDER_ARPA = 20


def _check_sizes(lines: _Lines, sizes: dict) -> None:
    if len(sizes) > MAX_ORDER_ARPA:
        raise lines.error(f"the header announces order {len(sizes)}; at most {MAX_ORDER_ARPA} "
                          "is supported")
    if lines.compression is not None:
        return
    size = lines.path.stat().st_size
    need = sum(count * (2 * k + 2) for k, count in sizes.items())
    if need > size:
        k = max(sizes, key=lambda k: sizes[k])
        raise lines.error(f"the header announces {sizes[k]:,} {k}-grams, more than a file of "
                          f"{size:,} bytes can hold: the header is wrong or the file truncated",
                          line=1)


def _section_start(lines: _Lines, k: int, previous: int) -> None:
    line = _next_content(lines)
    if line is None:
        raise lines.error(f"file ends before the \\{k}-grams: section")
    if k > 1 and not line.strip().startswith("\\"):
        raise lines.error(f"the \\{k - 1}-grams: section has more entries than the {previous} "
                          "the header announces")
    match = _SECTION.match(line.strip())
    if not match or int(match.group(1)) != k:
        raise lines.error(f"expected the \\{k}-grams: section, got {line!r}")


def _entry(lines: _Lines, line: str | None, k: int, n: int, expected: int, got: int):
    """Split one entry line: (log10 prob, words, log10 backoff or 0)."""
    if line is None:
        raise lines.error(f"file ends inside the \\{k}-grams: section after {got} of the "
                          f"{expected} entries the header announces")
    parts = line.split()
    if not parts or parts[0].startswith("\\"):
        raise lines.error(f"the \\{k}-grams: section has {got} entries, the header announces "
                          f"{expected}")
    if len(parts) == k + 2 and k < n:
        backoff_text = parts[-1]
    elif len(parts) == k + 1:
        backoff_text = None
    elif len(parts) == k + 2:
        raise lines.error(f"{k}-grams are the highest order the header announces, and take no "
                          f"backoff column; got {line!r}")
    else:
        raise lines.error(f"a {k}-gram entry needs a probability, {k} word(s)"
                          f"{' and an optional backoff' if k < n else ''}; got {line!r}")
    try:
        prob = float(parts[0])
        backoff = float(backoff_text) if backoff_text is not None else 0.0
    except ValueError:
        raise lines.error(f"bad number in {line!r}") from None
    if not prob <= 0:
        raise lines.error(f"log10 probability must be <= 0, got {parts[0]!r}")
    if not math.isfinite(backoff):
        raise lines.error(f"log10 backoff must be a finite number, got {backoff_text!r}")
    return prob, parts[1:k + 1], backoff


def _read_unigrams(lines: _Lines, count: int, n: int):
    _section_start(lines, 1, 0)
    words, probs, backoffs = [], [], []           # lists: the count is not trusted until read
    for i in range(count):
        prob, gram, backoff = _entry(lines, lines.next(), 1, n, count, i)
        words.append(gram[0])
        probs.append(prob)
        backoffs.append(backoff)
    probs, backoffs = np.array(probs, dtype=np.float64), np.array(backoffs, dtype=np.float64)
    notes = []
    index = {w: i for i, w in enumerate(words)}
    if len(index) != len(words):
        raise lines.error("a word is listed twice among the unigrams")
    for token in (BOS, EOS):
        if token not in index:
            raise lines.error(f"the unigrams lack {token}, which every ARPA file must contain")
    if UNK not in index:
        notes.append(f"the file has no {UNK}; it gets log10 probability {MISSING_UNK_LOG10} "
                     "as in KenLM")
    tokens = list(RESERVED) + [w for w in words if w not in RESERVED]
    order = np.array([index.get(t, -1) for t in tokens])              # file position per id
    log10p = np.where(order >= 0, probs[order], MISSING_UNK_LOG10)
    log10bo = np.where(order >= 0, backoffs[order], 0.0)
    return Vocabulary(tokens), log10p, log10bo, notes


def _read_order(lines: _Lines, k: int, count: int, n: int, vocab: Vocabulary, keys: list,
                previous: int):
    _section_start(lines, k, previous)
    first_line = lines.number + 1
    # A plain file's size bounds the count its header announces (_check_sizes): the arrays
    # take that size at once (their pages are taken as the rows are written) rather than grow
    # by copies, each briefly doubling them. A compressed file's announced count is not
    # trusted: its arrays grow block by block, with the entries read. Word ids in int32 halve
    # the largest array.
    capacity = count if lines.compression is None else min(count, BLOCK_LINES)
    ids = np.empty((capacity, k), dtype=np.int32 if len(vocab) < 1 << 31 else np.int64)
    probs, backoffs = np.empty(capacity), np.zeros(capacity)
    index = vocab.index
    done = 0
    while done < count:                 # a block of lines at a time: the text is never whole
        size = min(BLOCK_LINES, count - done)
        if done + size > len(ids):
            capacity = min(count, max(done + size, 2 * len(ids)))
            ids = np.resize(ids, (capacity, k))
            probs, backoffs = np.resize(probs, capacity), np.resize(backoffs, capacity)
            backoffs[done:] = 0.0
        raw = lines.raw_block(size)
        part = slice(done, done + size)
        if not _parse_block(raw, size, k, n, vocab.word_index(), ids[part], probs[part],
                            backoffs[part]):
            # not the regular layout (or an error): line by line, with exact messages
            replay = lines.replay(raw, lines.number + 1)
            for i in range(done, done + size):
                line = next(replay, None)        # None: the file ended (number stays put)
                prob, gram, backoff = _entry(lines, line, k, n, count, i)
                try:
                    ids[i] = [index[w] for w in gram]
                except KeyError as error:
                    raise lines.error(f"{error.args[0]!r} appears in a {k}-gram but not among "
                                      "the unigrams") from None
                probs[i], backoffs[i] = prob, backoff
        lines.number = first_line + done + size - 1
        done += size
    return ids, probs, backoffs, first_line


def _prefix_rows(keys: list, V: int, ids: np.ndarray) -> np.ndarray:
    """Row in table k-1 of the (k-1)-word prefix of each k-gram (N, k); NOT_FOUND if absent."""
    rows = ids[:, 0].astype(np.int64)
    for j in range(2, ids.shape[1]):
        rows = lookup(keys[j], V, rows, ids[:, j - 1])
    return rows


def _insert_blanks(vocab: Vocabulary, keys: list, logprob: list, logbackoff: list,
                   grams: np.ndarray) -> int:
    """Add the j-grams `grams` (M, j) missing from table j as blank entries, as KenLM does for
    files (SRILM's pruned ones) where an n-gram's context has no entry of its own: a blank's
    probability is what backing off gives, ln bo(h) + ln P(w | h'), its backoff is 1, so
    scoring is unchanged. Missing prefixes are added first, recursively; returns how many."""
    from nextword.ngram.model import NgramModel

    V, j = len(vocab), grams.shape[1]
    rows = _prefix_rows(keys, V, grams)
    added = 0
    if (rows == NOT_FOUND).any():
        added += _insert_blanks(vocab, keys, logprob, logbackoff,
                                np.unique(grams[rows == NOT_FOUND, :j - 1], axis=0))
        rows = _prefix_rows(keys, V, grams)
    absent = lookup(keys[j], V, rows, grams[:, -1]) == NOT_FOUND
    grams, rows = grams[absent], rows[absent]
    if not len(grams):
        return added
    lower = NgramModel(vocab, j, keys[:j + 1], Tables(logprob[:j + 1], logbackoff[:j], "backoff", 0.0))
    blank_logprob = logbackoff[j - 1][rows] + backoff_logprobs(lower, j, grams)
    merged = np.concatenate([keys[j], rows * V + grams[:, -1]])
    order = np.argsort(merged, kind="stable")
    new_row = np.empty(len(merged), dtype=np.int64)
    new_row[order] = np.arange(len(merged))
    keys[j] = merged[order]
    logprob[j] = np.concatenate([logprob[j], blank_logprob])[order]
    logbackoff[j] = np.concatenate([logbackoff[j], np.zeros(len(grams))])[order]
    if len(keys) > j + 1:                          # renumber the parents of table j + 1
        keys[j + 1] = new_row[keys[j + 1] // V] * V + keys[j + 1] % V
    return added + len(grams)


def _sorted_order(lines: _Lines, vocab: Vocabulary, keys: list, ids: np.ndarray, first_line: int):
    """Keys of table k (sorted) and the permutation from file order; duplicates refused."""
    V = len(vocab)
    key = _prefix_rows(keys, V, ids) * V + ids[:, -1]
    sort = np.argsort(key, kind="stable")
    key = key[sort]
    duplicate = np.flatnonzero(key[1:] == key[:-1])
    if len(duplicate):
        i = int(sort[duplicate[0] + 1])
        raise lines.error(f"the {ids.shape[1]}-gram {' '.join(vocab.decode(ids[i]))!r} is listed "
                          "twice", first_line + i)
    return key, sort


BLOCK_LINES = 1 << 16


def _parse_block(raw: list, size: int, k: int, n: int, words: WordIndex, ids: np.ndarray,
                 probs: np.ndarray, backoffs: np.ndarray) -> bool:
    """Parse `size` entry lines laid out as lmplz and SRILM write them (tab-separated fields,
    one space between words, the same number of fields on every line) with array operations
    over the whole block (`nextword.text.byteread`: no string per field); False (nothing
    trusted) when the block is anything else."""
    if len(raw) != size or not raw[-1].endswith(b"\n"):
        return False
    block = b"".join(raw)
    if b"\r" in block:
        return False
    split = split_words(block)          # fields: runs of bytes > 32 (any other byte <= 32 fails
    if split is None:                   # the separators' test below: line by line then)
        return False
    data, starts, lengths, per_line = split
    fields = int(per_line[0]) if len(per_line) == size else 0
    if fields not in (k + 1, k + 2) or fields == k + 2 and k == n or (per_line != fields).any():
        return False
    # one separator after each field, the one the layout puts there, and nothing before a line
    ends = starts + lengths
    after = data.view(np.uint8).take(ends).reshape(size, fields)
    expected = np.full(fields, ord(" "), dtype=np.uint8)
    expected[[0, -1]] = ord("\t"), ord("\n")
    if fields == k + 2:
        expected[-2] = ord("\t")
    if starts[0] != 0 or (starts[1:] != ends[:-1] + 1).any() or (after != expected).any():
        return False
    columns = np.arange(len(starts)).reshape(size, fields)
    number = columns[:, 0::k + 1].ravel() if fields == k + 2 else columns[:, 0]
    if (lengths.take(number) > 16).any():
        return False
    first = word_keys(data, starts.take(number), lengths.take(number))
    second = word_keys(data, starts.take(number) + 8, np.clip(lengths.take(number) - 8, 0, 8))
    text = np.stack([first, second], axis=1).view("S16").ravel()          # each number's bytes
    try:
        values = text.astype(np.float64).reshape(size, -1)
    except ValueError:
        return False
    probs[:] = values[:, 0]
    if fields == k + 2:
        backoffs[:] = values[:, 1]
    at = columns[:, 1:k + 1].ravel()
    ids[:] = words.lookup(block, data, starts.take(at), lengths.take(at)).reshape(size, k)
    return bool((ids >= 0).all() and (probs <= 0).all() and np.isfinite(backoffs).all())


def _read_end(lines: _Lines, n: int, previous: int) -> None:
    line = _next_content(lines)
    if line is None:
        raise lines.error("file ends without the \\end\\ line")
    if not line.strip().startswith("\\"):
        raise lines.error(f"the \\{n}-grams: section has more entries than the {previous} "
                          "the header announces")
    if line.strip() != "\\end\\":
        if _SECTION.match(line.strip()):
            raise lines.error(f"section {line.strip()} is not announced in the \\data\\ header")
        raise lines.error(f"expected \\end\\ after the last section, got {line!r}")


def load_arpa(path, meta=None):
    """`load_model` entry for a file path."""
    return read_arpa(path)

