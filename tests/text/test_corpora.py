import pytest

from nextword.errors import NextwordError
from nextword.text.corpora import file_corpus, load_corpus


def test_every_line_is_a_sentence_blank_lines_included(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(" the cat \n\n sat \n")
    corpus = load_corpus(str(path))
    assert list(corpus) == [["the", "cat"], [], ["sat"]]
    assert corpus.num_tokens() == 3 + 3          # words + one </s> per line
    assert list(corpus) == list(corpus)           # re-iterable


def test_stream_mode_reads_a_file_as_one_sequence(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\nc\n")
    assert list(load_corpus(str(path), stream=True)) == [["a", "b", "c"]]


def test_word_tokenizer_for_raw_text(tmp_path):
    path = tmp_path / "raw.txt"
    path.write_text("Hello, world!\n", encoding="utf-8")
    assert list(load_corpus(str(path), tokenizer="word-lower")) == [["hello", ",", "world", "!"]]


def test_missing_empty_and_invalid_files(tmp_path):
    with pytest.raises(NextwordError, match="no such file"):
        load_corpus(str(tmp_path / "nope.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(NextwordError, match="empty file"):
        load_corpus(str(empty))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nalso fine\nbroken \xff here\n")
    with pytest.raises(NextwordError, match=r"bad.txt:3: invalid UTF-8"):
        list(load_corpus(str(bad)))


def test_unknown_name_and_missing_standard_corpus(tmp_path, monkeypatch):
    with pytest.raises(NextwordError, match="not a known corpus name"):
        load_corpus("penn-treebank:train")
    monkeypatch.setenv("NEXTWORD_DATA", str(tmp_path))
    with pytest.raises(NextwordError, match=r"ptb:test not found: looked for .*ptb.test.txt"):
        load_corpus("ptb:test")
    with pytest.raises(NextwordError, match="no split"):
        load_corpus("ptb:dev")


def test_default_corpus_is_embedded_and_split_without_overlap():
    train, valid, test = (list(load_corpus(f"default:{s}")) for s in ("train", "valid", "test"))
    assert len(train) > 2500 and len(valid) > 150 and len(test) > 150
    assert len(train) == pytest.approx(18 * len(test), rel=0.01)
    assert not {tuple(s) for s in test} & {tuple(s) for s in train}      # distinct sentences
    assert list(load_corpus("default")) == train
    assert all(token == token.lower() for sentence in test for token in sentence)


def test_standard_corpora_counts_match_the_published_figures(data_dir, monkeypatch):
    """PTB: 929,589 / 73,760 / 82,430 tokens with one </s> per line (shared/data/README.md)."""
    monkeypatch.setenv("NEXTWORD_DATA", str(data_dir))
    assert load_corpus("ptb:valid").num_tokens() == 73_760
    assert load_corpus("ptb:test").num_tokens() == 82_430
    assert load_corpus("wikitext-2:valid").num_tokens() == 217_646
    shakespeare = sum(1 for _ in load_corpus("tinyshakespeare:train")) + sum(
        1 for _ in load_corpus("tinyshakespeare:valid"))
    assert shakespeare == 40_000


def test_file_corpus_line_range(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("".join(f"w{i}\n" for i in range(10)))
    assert [s[0] for s in file_corpus(path, line_range=(0.9, 1.0))] == ["w9"]
