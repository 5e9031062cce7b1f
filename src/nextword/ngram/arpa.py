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
from itertools import islice, repeat
from pathlib import Path

import numpy as np

from nextword.errors import NextwordError, where
from nextword.fileio import atomic_path
from nextword.ngram.backoff import backoff_logprobs, ngram_ids
from nextword.ngram.counts import NOT_FOUND, lookup
from nextword.ngram.tables import Tables
from nextword.text.vocabulary import BOS, BOS_ID, EOS, RESERVED, UNK, Vocabulary

LN10 = math.log(10.0)
MISSING_UNK_LOG10 = -100.0          # KenLM's probability for <unk> when a file lacks it
WRITE_ROWS = 1 << 18               # entries formatted at a time when writing
_COUNT_LINE = re.compile(r"ngram (\d+)\s*=\s*(\d+)$")
_SECTION = re.compile(r"\\(\d+)-grams:$")


# ---- writing ----------------------------------------------------------------------------------
def _fmt(values: np.ndarray) -> list:
    """log10 values as text: %.9g, -99 for -inf, no negative zero."""
    values = np.where(np.isneginf(values), -99.0, values) + 0.0      # + 0.0 turns -0.0 into 0.0
    return [f"{v:.9g}" for v in values.tolist()]


def write_arpa(model, path: str | Path) -> dict:
    """Write a backoff n-gram model as an ARPA file; return the number of entries per order."""
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
    vocab, n, V = model.vocab, model.order, model.vocab_size
    tokens = np.array(vocab.tokens, dtype=object)
    sizes = {1: V}
    sizes.update({k: len(model.keys[k]) for k in range(2, n + 1)})
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write("\\data\\\n")
        for k in range(1, n + 1):
            out.write(f"ngram {k}={sizes[k]}\n")
        for k in range(1, n + 1):
            out.write(f"\n\\{k}-grams:\n")
            for start in range(0, sizes[k], WRITE_ROWS):     # in blocks: memory stays bounded
                rows = np.arange(start, min(start + WRITE_ROWS, sizes[k]))
                log10prob = np.asarray(t.logprob[k][rows], dtype=np.float64) / LN10
                if k == 1:
                    log10prob[rows == BOS_ID] = 0.0             # lmplz: <s> is written as 0
                    grams = tokens[rows]
                else:
                    ids = ngram_ids(model.keys, V, k, rows)                   # (rows, k)
                    grams = tokens[ids[:, 0]]
                    for j in range(1, k):
                        grams = grams + " " + tokens[ids[:, j]]               # object arrays: C loop
                probs = _fmt(log10prob)
                if k < n:
                    backoffs = _fmt(np.asarray(t.logbackoff[k][rows], dtype=np.float64) / LN10)
                    out.writelines(f"{p}\t{g}\t{b}\n" for p, g, b in zip(probs, grams.tolist(), backoffs))
                else:
                    out.writelines(f"{p}\t{g}\n" for p, g in zip(probs, grams.tolist()))
        out.write("\n\\end\\\n")
    return sizes


# ---- reading ----------------------------------------------------------------------------------
class _Lines:
    """Line iterator that knows the line number (1-based) for error messages."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "rb")
        self.number = 0

    def next(self) -> str | None:
        raw = self.handle.readline()
        if not raw:
            return None
        self.number += 1
        try:
            return raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise self.error(f"invalid UTF-8 at byte {error.start} of the line") from None

    def raw_block(self, count: int) -> list:
        """Up to `count` raw lines (bytes, newline kept), without advancing `number`."""
        return list(islice(self.handle, count))

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
    return sizes


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
    words, probs, backoffs = [], np.empty(count), np.empty(count)
    for i in range(count):
        prob, gram, backoff = _entry(lines, lines.next(), 1, n, count, i)
        words.append(gram[0])
        probs[i], backoffs[i] = prob, backoff
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
    ids = np.empty((count, k), dtype=np.int64)
    probs, backoffs = np.empty(count), np.zeros(count)
    index = vocab.index
    index_bytes = {token.encode("utf-8"): i for token, i in index.items()}
    done = 0
    while done < count:                 # a block of lines at a time: the text is never whole
        size = min(BLOCK_LINES, count - done)
        raw = lines.raw_block(size)
        part = slice(done, done + size)
        if not _parse_block(raw, size, k, n, index_bytes, ids[part], probs[part], backoffs[part]):
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


def _parse_block(raw: list, size: int, k: int, n: int, index: dict, ids: np.ndarray,
                 probs: np.ndarray, backoffs: np.ndarray) -> bool:
    """Parse `size` entry lines laid out as lmplz and SRILM write them (tab-separated fields,
    one space between words, the same number of fields on every line) with a few calls over
    the whole block; False (nothing trusted) when the block is anything else."""
    if len(raw) != size or not raw[-1].endswith(b"\n"):
        return False
    block = b"".join(raw)
    buffer = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 10)                                               # (size,)
    if len(ends) != size:
        return False
    starts = np.concatenate([[0], ends[:-1] + 1])
    tabs = np.add.reduceat((buffer == 9).view(np.uint8), starts, dtype=np.int64)      # per line
    spaces = np.add.reduceat((buffer == 32).view(np.uint8), starts, dtype=np.int64)
    fields = int(tabs[0]) + 1
    if not (fields in (2, 3) and (tabs == fields - 1).all() and (spaces == k - 1).all()):
        return False
    if fields == 3 and k == n or (buffer == 13).any():
        return False
    parts = block.replace(b"\n", b"\t").split(b"\t")[:-1]                           # (size·f,)
    words = b" ".join(parts[1::fields]).split(b" ")                                   # (size·k,)
    try:
        probs[:] = np.array(parts[0::fields]).astype(np.float64)
        if fields == 3:
            backoffs[:] = np.array(parts[2::fields]).astype(np.float64)
    except ValueError:
        return False
    ids[:] = np.fromiter(map(index.get, words, repeat(-1)), dtype=np.int64,
                         count=len(words)).reshape(size, k)
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

