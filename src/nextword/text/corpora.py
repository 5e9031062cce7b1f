"""Corpora: files the user names, the standard benchmarks by name, and an embedded default.

A corpus is a re-iterable stream of sentences, each a list of token strings. By default every
line is a sentence (blank lines included, as KenLM counts them: a blank line is ``<s> </s>``);
``stream=True`` treats each file as one long sentence.

Corpus specs understood by :func:`load_corpus`:
    path/to/file.txt            a plain UTF-8 file (whitespace tokens unless a tokenizer is named)
    ptb:train|valid|test        Penn Treebank (Mikolov's 10k-word version)
    wikitext-2:train|valid|test WikiText-2 (tokenised, with <unk>)
    tinyshakespeare[:train|valid]  Karpathy's Tiny Shakespeare (first 90% / last 10% of lines)
    default[:train|valid|test]  text embedded in every Python installation (see below)

Lines already in memory (a list of str) become a corpus through :func:`lines_corpus`.

The standard corpora are read from ``$NEXTWORD_DATA`` or, failing that, ``../shared/data``
beside the checkout (or beside the current directory).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from nextword import fileio
from nextword.errors import NextwordError
from nextword.fileio import read_blocks, read_lines
from nextword.text.tokenize import get_tokenizer, word_tokenize

DATA_ENV = "NEXTWORD_DATA"

# name -> (directory, {split: file}, tokenizer)
STANDARD = {
    "ptb": ("ptb", {s: f"ptb.{s}.txt" for s in ("train", "valid", "test")}, "whitespace"),
    "wikitext-2": (
        "wikitext-2",
        {s: f"wiki.{s}.tokens" for s in ("train", "valid", "test")},
        "whitespace",
    ),
    "tinyshakespeare": ("tinyshakespeare", {s: "input.txt" for s in ("all", "train", "valid")}, "word"),
}
DEFAULT_SPLITS = ("train", "valid", "test")


@dataclass
class Corpus:
    """A named, re-iterable source of tokenised sentences. `blocks`, where set, gives the same
    sentences as checked bytes, a block of whole lines at a time, one sentence a line, split on
    whitespace: what `nextword.text.byteread` numbers without a string per word."""

    name: str
    produce: Callable[[], Iterator[list[str]]] = field(repr=False)
    blocks: Callable[[], Iterator[bytes]] | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[list[str]]:
        return self.produce()

    def num_tokens(self) -> int:
        """Words plus one </s> per sentence: the tokens a model predicts."""
        return sum(len(sentence) + 1 for sentence in self)


def data_dir() -> Path:
    """Where the standard corpora live: $NEXTWORD_DATA, else ../shared/data near us."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    checkout = Path(__file__).resolve().parents[3]
    for candidate in (checkout.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return checkout.parent / "shared" / "data"


def file_corpus(paths, tokenizer: str = "whitespace", stream: bool = False, name: str | None = None,
                line_range: tuple[float, float] = (0.0, 1.0)) -> Corpus:
    """Sentences from plain-text files; `line_range` keeps a fraction of the lines (for splits)."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    tokenize = get_tokenizer(tokenizer)
    for path in paths:
        if not path.exists():
            raise NextwordError(f"{path}: no such file")
        if path.is_file() and path.stat().st_size == 0:
            raise NextwordError(f"{path}: empty file, nothing to read")

    def lines(path: Path) -> Iterator[str]:
        if line_range == (0.0, 1.0):
            yield from read_lines(path)
            return
        all_lines = list(read_lines(path))
        start, stop = (round(f * len(all_lines)) for f in line_range)
        yield from all_lines[start:stop]

    def produce() -> Iterator[list[str]]:
        for path in paths:
            if stream:
                yield [token for line in lines(path) for token in tokenize(line)]
            else:
                for line in lines(path):
                    yield tokenize(line)

    def blocks() -> Iterator[bytes]:
        for path in paths:
            yield from read_blocks(path)

    whole_lines = tokenizer == "whitespace" and not stream and line_range == (0.0, 1.0)
    return Corpus(name or ",".join(str(p) for p in paths), produce, blocks if whole_lines else None)


def lines_corpus(lines: Iterable[str], name: str = "lines") -> Corpus:
    """Sentences from lines of text in memory (a list, re-iterable; any other iterable is read
    once): each line split on whitespace (`str.split`), as a file's lines are, and as kenlm's
    `Model.score` takes a line. The lines are checked as a file's are (a control character is
    an error naming its line, counted from 1) and given as bytes too (`Corpus.blocks`, joined
    ~READ_BLOCK bytes at a time), so that evaluating them numbers their words without a
    string per word (against the kenlm module given the same lines, PTB test 0.94-1.13x its
    speed, 0.90-0.93x from token lists: docs/benchmarks.md)."""
    if isinstance(lines, (str, bytes)):
        raise NextwordError(f"{name}: expected a list of lines, got one {type(lines).__name__}")

    def produce() -> Iterator[list[str]]:
        for chunk, _ in _line_blocks(lines, name):
            yield from map(str.split, chunk)

    def blocks() -> Iterator[bytes]:
        for _, block in _line_blocks(lines, name):
            yield block

    return Corpus(name, produce, blocks)


def _line_blocks(lines: Iterable[str], name: str) -> Iterator[tuple]:
    """(lines, their bytes joined and checked) of successive chunks of `lines`, sized for about
    READ_BLOCK bytes from the length of the chunk before."""
    iterator = iter(lines)
    before, size = 0, max(1, fileio.READ_BLOCK >> 10)    # lines before it; lines in the next
    while chunk := list(islice(iterator, size)):
        try:        # each line and its newline, in one string (text + "\n" would copy it again)
            text = "\n".join(chunk + [""])
        except TypeError:
            at = next(i for i, line in enumerate(chunk) if not isinstance(line, str))
            raise NextwordError(f"{name}:{before + at + 1}: expected a line of text (str), got "
                                f"{type(chunk[at]).__name__}") from None
        try:
            block = text.encode("utf-8")
            if block.count(b"\n") != len(chunk):      # newlines inside lines: spaces to str.split
                block = ("\n".join(line.replace("\n", " ") for line in chunk) + "\n").encode()
        except UnicodeEncodeError:
            raise _surrogate_error(chunk, name, before) from None
        fileio.refuse_control(name, before, block)
        yield chunk, block
        before += len(chunk)
        size = max(1, min(1 << 16, len(chunk) * fileio.READ_BLOCK // len(block)))


def _surrogate_error(chunk: list, name: str, before: int) -> NextwordError:
    """The error naming the line and column of the first character of `chunk` that UTF-8 cannot
    hold (a lone surrogate; a chunk whose join failed to encode has one)."""
    for at, line in enumerate(chunk):
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as error:
            return NextwordError(f"{name}:{before + at + 1}:{error.start + 1}: U+"
                                 f"{ord(line[error.start]):04X}, a lone surrogate, is not text "
                                 "that UTF-8 can hold")
    raise AssertionError("unreachable: the chunk encodes")          # pragma: no cover


def standard_corpus(name: str, split: str, stream: bool = False) -> Corpus:
    directory, files, tokenizer = STANDARD[name]
    if split not in files:
        raise NextwordError(f"{name} has no split {split!r}; choose one of {', '.join(files)}")
    path = data_dir() / directory / files[split]
    if not path.exists():
        raise NextwordError(
            f"{name}:{split} not found: looked for {path}; set ${DATA_ENV} to the folder holding "
            f"'{directory}/'"
        )
    line_range = {"train": (0.0, 0.9), "valid": (0.9, 1.0)}.get(split, (0.0, 1.0)) \
        if name == "tinyshakespeare" else (0.0, 1.0)
    return file_corpus(path, tokenizer, stream=stream, name=f"{name}:{split}", line_range=line_range)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


def _default_sentences() -> list[list[str]]:
    """Sentences of the English help text that ships inside CPython (``pydoc_data.topics``).

    The topics repeat each other (40% of their sentences occur twice or more), so each distinct
    sentence is kept once, at its first occurrence: a held-out sentence is never a training one.
    """
    from pydoc_data.topics import topics

    sentences, seen = [], set()
    for key in sorted(topics):
        for paragraph in re.split(r"\n\s*\n", topics[key]):
            text = " ".join(paragraph.split())
            for sentence in _SENTENCE_END.split(text):
                tokens = tuple(word_tokenize(sentence, lowercase=True))
                if tokens and tokens not in seen:
                    seen.add(tokens)
                    sentences.append(list(tokens))
    return sentences


def default_corpus(split: str = "train") -> Corpus:
    """The embedded corpus: Python's own documentation, split 18:1:1 by sentence position
    (sentence i goes to valid when i % 20 == 18, to test when i % 20 == 19)."""
    if split not in DEFAULT_SPLITS:
        raise NextwordError(f"default has no split {split!r}; choose one of {', '.join(DEFAULT_SPLITS)}")
    pick = {"train": lambda i: i % 20 < 18, "valid": lambda i: i % 20 == 18, "test": lambda i: i % 20 == 19}[split]

    def produce() -> Iterator[list[str]]:
        return (s for i, s in enumerate(_default_sentences()) if pick(i))

    return Corpus(f"default:{split}", produce)


def load_corpus(spec: str, tokenizer: str | None = None, stream: bool = False) -> Corpus:
    """Resolve a corpus spec (see module docstring) into a Corpus."""
    if not spec:
        raise NextwordError("empty corpus name")
    name, _, split = spec.partition(":")
    if name == "default" and not Path(spec).exists():
        return default_corpus(split or "train")
    if name in STANDARD and not Path(spec).exists():
        return standard_corpus(name, split or ("all" if name == "tinyshakespeare" else "train"), stream)
    path = Path(spec)
    if not path.exists():
        known = ", ".join(["default", *(f"{n}:SPLIT" for n in STANDARD)])
        raise NextwordError(f"{spec}: no such file, and not a known corpus name ({known})")
    return file_corpus(path, tokenizer or "whitespace", stream=stream)
