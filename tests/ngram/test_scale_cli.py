"""The CLI of bounded-memory training and per-line scoring."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nextword.cli import main
from nextword.evaluate import evaluate
from nextword.model import load_model
from nextword.ngram.kneser_ney import ModifiedKneserNey
from nextword.ngram.model import NgramModel
from nextword.scoring import score_lines, write_line_scores
from nextword.text.corpora import load_corpus


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory, small_text):
    path = tmp_path_factory.mktemp("corpus") / "train.txt"
    path.write_text("\n".join(" ".join(s) for s in small_text) + "\n")
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_with_memory_equals_in_memory(capsys, tmp_path, corpus_file):
    code, _, err = run(capsys, "train", "ngram", "--order", 3, "--corpus", corpus_file,
                       "-o", tmp_path / "disk", "--memory", "1M", "--temp-dir", tmp_path,
                       "--prune", "0 0 1")
    assert code == 0, err
    assert "partitions" in err and sorted(p.name for p in tmp_path.iterdir()) == ["disk"]
    code, _, err = run(capsys, "train", "ngram", "--order", 3, "--corpus", corpus_file,
                       "-o", tmp_path / "mem", "--prune", "0 0 1")
    assert code == 0, err
    disk, mem = load_model(tmp_path / "disk"), load_model(tmp_path / "mem")
    for k in (2, 3):
        assert np.array_equal(disk.keys[k], mem.keys[k])
        np.testing.assert_allclose(disk.tables.logprob[k], mem.tables.logprob[k], atol=1e-9, rtol=0)


@pytest.mark.parametrize("args,message", [
    (["--memory", "lots"], "cannot read size"),
    (["--memory", "1M", "--smoothing", "katz"], "Kneser-Ney only"),
    (["--temp-dir", "."], "--temp-dir applies to --memory"),
    (["--cluster", "spark://x:7077"], "--cluster applies to --engine spark"),
    (["--engine", "spark", "--memory", "1G"], "--memory is for the local engine"),
])
def test_scale_flag_errors_are_one_line(capsys, tmp_path, corpus_file, args, message):
    code, _, err = run(capsys, "train", "ngram", "--corpus", corpus_file, "-o", tmp_path / "m", *args)
    assert code != 0 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_score_lines_add_up_to_evaluate(small_text, small_test_text):
    """Per-line log-probabilities sum to the corpus figure of `evaluate`; a line's perplexity
    is exp(-logprob / tokens), tokens = words + </s>; OOVs counted per line."""
    lm = NgramModel.fit(small_text, 3, ModifiedKneserNey())
    rows = list(score_lines(lm, small_test_text))
    whole = evaluate(lm, small_test_text)
    assert [r["line"] for r in rows] == list(range(len(small_test_text)))
    assert [r["tokens"] for r in rows] == [len(s) + 1 for s in small_test_text]
    assert sum(r["logprob"] for r in rows) == pytest.approx(whole.log_prob, rel=1e-12)
    assert sum(r["oov"] for r in rows) == whole.oov > 0
    assert sum(r["logprob_excluding_oov"] for r in rows) == pytest.approx(whole.log_prob_excluding_oov)
    first = rows[0]
    assert first["perplexity"] == pytest.approx(math.exp(-first["logprob"] / first["tokens"]))
    assert first["log10prob"] == pytest.approx(first["logprob"] / math.log(10))
    # the first line's score by hand from the model's per-token log-probabilities
    ids = lm.vocab.encode(small_test_text[0])
    assert first["logprob"] == pytest.approx(float(next(lm.sentence_logprobs([ids])).sum()))


@pytest.mark.parametrize("smoothing", ["modified-kneser-ney", "mle"])
def test_written_line_scores_are_score_lines(tmp_path, small_text, smoothing, monkeypatch):
    """The file's rows (computed a block at a time, without a step per line) are `score_lines`'
    rows: the same line numbers, tokens and OOVs, log-probabilities equal to 1e-12 (summed in
    another order), the text json.dumps writes; an MLE model's -inf rows go through json
    (-Infinity). Blocks of 3 sentences, read from the file's bytes."""
    from nextword.ngram.estimators import make_estimator

    monkeypatch.setattr(__import__("nextword.evaluate", fromlist=["x"]), "FLUSH_SENTENCES", 3)
    lm = NgramModel.fit(small_text, 3, make_estimator(smoothing, discount_fallback=True))
    test = tmp_path / "t.txt"
    test.write_text("the first line\n\nanother one here\nzebra crossing\n  the company said \n")
    rows = [json.loads(line) for line in _written(lm, load_corpus(str(test)), tmp_path)]
    expected = list(score_lines(lm, list(load_corpus(str(test)))))
    assert [r["line"] for r in rows] == list(range(5))
    for row, want in zip(rows, expected):
        assert {k: row[k] for k in ("line", "tokens", "oov")} == {
            k: want[k] for k in ("line", "tokens", "oov")}
        for k in ("logprob", "log10prob", "perplexity", "logprob_excluding_oov"):
            assert row[k] == pytest.approx(want[k], rel=1e-12, nan_ok=True), (k, row, want)
    text = _written(lm, load_corpus(str(test)), tmp_path)
    assert text[1] == json.dumps(expected[1]) + "\n"         # a blank line: one token, one sum
    assert (smoothing == "mle") == any("Infinity" in line for line in text)


def _written(lm, corpus, tmp_path) -> list:
    write_line_scores(lm, corpus, tmp_path / "s.jsonl")
    return (tmp_path / "s.jsonl").read_text().splitlines(keepends=True)


def test_eval_per_line_jsonl(capsys, tmp_path, corpus_file, small_text):
    lm = NgramModel.fit(small_text, 2, ModifiedKneserNey())
    lm.save(tmp_path / "m")
    test = tmp_path / "t.txt"
    test.write_text("the first line\n\nanother one here\n")
    code, out, err = run(capsys, "eval", tmp_path / "m", "--corpus", test, "--per-line",
                         tmp_path / "s.jsonl", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [r["tokens"] for r in rows] == [4, 1, 4]
    summary = json.loads(out)
    assert summary["log_prob"] == pytest.approx(sum(r["logprob"] for r in rows))
    assert summary["log_prob"] == pytest.approx(evaluate(lm, load_corpus(str(test))).log_prob)


def test_spark_corpus_paths(tmp_path, monkeypatch):
    """What --engine spark reads: a standard corpus's file, paths as given (comma-separated),
    and one-line errors where Spark would read nothing."""
    from nextword.text.corpora import data_dir
    DATA = data_dir()

    from nextword.errors import NextwordError
    from nextword.ngram.spark import corpus_paths

    monkeypatch.setenv("NEXTWORD_DATA", str(DATA))
    assert corpus_paths("ptb:valid") == [str(DATA / "ptb" / "ptb.valid.txt")]
    assert corpus_paths("hdfs://nn/a.txt,s3a://b/c/*.txt") == ["hdfs://nn/a.txt", "s3a://b/c/*.txt"]
    hidden = tmp_path / "_part.txt"
    hidden.write_text("a b\n")
    for spec, message in ((str(hidden), "start with '_'"), ("default", "embedded default"),
                          ("tinyshakespeare:train", "not one")):
        with pytest.raises(NextwordError, match=message):
            corpus_paths(spec)
