"""ARPA files: the writer's format, round trips, KenLM reading our files, bad files refused."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.model import load_model
from nextword.ngram.arpa import read_arpa, write_arpa
from nextword.ngram.estimators import make_estimator
from nextword.ngram.model import NgramModel


@pytest.fixture(scope="module")
def mkn3(small_text):
    return NgramModel.fit(small_text, order=3, estimator=make_estimator("modified-kneser-ney"))


def sentence_log10(lm, text):
    return np.array([float(v.sum()) / math.log(10) for v in
                     lm.sentence_logprobs(lm.vocab.encode(s) for s in text)])


def test_format_follows_lmplz(abba, tmp_path):
    """Header counts = entries; <unk> first; <s> written as 0; tab separators; no backoff at
    the top order; P(a) = 7/24 (see the KN test) as %.9g log10."""
    lm = NgramModel.fit(abba, order=2, estimator=make_estimator("modified-kneser-ney",
                                                                discount_fallback=True))
    path = tmp_path / "abba.arpa"
    write_arpa(lm, path)
    lines = path.read_text().split("\n")
    assert lines[:4] == ["\\data\\", "ngram 1=5", "ngram 2=6", ""]
    assert lines[4] == "\\1-grams:"
    assert lines[5].split("\t")[1] == "<unk>"
    assert lines[6].split("\t")[:2] == ["0", "<s>"]
    a = next(line for line in lines if line.split("\t")[1:2] == ["a"])
    assert float(a.split("\t")[0]) == pytest.approx(math.log10(7 / 24), abs=1e-8)
    bigrams = lines[lines.index("\\2-grams:") + 1: lines.index("\\2-grams:") + 7]
    assert all(len(line.split("\t")) == 2 for line in bigrams)
    assert lines[-2:] == ["\\end\\", ""]


def test_round_trip_same_scores(mkn3, small_test_text, tmp_path):
    write_arpa(mkn3, tmp_path / "m.arpa")
    back = read_arpa(tmp_path / "m.arpa")
    assert back.vocab == mkn3.vocab and back.order == 3
    assert np.allclose(sentence_log10(back, small_test_text), sentence_log10(mkn3, small_test_text),
                       atol=1e-6)


def test_load_model_reads_arpa_and_saves_binary(mkn3, small_test_text, tmp_path):
    write_arpa(mkn3, tmp_path / "m.arpa")
    lm = load_model(tmp_path / "m.arpa")
    lm.save(tmp_path / "binary")
    again = load_model(tmp_path / "binary")
    assert np.allclose(sentence_log10(again, small_test_text), sentence_log10(mkn3, small_test_text),
                       atol=1e-6)


@pytest.mark.parametrize("name,prune", [("modified-kneser-ney", None), ("modified-kneser-ney", (0, 1, 1)),
                                        ("katz", None), ("witten-bell", None), ("kneser-ney", None)])
def test_kenlm_scores_our_files_the_same(small_text, small_test_text, tmp_path, name, prune):
    """The `kenlm` module (C++) reads the file and gives every token the same log10 probability
    within 1e-5 and every sentence within 1e-4 (test sentences contain OOVs: both use <unk>).
    Sentence totals are summed from kenlm's per-token scores: its `Model.score` adds float32
    numbers, which alone moves a 60-word sentence by up to ~2e-4."""
    import kenlm

    lm = NgramModel.fit(small_text, order=3, estimator=make_estimator(name), prune=prune)
    write_arpa(lm, tmp_path / "m.arpa")
    theirs = kenlm.Model(str(tmp_path / "m.arpa"))
    ours = [v / math.log(10) for v in lm.sentence_logprobs(lm.vocab.encode(s) for s in small_test_text)]
    for sentence, mine in zip(small_test_text, ours):
        tokens = np.array([score for score, _, _ in theirs.full_scores(" ".join(sentence))])
        assert np.abs(tokens - mine).max() < 1e-5
        assert abs(tokens.sum() - mine.sum()) < 1e-4
        assert theirs.score(" ".join(sentence)) == pytest.approx(mine.sum(), rel=1e-5)


def test_reads_srilm_style_file(tmp_path):
    """SRILM writes -99 for <s>, may omit <unk> (KenLM then uses -100) and a zero backoff."""
    path = tmp_path / "srilm.arpa"
    path.write_text("\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-99\t<s>\t-0.30103\n"
                    "-0.30103\ta\n-0.30103\t</s>\n\n\\2-grams:\n-0.1\t<s> a\n\n\\end\\\n")
    lm = read_arpa(path)
    assert lm.prob("a", ("<s>",)) == pytest.approx(10 ** -0.1)
    assert lm.prob("</s>", ("<s>",)) == pytest.approx(10 ** (-0.30103 - 0.30103))
    assert lm.logprob("<unk>", ("a",)) == pytest.approx(-100 * math.log(10))
    assert "no <unk>" in lm.estimator["notes"][0]


def test_export_refuses_uniform_fallback_and_stupid_backoff(abba, tmp_path):
    add_delta = NgramModel.fit(abba, order=2, estimator=make_estimator("add-delta"))
    with pytest.raises(NextwordError, match="uniformly"):
        write_arpa(add_delta, tmp_path / "x.arpa")
    stupid = NgramModel.fit(abba, order=2, estimator=make_estimator("stupid-backoff"))
    with pytest.raises(NextwordError, match="stupid backoff"):
        write_arpa(stupid, tmp_path / "x.arpa")
    assert not (tmp_path / "x.arpa").exists()


GOOD = ("\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-1\t<unk>\t0\n0\t<s>\t-0.5\n-0.5\ta\t-0.2\n"
        "-0.4\t</s>\t0\n\n\\2-grams:\n-0.2\t<s> a\n-0.3\ta </s>\n\n\\end\\\n")


@pytest.mark.parametrize("broken,line,message", [
    (GOOD.replace("ngram 2=2", "ngram 2=3"), 14, "section has 2 entries, the header announces 3"),
    (GOOD.replace("ngram 2=2", "ngram 2=1"), 13, "more entries than the 1"),
    (GOOD.replace("ngram 1=4", "ngram 1=5"), 10, "section has 4 entries, the header announces 5"),
    (GOOD.replace("-0.5\ta\t-0.2", "-0.5\ta\tx.2"), 8, "bad number"),
    (GOOD.replace("-0.3\ta </s>", "0.3\ta </s>"), 13, "must be <= 0"),
    (GOOD.replace("\n\\end\\\n", "\n"), 14, "without the \\end\\ line"),
    (GOOD[:GOOD.index("-0.3\ta")], 12, "file ends inside the \\2-grams: section after 1 of the 2"),
    (GOOD.replace("\\2-grams:", "\\3-grams:"), 11, "expected the \\2-grams: section"),
    (GOOD.replace("-0.2\t<s> a", "-0.2\t<s> b"), 12, "'b' appears in a 2-gram but not among"),
    (GOOD.replace("ngram 2=2\n", ""), 5, "highest order the header announces"),
    (GOOD.replace("\\data\\", "data"), 15, "no \\data\\ line"),
    (GOOD.replace("-0.4\t</s>\t0", "-0.4\tb\t0"), 9, "lack </s>"),
])
def test_malformed_files_name_the_line(tmp_path, broken, line, message):
    path = tmp_path / "bad.arpa"
    path.write_text(broken)
    with pytest.raises(NextwordError) as error:
        read_arpa(path)
    text = str(error.value)
    assert text.startswith(f"{path}:{line}: ") and message in text and "\n" not in text


def test_good_file_reads(tmp_path):
    path = tmp_path / "good.arpa"
    path.write_text(GOOD)
    lm = read_arpa(path)
    assert lm.prob("a", ("<s>",)) == pytest.approx(10 ** -0.2)
    assert lm.prob("</s>", ("a",)) == pytest.approx(10 ** -0.3)
    assert lm.prob("</s>", ("<s>",)) == pytest.approx(10 ** (-0.5 - 0.4))     # bo(<s>) · P(</s>)


def test_block_reader_and_line_fallback_agree(mkn3, small_test_text, tmp_path, monkeypatch):
    """Entries are parsed a block at a time when laid out as lmplz writes them, line by line
    otherwise (here: SRILM-style lines without a zero backoff in some blocks); same model."""
    from nextword.ngram import arpa

    write_arpa(mkn3, tmp_path / "m.arpa")
    text = (tmp_path / "m.arpa").read_text().split("\n")
    srilm = [line[:-2] if line.endswith("\t0") and i % 5 == 0 else line for i, line in enumerate(text)]
    (tmp_path / "s.arpa").write_text("\n".join(srilm))
    monkeypatch.setattr(arpa, "BLOCK_LINES", 7)
    expected = sentence_log10(mkn3, small_test_text)
    for name in ("m.arpa", "s.arpa"):
        assert np.allclose(sentence_log10(read_arpa(tmp_path / name), small_test_text), expected, atol=1e-6)


def test_error_in_a_later_block_names_its_line(mkn3, tmp_path, monkeypatch):
    from nextword.ngram import arpa

    write_arpa(mkn3, tmp_path / "m.arpa")
    lines = (tmp_path / "m.arpa").read_text().split("\n")
    bad = lines.index("\\3-grams:") + 40                         # 40th trigram entry
    lines[bad] = lines[bad].replace("\t", "\tnot-a-word ", 1)
    (tmp_path / "m.arpa").write_text("\n".join(lines))
    monkeypatch.setattr(arpa, "BLOCK_LINES", 16)
    with pytest.raises(NextwordError) as error:
        read_arpa(tmp_path / "m.arpa")
    assert str(error.value).startswith(f"{tmp_path / 'm.arpa'}:{bad + 1}: ")


def test_missing_contexts_become_blank_entries_as_in_kenlm(tmp_path):
    """'a b c' is a 3-gram, but neither 'a b' nor (for 'x a b c' below) 'x a b' has an entry
    (SRILM's pruning writes such files; KenLM's trie builder fills blanks, its probing model,
    which the `kenlm` module uses, refuses them). P(c | a b) = the stored 10^-0.1;
    P(a | a b) = bo(a b) = 1 · P(a | b) = bo(b) · P(a) = 10^(-0.25 - 0.6). Written back out,
    the blanks are ordinary entries, and the kenlm module scores that file as we score this one."""
    import kenlm

    path = tmp_path / "blank.arpa"
    path.write_text(
        "\\data\\\nngram 1=7\nngram 2=3\nngram 3=1\nngram 4=1\n\n"
        "\\1-grams:\n-2\t<unk>\t0\n0\t<s>\t-0.3\n-0.7\t</s>\t0\n-0.6\ta\t-0.2\n-0.8\tb\t-0.25\n"
        "-0.9\tc\t-0.1\n-1.1\tx\t-0.05\n\n"
        "\\2-grams:\n-0.3\t<s> a\t-0.1\n-0.4\tb c\t-0.15\n-0.35\tc </s>\t0\n\n"
        "\\3-grams:\n-0.1\ta b c\t-0.05\n\n\\4-grams:\n-0.02\tx a b c\n\n\\end\\\n")
    lm = read_arpa(path)
    assert "blank" in lm.estimator["notes"][0] and lm.estimator["notes"][0].startswith("3 n-gram")
    assert lm.prob("c", ("a", "b")) == pytest.approx(10 ** -0.1)
    assert lm.prob("a", ("a", "b")) == pytest.approx(10 ** (-0.25 - 0.6))
    write_arpa(lm, tmp_path / "filled.arpa")
    theirs = kenlm.Model(str(tmp_path / "filled.arpa"))
    sentences = ["a b c", "x a b c", "a b a", "x a b a c", "c a b c b", "b x a b"]
    ours = [float(v.sum()) / math.log(10) for v in lm.sentence_logprobs(lm.vocab.encode(s.split()) for s in sentences)]
    assert ours == pytest.approx([theirs.score(s) for s in sentences], abs=1e-5)


def test_vectorised_numbers_are_the_values_of_percent_9g():
    """The byte-matrix formatter writes 9 significant digits without an exponent: each number
    reads back as the value %.9g gives; -inf is -99, zero and -0.0 are 0, |x| < 1e-10 is 0."""
    from nextword.ngram.arpa import PAD, _number_bytes

    rng = np.random.default_rng(0)
    values = np.concatenate([-rng.exponential(2, 20000), rng.normal(0, 1, 2000),
                             [0.0, -0.0, -np.inf, -99.0, -1.0, -10.0, -0.1, -9.999999999,
                              -0.99999999995, 123.456789012, -7.14824825e-05, -1e-9]])
    matrix = _number_bytes(values)
    texts = [row[row != PAD].tobytes().decode() for row in matrix]
    assert texts[-12:-1] == ["0", "0", "-99", "-99", "-1", "-10", "-0.1", "-10", "-1",
                             "123.456789", "-0.0000714824825"]
    assert all("e" not in t and not t.startswith("-0") or t.startswith("-0.") for t in texts)
    expected = np.where(np.isneginf(values), -99.0, values)
    assert [float(t) for t in texts] == [float(f"{v:.9g}") for v in expected]
    assert _number_bytes(np.array([-1e-11]))[0].tobytes().strip(b"\0") == b"0"
    # ten digits or more before the point: zeros after the nine significant ones
    big = _number_bytes(np.array([1.5e12, -2e9, 3.25e8, 123456789012.0]))
    assert [row[row != PAD].tobytes().decode() for row in big] == [
        "1500000000000", "-2000000000", "325000000", "123456789000"]


def test_short_layout_writes_the_bytes_of_the_positional_one():
    """The two-word layout of 1e-4 <= |x| < 10 (every exponent, point or none, trailing zeros,
    the first digit alone before the point) writes each row as the per-exponent layout does;
    a block that mixes both layouts is each row's text."""
    from nextword.ngram.arpa import (PAD, SHORTEST_EXPONENT, _number_bytes, _positional_layout,
                                     _short_layout)

    rng = np.random.default_rng(1)
    m = np.concatenate([rng.integers(10 ** 8, 10 ** 9, 5000),
                        rng.integers(1, 10, 500) * 10 ** 8,                  # d_0 alone
                        rng.integers(10 ** 4, 10 ** 5, 500) * 10 ** 4,       # 4 trailing zeros
                        rng.integers(10 ** 7, 10 ** 8, 500) * 10 + 5])       # no trailing zero
    e = rng.integers(SHORTEST_EXPONENT, 1, len(m))
    negative = rng.random(len(m)) < 0.9
    short, positional = _short_layout(negative, e, m), _positional_layout(negative, e, m)

    def texts(matrix):
        return [row[row != PAD].tobytes().decode() for row in matrix]

    assert texts(short) == texts(positional)
    assert texts(_short_layout(np.array([True, False, False]), np.array([-4, 0, 0]),
                               np.array([123456789, 100000000, 0]))) == ["-0.000123456789", "1", "0"]
    mixed = np.array([-0.5, -12.25, -3e-7, -2.0, -np.inf, 0.0625])
    assert texts(_number_bytes(mixed)) == ["-0.5", "-12.25", "-0.0000003", "-2", "-99", "0.0625"]


