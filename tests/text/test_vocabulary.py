import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.text.vocabulary import BOS_ID, EOS_ID, UNK_ID, Vocabulary, read_corpus


def test_reserved_entries_come_first_then_by_count(two_sentences):
    v = Vocabulary.build(two_sentences)
    assert v.tokens == ["<unk>", "<s>", "</s>", "a", "b", "c"]
    assert (UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2)
    assert v.counts == [0, 2, 2, 2, 1, 1]
    assert v.num_outcomes == 5


def test_min_count_and_max_size_send_rare_words_to_unk():
    sentences = [["x", "x", "x", "y", "y", "z"]]
    assert Vocabulary.build(sentences, min_count=2).tokens[3:] == ["x", "y"]
    v = Vocabulary.build(sentences, max_size=4)
    assert v.tokens[3:] == ["x"]
    assert v.counts[UNK_ID] == 3           # y, y, z
    with pytest.raises(NextwordError):
        Vocabulary.build(sentences, min_count=0)


def test_literal_unk_is_the_unknown_word():
    v = Vocabulary.build([["the", "<unk>", "<unk>"]])
    assert v.tokens == ["<unk>", "<s>", "</s>", "the"]
    assert v.counts[UNK_ID] == 2
    assert v.encode(["<unk>", "the", "never-seen"]).tolist() == [0, 3, 0]
    assert v.known(["<unk>", "the", "never-seen"]).tolist() == [True, True, False]


def test_encode_is_one_int32_array(two_sentences):
    v = Vocabulary.build(two_sentences)
    ids = v.encode(["a", "b", "q", "c"])
    assert ids.dtype == np.int32 and ids.tolist() == [3, 4, 0, 5]
    assert v.decode(ids) == ["a", "b", "<unk>", "c"]


def test_many_sentences_decode_as_each_alone(two_sentences):
    v = Vocabulary.build(two_sentences)
    sentences = [np.array([3, 4], dtype=np.int32), np.array([], dtype=np.int32),
                 np.array([5, 0, 5, 2], dtype=np.int64)]
    assert v.decode_all(sentences) == [["a", "b"], [], ["c", "<unk>", "c", "</s>"]]
    assert v.decode_all(sentences) == [v.decode(s) for s in sentences]
    assert v.decode_all([]) == []


def test_round_trip_is_plain_text(tmp_path, two_sentences):
    v = Vocabulary.build(two_sentences)
    path = tmp_path / "vocab.txt"
    v.save(path)
    assert path.read_text().splitlines()[3] == "a\t2"
    loaded = Vocabulary.load(path)
    assert loaded == v and loaded.counts == v.counts


def test_malformed_vocabulary_file_names_the_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("<unk>\t0\n<s>\t1\n</s>\t1\nbad line without count\n")
    with pytest.raises(NextwordError, match=r"vocab.txt:4: expected"):
        Vocabulary.load(path)
    path.write_text("a\t1\n")
    with pytest.raises(NextwordError, match="must start with"):
        Vocabulary.load(path)


@pytest.mark.parametrize("block", [1, 2, 1000])
def test_read_corpus_is_build_then_encode_in_one_pass(monkeypatch, block):
    """One pass over an iterator (not re-iterable) gives Vocabulary.build's vocabulary and
    vocab.encode's ids, whatever the block size; min_count and max_size as build's."""
    import nextword.text.vocabulary as vocabulary

    monkeypatch.setattr(vocabulary, "READ_BLOCK", block)
    sentences = [["b", "a", "<unk>"], [], ["c", "a", "b", "a"], ["d", "<s>"]]
    for options in ({}, {"min_count": 2}, {"max_size": 5}):
        expected = Vocabulary.build(sentences, **options)
        vocab, words, lengths = vocabulary.read_corpus(
            iter(sentences), min_count=options.get("min_count", 1),
            max_size=options.get("max_size"))
        assert vocab == expected and vocab.counts == expected.counts
        assert words.dtype == np.int32 and lengths.tolist() == [3, 0, 4, 2]
        assert words.tolist() == expected.encode([w for s in sentences for w in s]).tolist()
    # by hand: a 3, b 2, then c and d (ties broken by the token); <unk> and <s> are reserved
    vocab, words, _ = vocabulary.read_corpus(iter(sentences))
    assert vocab.tokens == ["<unk>", "<s>", "</s>", "a", "b", "c", "d"]
    assert words.tolist() == [4, 3, 0, 5, 3, 4, 3, 6, 1]


def test_read_corpus_with_a_given_vocabulary_maps_unknown_words_to_unk(two_sentences):
    from nextword.text.vocabulary import read_corpus

    given = Vocabulary.build(two_sentences)
    vocab, words, lengths = read_corpus([["a", "zebra"], ["c"]], vocab=given)
    assert vocab is given and words.tolist() == [3, 0, 5] and lengths.tolist() == [2, 1]
    with pytest.raises(NextwordError, match="min-count"):
        read_corpus([["a"]], min_count=0)


def test_sentences_given_as_strings_are_refused(two_sentences):
    """A list of strings would be read one character a token (a str is a sequence of str):
    every reader of token lists says so instead of scoring or counting characters."""
    from nextword.evaluate import evaluate
    from nextword.ngram import NgramModel, make_estimator
    from nextword.ngram.counts import PaddedStream
    from nextword.scoring import score_columns

    model = NgramModel.fit(two_sentences, 2, make_estimator("mle"))
    lines = ["a b c", "a"]
    for read in (lambda: evaluate(model, lines), lambda: list(score_columns(model, lines)),
                 lambda: Vocabulary.build(lines), lambda: read_corpus(lines),
                 lambda: read_corpus(lines, vocab=model.vocab),
                 lambda: PaddedStream.from_tokens(lines, model.vocab.index),
                 lambda: NgramModel.fit(lines, 2, make_estimator("mle"))):
        with pytest.raises(NextwordError, match="the sentences are strings.*lines_corpus"):
            read()
    assert evaluate(model, [line.split() for line in lines]).tokens == 6
