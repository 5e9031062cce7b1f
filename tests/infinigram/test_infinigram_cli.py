"""nextword index / query end to end, and eval / generate on the index's two models."""
import json

import pytest

from nextword.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("students opened their books\nstudents opened their minds\nthe cat sat\n")
    return path


@pytest.fixture
def index_dir(capsys, tmp_path, corpus_file):
    code, out, _ = run(capsys, "index", str(corpus_file), "-o", str(tmp_path / "ix"), "--json")
    facts = json.loads(out)
    assert code == 0
    # </s> in front, 11 words, 3 </s>; 8 word types + <unk> <s> </s>
    assert facts["tokens"] == 1 + 11 + 3 and facts["sentences"] == 3 and facts["vocabulary"] == 11
    assert facts["bytes_per_token"] > 6
    return tmp_path / "ix"


def test_query_json(capsys, index_dir):
    code, out, _ = run(capsys, "query", str(index_dir), "students opened their",
                       "<s> the", "opened zebra", "--json")
    first, second, third = (json.loads(line) for line in out.splitlines())
    assert code == 0
    assert first["count"] == 2 and first["continuations"] == {"books": 1, "minds": 1}
    assert first["longest_suffix"] == {"length": 3, "count": 2, "text": "students opened their"}
    assert second["count"] == 1 and second["continuations"] == {"cat": 1}
    assert third["count"] == 0 and third["longest_suffix"]["length"] == 0


def test_query_text(capsys, index_dir):
    code, out, _ = run(capsys, "query", str(index_dir), "the cat sat dog")
    assert code == 0 and "count 0" in out and "longest suffix that occurs: '<s>" not in out


def test_query_over_a_corpus(capsys, index_dir, corpus_file):
    code, out, _ = run(capsys, "query", str(index_dir), "--corpus", str(corpus_file), "--json")
    report = json.loads(out)
    assert code == 0 and report["tokens"] == 14
    # the training text itself: every token is answered; two guesses are wrong: "minds" (it
    # ties with "books", which has the smaller id, after "<s> students opened their") and
    # "the" after "<s>" ("students" follows <s> twice)
    assert report["answered"] == 1.0 and report["accuracy"] == pytest.approx(12 / 14)
    # only the two </s> after "<s> students opened their books/minds" (5 tokens) are > 4
    assert report["suffix_longer_than_4"] == pytest.approx(2 / 14)


def test_eval_and_generate_through_load_model(capsys, index_dir, corpus_file):
    code, out, _ = run(capsys, "eval", str(index_dir), "--corpus", str(corpus_file), "--json")
    result = json.loads(out)
    assert code == 0 and result["tokens"] == 14 and result["normalised"]
    # the command reports what the library computes (its values are pinned by hand in
    # test_infinigram_model.py)
    from nextword import evaluate, load_corpus, load_model

    library = evaluate(load_model(index_dir), load_corpus(str(corpus_file)))
    assert result["perplexity"] == pytest.approx(library.perplexity, rel=1e-12)
    code, _, err = run(capsys, "eval", str(index_dir / "infinigram"), "--corpus", str(corpus_file))
    assert code == 1 and err.startswith("nextword: error: the ∞-gram") and len(err.splitlines()) == 1
    for model in (index_dir, index_dir / "infinigram"):
        code, first, _ = run(capsys, "generate", str(model), "--count", "3", "--seed", "5",
                             "--top-k", "5")
        _, second, _ = run(capsys, "generate", str(model), "--count", "3", "--seed", "5",
                           "--top-k", "5")
        assert code == 0 and first == second and len(first.splitlines()) == 3


def test_errors_are_one_line(capsys, tmp_path, index_dir, corpus_file):
    code, _, err = run(capsys, "query", str(tmp_path / "nothing"), "a")
    assert code == 1 and "no such file" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "query", str(index_dir))
    assert code == 1 and "nothing to query" in err
    code, _, err = run(capsys, "index", str(corpus_file), "-o", str(tmp_path / "b"),
                       "--discount", "1.2")
    assert code == 1 and "--discount must be in (0, 1)" in err


def test_info(capsys, index_dir):
    code, out, _ = run(capsys, "info", str(index_dir))
    assert code == 0 and "unbounded-ngram model" in out and "discount 0.9" in out
    code, out, _ = run(capsys, "info", str(index_dir / "infinigram"), "--json")
    assert code == 0 and json.loads(out)["tokens"] == 15