def test_blocks_formatted_two_at_a_time_keep_the_file_whole(mkn3, tmp_path, monkeypatch):
    """With blocks of 1,024 lines (an order in several blocks, odd and even counts of them)
    the file is the same bytes as in one block per order, and progress counts every entry."""
    import nextword.ngram.arpa as arpa

    write_arpa(mkn3, tmp_path / "whole.arpa")
    monkeypatch.setattr(arpa, "CHUNK_BYTES", 1)
    sizes = [len(mkn3.vocab)] + [len(mkn3.keys[k]) for k in range(2, mkn3.order + 1)]
    assert max(sizes) > 3 * 1024                       # several blocks in some order

    class Bar:
        entries = 0

        def update(self, count):
            self.entries += count

    bar = Bar()
    write_arpa(mkn3, tmp_path / "blocks.arpa", progress=bar)
    assert (tmp_path / "blocks.arpa").read_bytes() == (tmp_path / "whole.arpa").read_bytes()
    assert bar.entries == sum(sizes)


@pytest.mark.parametrize("smoothing", ["modified-kneser-ney", "katz", "witten-bell"])
def test_an_empty_order_keeps_its_section(tmp_path, smoothing):
    """One sentence of one word has no 4-gram (<s> a </s> is three tokens): the file still
    says `ngram 4=0` and opens an empty \\4-grams: section, as lmplz does, and reads back."""
    params = {"discount_fallback": True} if "kneser" in smoothing else {}
    lm = NgramModel.fit([["a"]], order=4, estimator=make_estimator(smoothing, **params))
    assert len(lm.keys[4]) == 0
    write_arpa(lm, tmp_path / "m.arpa")
    text = (tmp_path / "m.arpa").read_text()
    assert "ngram 4=0\n" in text and text.endswith("\t<s> a </s>\t0\n\n\\4-grams:\n\n\\end\\\n")
    back = read_arpa(tmp_path / "m.arpa")
    np.testing.assert_allclose(sentence_log10(back, [["a"], ["a", "a"]]),
                               sentence_log10(lm, [["a"], ["a", "a"]]), rtol=1e-7)


