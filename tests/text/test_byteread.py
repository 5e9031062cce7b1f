"""Text from bytes to word ids (nextword.text.byteread) gives what str.split and the vocabulary's
dictionary give: the same words, the same ids, the same sentences, and the same evaluation."""
from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nextword import fileio
from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.ngram.estimators import make_estimator
from nextword.ngram.model import NgramModel
from nextword.scoring import score_columns
from nextword.text import byteread
from nextword.text.byteread import WordIndex, split_words, unicode_spaces
from nextword.text.corpora import lines_corpus, load_corpus
from nextword.text.vocabulary import Vocabulary, read_corpus


def by_strings(index: dict, text: str) -> tuple:
    """The reference: read_lines' lines, str.split, dictionary lookups (-1 where absent)."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    words = [line.split() for line in lines]
    return [index.get(w, -1) for line in words for w in line], [len(line) for line in words]


def by_bytes(words: WordIndex, text: str) -> tuple:
    ids, per_line = words.ids(text.encode("utf-8"))
    return ids.tolist(), per_line.tolist()


def test_non_ascii_spaces_are_found_and_nothing_else():
    """Every character above U+007F that str.split splits on is found alone; all the others
    together are not (so nothing else is taken for one)."""
    spaces = [chr(c) for c in range(0x80, 0x110000) if chr(c).isspace()]
    assert len(spaces) == 19
    for space in spaces:
        encoded = f"a{space}b".encode("utf-8")
        assert unicode_spaces(np.frombuffer(encoded + bytes(2), dtype=np.uint8)), hex(ord(space))
    others = "".join(chr(c) for c in range(0x80, 0x110000)
                     if not chr(c).isspace() and not 0xD800 <= c < 0xE000)
    encoded = others.encode("utf-8")
    assert not unicode_spaces(np.frombuffer(encoded + bytes(2), dtype=np.uint8))
    assert split_words(("x" + "\u3000" + "y\n").encode("utf-8")) is None


def test_words_of_every_length_known_and_unknown():
    """Lengths 1..40 bytes (across the 8- and 16-byte keys), words sharing their first 8 or 16
    bytes with a known one, multi-byte characters, every ASCII space, blank lines, no final
    newline, a word at the very start."""
    known = ["a" * n for n in range(1, 41)] + ["abcdefgh", "abcdefghijklmnop", "café", "日本語",
                                                 "🙂x", "ab\u00e9" * 6]
    vocab = Vocabulary(["<unk>", "<s>", "</s>"] + known)
    unknown = ["a" * 41, "abcdefghi", "abcdefghijklmnopq", "abcdefgX", "abcdefghijklmnoX",
               "cafe", "日本", "b" * 9, "b" * 17]
    words = known + unknown
    lines = [" ".join(words), "\t".join(reversed(words)), "", "  a \r", "\x0b aa\x0c aaa  ",
             "abcdefgh\u00e9 x"]
    for text in ("\n".join(lines), "\n".join(lines) + "\n", "a", "\n\n"):
        assert by_bytes(vocab.word_index(), text) == by_strings(vocab.index, text), text


def test_tokens_that_no_word_of_text_can_be_are_left_out():
    """A vocabulary token holding a space or a NUL byte never matches a word of checked text
    (and "a\\0", zero-padded, must not be taken for "a")."""
    vocab = Vocabulary(["<unk>", "<s>", "</s>", "a\x00", "a b", "ab\x00cdefghij", "a"])
    assert by_bytes(vocab.word_index(), "a b a\n") == ([6, -1, 6], [3])


ALPHABET = st.sampled_from(list("ab") + ["é", "日", "🙂", "abcdefgh", "ijklmnopq"])
SPACE = st.sampled_from([" ", "  ", "\t", "\r", "\x0b", "\x0c", "\n", "\n\n"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(ALPHABET, min_size=1, max_size=5), SPACE), max_size=30),
       st.integers(0, 2 ** 32))
def test_any_text_numbered_as_the_dictionary_does(pieces, seed):
    text = "".join("".join(word) + space for word, space in pieces)
    found = sorted({w for line in text.split("\n") for w in line.split()})
    rng = np.random.default_rng(seed)
    kept = [w for w in found if rng.random() < 0.6]          # the others are unknown
    vocab = Vocabulary(["<unk>", "<s>", "</s>"] + kept)
    assert by_bytes(vocab.word_index(), text) == by_strings(vocab.index, text)


@pytest.fixture(scope="module")
def model():
    sentences = [s.split() for s in ["the cat sat on the mat", "the dog sat", "a cat ran",
                                     "the mat was red", "a dog ran on the mat"]]
    return NgramModel.fit(sentences, 3, make_estimator("modified-kneser-ney",
                                                       discount_fallback=True))


def test_evaluating_a_file_equals_evaluating_its_token_lists(model, tmp_path, monkeypatch):
    """The same Evaluation to the bit, read from bytes in many small blocks (regrouped into
    blocks of FLUSH_SENTENCES sentences as the token lists are), with unknown words, a line
    holding a non-ASCII space (read as strings), a byte-order mark and CRLF line ends."""
    monkeypatch.setattr(fileio, "READ_BLOCK", 64)
    monkeypatch.setattr(importlib.import_module("nextword.evaluate"), "FLUSH_SENTENCES", 3)
    lines = ["the cat sat on the mat", "", "a zebra sat\u00a0on the mat", "the  dog\tran",
             "unknown words here", "the mat was red", "a cat"] * 5
    path = tmp_path / "test.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    corpus = load_corpus(str(path))
    assert corpus.blocks is not None
    numbered = []                               # what each block's split gave (None: strings)
    split = byteread.split_words
    monkeypatch.setattr(byteread, "split_words", lambda block: numbered.append(
        split(block)) or numbered[-1])
    from_bytes = evaluate(model, corpus)
    from_lists = evaluate(model, list(corpus))
    assert from_bytes == from_lists
    assert from_bytes.sentences == len(lines)
    assert from_bytes.oov == 5 * 4                # zebra, unknown, words, here
    assert any(n is None for n in numbered) and sum(n is not None for n in numbered) >= 3


def test_reading_a_training_file_equals_reading_its_token_lists(tmp_path, monkeypatch):
    """The vocabulary (counts, order, cut-offs), the word ids and the sentence lengths of a
    training file, read from bytes a small block at a time (thousands of new short words, so
    the table of seen words is made again several times), are those of its token lists; a line
    holding U+2028 is read as strings between blocks read from bytes, with the same numbers."""
    monkeypatch.setattr(fileio, "READ_BLOCK", 256)
    rng = np.random.default_rng(3)
    words = ([f"w{i}" for i in range(3000)] + [f"abcdefghij{i}" for i in range(50)]
             + ["x" * 20 + str(i) for i in range(20)] + ["é" * 5, "日本語テキスト"])
    lines = [" ".join(rng.choice(words, size=rng.integers(0, 12))) for _ in range(800)]
    lines[100] = "w1\u2028w2 w3 é"
    path = tmp_path / "train.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = load_corpus(str(path))
    given = Vocabulary.build([line.split() for line in lines[:400]])
    for vocab, min_count in ((None, 1), (None, 2), (given, 1)):
        expected = read_corpus(list(corpus), vocab, min_count=min_count)
        got = read_corpus(corpus, vocab, min_count=min_count)
        assert got[0].tokens == expected[0].tokens and got[0].counts == expected[0].counts
        assert np.array_equal(got[1], expected[1]) and np.array_equal(got[2], expected[2])
        assert got[1].dtype == expected[1].dtype and got[2].dtype == expected[2].dtype


def test_only_whole_line_whitespace_corpora_give_bytes(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\nc\n")
    assert load_corpus(str(path)).blocks is not None
    assert load_corpus(str(path), stream=True).blocks is None
    assert load_corpus(str(path), tokenizer="word").blocks is None
    assert b"".join(load_corpus(str(path)).blocks()) == b"a b\nc\n"


def test_a_control_character_in_a_later_block_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(fileio, "READ_BLOCK", 16)
    path = tmp_path / "bad.txt"
    path.write_bytes(b"one line\n" * 7 + b"bad \x01 here\n")
    with pytest.raises(Exception, match=r"bad.txt:8:5: control character U\+0001"):
        list(fileio.read_blocks(path))
    with pytest.raises(Exception, match=r"bad.txt:8:5: control character U\+0001"):
        list(fileio.read_lines(path))


def test_compressed_files_and_lines_longer_than_a_block(model, tmp_path, monkeypatch):
    """A gzip file's bytes and a line longer than the read block (it waits for its newline)
    give the token lists' evaluation; blank lines only are sentences too."""
    import gzip

    monkeypatch.setattr(fileio, "READ_BLOCK", 16)
    text = "the cat sat on the mat " * 20 + "\n\n\na dog ran\n"
    (tmp_path / "t.txt.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "blank.txt").write_text("\n\n\n")
    for name in ("t.txt.gz", "blank.txt"):
        corpus = load_corpus(str(tmp_path / name))
        assert evaluate(model, corpus) == evaluate(model, list(corpus))
    assert evaluate(model, load_corpus(str(tmp_path / "blank.txt"))).sentences == 3


LINES = ["the cat sat on the mat", "", "a zebra sat\u00a0on the mat", "the  dog\tran ",
         "unknown words\nhere", "the mat\x0bwas\x0cred\r", "a cat", ""]


def test_lines_in_memory_equal_their_token_lists(model, monkeypatch):
    """Lines joined into blocks of bytes (several, READ_BLOCK being small) give the sentences
    str.split gives, the same Evaluation to the bit and the same per-line scores: blank lines
    (the last one too), a newline inside a line (a space to str.split), a non-ASCII space (that
    block read as strings), tab, VT, FF and CR."""
    monkeypatch.setattr(fileio, "READ_BLOCK", 64)
    monkeypatch.setattr(importlib.import_module("nextword.evaluate"), "FLUSH_SENTENCES", 3)
    lines = LINES * 5
    sentences = [line.split() for line in lines]
    corpus = lines_corpus(lines)
    assert list(corpus) == sentences and list(corpus) == sentences        # re-iterable
    numbered = []                               # what each block's split gave (None: strings)
    split = byteread.split_words
    monkeypatch.setattr(byteread, "split_words", lambda block: numbered.append(
        split(block)) or numbered[-1])
    assert evaluate(model, corpus) == evaluate(model, sentences)
    assert any(n is None for n in numbered) and sum(n is not None for n in numbered) >= 3
    assert evaluate(model, corpus).sentences == len(lines) == 40
    for got, expected in zip(score_columns(model, corpus), score_columns(model, sentences)):
        for name in got:
            assert np.array_equal(got[name], expected[name]), name
    assert read_corpus(corpus)[0].counts == read_corpus(sentences)[0].counts
    once = lines_corpus(iter(lines))                    # an iterator is read once
    assert list(once) == sentences and list(once) == []


LINE_PIECES = st.sampled_from(["a", "b", "é", "日", "abcdefghij", "abcdefghijklmnopqrstu", " ",
                                "  ", "\t", "\r", "\x0b", "\x0c", "\n", "\u00a0", "\u2028"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(LINE_PIECES, max_size=8).map("".join), max_size=25),
       st.integers(0, 2 ** 32), st.sampled_from([16, 64, 1 << 20]))
def test_any_lines_numbered_as_their_token_lists(monkeypatch, lines, seed, read_block):
    """Lines of any words and spaces (ASCII and not, newlines inside lines, blank lines), in
    blocks of any size: the same sentences and the same ids, lengths and OOV marks as
    `line.split()` numbered through the dictionary."""
    from nextword.evaluate import id_blocks

    monkeypatch.setattr(fileio, "READ_BLOCK", read_block)
    sentences = [line.split() for line in lines]
    found = sorted({w for sentence in sentences for w in sentence})
    rng = np.random.default_rng(seed)
    vocab = Vocabulary(["<unk>", "<s>", "</s>"] + [w for w in found if rng.random() < 0.6])
    corpus = lines_corpus(lines)
    assert list(corpus) == sentences
    got, expected = list(id_blocks(vocab, corpus)), list(id_blocks(vocab, sentences))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        for x, y in zip(a, b):
            assert np.array_equal(x, y) and x.dtype == y.dtype


def test_lines_in_memory_are_checked_as_a_file_is(monkeypatch):
    """A control character, a lone surrogate or an item that is not a string is an error naming
    its line (counted through every block) and column; one string is not a list of lines."""
    monkeypatch.setattr(fileio, "READ_BLOCK", 16)
    good = ["one line"] * 7
    cases = [(good + ["bad \x01 here"], r"lines:8:5: control character U\+0001"),
             (good + ["a\ud800b"], r"lines:8:2: U\+D800, a lone surrogate"),
             (good + [b"bytes"], r"lines:8: expected a line of text \(str\), got bytes")]
    for lines, message in cases:
        with pytest.raises(NextwordError, match=message):
            list(lines_corpus(lines))
        with pytest.raises(NextwordError, match=message):
            list(lines_corpus(lines).blocks())
    with pytest.raises(NextwordError, match="lines: expected a list of lines, got one str"):
        lines_corpus("the cat sat")


if __name__ == "__main__":       # pragma: no cover
    sys.exit(pytest.main([__file__]))