def _arrays(lm) -> list:
    return ([lm.keys[k] for k in range(2, lm.order + 1)]
            + [lm.tables.logprob[k] for k in range(1, lm.order + 1)]
            + [lm.tables.logbackoff[k] for k in range(1, lm.order)])


WORDS = ["a", "bb", "éé", "日本", "abcdefgh", "abcdefghi", "abcdefghijklmnop",
         "abcdefghijklmnopq", "x" * 30]
NUMBERS = ["-0.5", "-1e-05", "-2.0000000001", "-99", "-1.2345678901234", "-0", "-3.25E-2"]


@pytest.mark.parametrize("variant", ["regular", "double space", "trailing space", "leading tab",
                                     "CR", "vertical tab", "long number", "nbsp"])
def test_the_block_parser_reads_what_the_line_reader_reads(tmp_path, monkeypatch, variant):
    """Whatever a block holds (words of every length, numbers in every notation, irregular
    layouts), the block parser gives the line reader's arrays: it parses the regular layout
    and declines the rest, which is then read line by line."""
    from nextword.ngram import arpa

    unigrams = ["<unk>", "<s>", "</s>"] + WORDS
    pairs = [(a, b) for a in unigrams[1:] for b in unigrams[2:]]
    lines = ["\\data\\", f"ngram 1={len(unigrams)}", f"ngram 2={len(pairs)}", "", "\\1-grams:"]
    lines += [f"{NUMBERS[i % len(NUMBERS)]}\t{w}\t{NUMBERS[(i + 3) % len(NUMBERS)]}"
              for i, w in enumerate(unigrams)]
    lines += ["", "\\2-grams:"]
    lines += [f"{NUMBERS[i % len(NUMBERS)]}\t{a} {b}" for i, (a, b) in enumerate(pairs)]
    lines += ["", "\\end\\", ""]
    at = len(unigrams) + 8                           # an entry of every other block of 5 lines
    change = {"double space": lambda l: l.replace(" ", "  "), "trailing space": lambda l: l + " ",
              "leading tab": lambda l: "\t" + l.lstrip(), "CR": lambda l: l + "\r",
              "vertical tab": lambda l: l.replace(" ", "\x0b"),
              "long number": lambda l: "-1.234567890123456789" + l[l.index("\t"):],
              "nbsp": lambda l: l.replace("a", "a\u00a0b")}
    if variant != "regular":
        for i in range(at, len(lines) - 4, 10):
            lines[i] = change[variant](lines[i])
    (tmp_path / "m.arpa").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(arpa, "BLOCK_LINES", 5)
    parsed = []
    block_parser = arpa._parse_block
    monkeypatch.setattr(arpa, "_parse_block",
                        lambda *a: parsed.append(block_parser(*a)) or parsed[-1])
    try:
        by_blocks = _arrays(read_arpa(tmp_path / "m.arpa"))
    except NextwordError as error:
        by_blocks = str(error)
    monkeypatch.setattr(arpa, "_parse_block", lambda *a: False)
    try:
        by_lines = _arrays(read_arpa(tmp_path / "m.arpa"))
    except NextwordError as error:
        by_lines = str(error)
    if isinstance(by_lines, str):                # NBSP: str.split makes a third field of "b"
        assert by_blocks == by_lines and variant == "nbsp"
    else:
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(by_blocks, by_lines))
        assert any(parsed) and all(parsed) == (variant == "regular")
