"""The n-gram command line: train with every smoothing, --prune, --prune-to, export, eval of
an ARPA file with the same JSON keys, one-line errors."""
from __future__ import annotations

import json

import pytest

from nextword.cli import main
from nextword.ngram.estimators import ESTIMATORS


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory, small_text):
    path = tmp_path_factory.mktemp("corpus") / "train.txt"
    path.write_text("\n".join(" ".join(s) for s in small_text) + "\n")
    return path


@pytest.fixture(scope="module")
def test_file(tmp_path_factory, small_test_text):
    path = tmp_path_factory.mktemp("corpus") / "test.txt"
    path.write_text("\n".join(" ".join(s) for s in small_test_text[:50]) + "\n")
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("smoothing", ESTIMATORS)
def test_train_every_smoothing(capsys, tmp_path, corpus_file, test_file, smoothing):
    fallback = ["--discount-fallback"] if "kneser-ney" in smoothing else []
    code, _, err = run(capsys, "train", "--order", 3, "--smoothing", smoothing, "--corpus",
                       corpus_file, "--output", tmp_path / "m", *fallback)
    assert code == 0, err
    code, out, err = run(capsys, "eval", tmp_path / "m", "--corpus", test_file, "--json")
    if smoothing in ("stupid-backoff", "mle"):
        if smoothing == "stupid-backoff":
            assert code == 1 and "--unnormalised" in err and err.count("\n") == 1
        return
    assert code == 0 and json.loads(out)["perplexity"] > 1


def test_export_and_eval_arpa_same_json_keys(capsys, tmp_path, corpus_file, test_file):
    assert run(capsys, "train", "-n", 3, "--smoothing", "modified-kneser-ney", "--corpus",
               corpus_file, "-o", tmp_path / "m", "--prune", "0 0 1")[0] == 0
    code, _, err = run(capsys, "export", tmp_path / "m", "--arpa", tmp_path / "m.arpa")
    assert code == 0 and "3-grams" in err
    saved = json.loads(run(capsys, "eval", tmp_path / "m", "--corpus", test_file, "--json")[1])
    arpa = json.loads(run(capsys, "eval", tmp_path / "m.arpa", "--corpus", test_file, "--json")[1])
    assert saved.keys() == arpa.keys()
    assert arpa["perplexity"] == pytest.approx(saved["perplexity"], rel=1e-6)


def test_prune_to(capsys, tmp_path, corpus_file):
    code, _, err = run(capsys, "train", "-n", 3, "--smoothing", "katz", "--corpus", corpus_file,
                       "-o", tmp_path / "m", "--prune-to", 12000)
    assert code == 0, err
    info = json.loads(run(capsys, "info", tmp_path / "m", "--json")[1])
    assert sum(info["ngrams"].values()) <= 12000 and info["estimator"]["entropy_pruned_to"] == 12000


def test_chunked_training_same_model(capsys, tmp_path, corpus_file, test_file):
    for name, extra in [("a", []), ("b", ["--chunk-tokens", 3000])]:
        assert run(capsys, "train", "-n", 3, "--smoothing", "kneser-ney", "--corpus", corpus_file,
                   "-o", tmp_path / name, *extra)[0] == 0
    a, b = (json.loads(run(capsys, "eval", tmp_path / n, "--corpus", test_file, "--json")[1])
            for n in "ab")
    assert a["log_prob"] == pytest.approx(b["log_prob"])


@pytest.mark.parametrize("args,message", [
    (["--smoothing", "modified-kneser-ney", "--prune", "0 x"], "--prune takes whole numbers"),
    (["--smoothing", "modified-kneser-ney", "--prune", "0 2 1"], "must not decrease"),
    (["--smoothing", "add-delta", "--prune", "0 1"], "backoff estimator"),
    # values out of range are refused where the flag is parsed: a usage error, exit code 2
    (["--smoothing", "absolute", "--discount", "1.5"], "--discount must be in (0, 1), got 1.5"),
    (["--smoothing", "stupid-backoff", "--alpha", "0"], "--alpha must be in (0, 1], got 0"),
    (["--smoothing", "katz", "--order", "0"], "--order must be in [1, 20], got 0"),
    (["--smoothing", "katz", "--chunk-tokens", "0"], "--chunk-tokens must be >= 1"),
])
def test_bad_flags_one_line(capsys, tmp_path, corpus_file, args, message):
    code, _, err = run(capsys, "train", "--corpus", corpus_file, "-o", tmp_path / "m", *args)
    assert code == (2 if "must be" in message else 1) and message in err and err.startswith("nextword: error: ") and err.count("\n") == 1


def test_discount_fallback_advice(capsys, tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("a b\na b\nb a\n")
    code, _, err = run(capsys, "train", "-n", 2, "--smoothing", "modified-kneser-ney", "--corpus",
                       path, "-o", tmp_path / "m")
    assert code == 1 and "--discount-fallback" in err and err.count("\n") == 1
    code, _, err = run(capsys, "train", "-n", 2, "--smoothing", "modified-kneser-ney", "--corpus",
                       path, "-o", tmp_path / "m", "--discount-fallback")
    assert code == 0 and "nextword: note: " in err and "substituting fallback discounts" in err


def test_export_refuses_add_delta(capsys, tmp_path, corpus_file):
    run(capsys, "train", "-n", 2, "--smoothing", "add-delta", "--corpus", corpus_file, "-o", tmp_path / "m")
    code, _, err = run(capsys, "export", tmp_path / "m", "--arpa", tmp_path / "m.arpa")
    assert code == 1 and "ARPA file cannot express add-delta" in err
    assert not (tmp_path / "m.arpa").exists()


def test_generate_output_file_holds_what_stdout_prints(capsys, tmp_path, corpus_file):
    model = tmp_path / "m"
    assert run(capsys, "train", "--order", "3", "--corpus", corpus_file, "--output", model)[0] == 0
    code, printed, _ = run(capsys, "generate", model, "--count", "30", "--seed", "4")
    assert code == 0
    out = tmp_path / "samples.txt"
    code, _, err = run(capsys, "generate", model, "--count", "30", "--seed", "4", "--output", out,
                       "--batch-size", "7")
    assert code == 0 and "wrote 30 sentences" in err
    assert out.read_text() == printed and len(printed.splitlines()) == 30


def test_train_writes_the_arpa_file_export_writes(capsys, tmp_path, corpus_file):
    assert run(capsys, "train", "-n", 3, "--corpus", corpus_file, "-o", tmp_path / "m",
               "--arpa", tmp_path / "direct.arpa")[0] == 0
    assert run(capsys, "export", tmp_path / "m", "--arpa", tmp_path / "exported.arpa")[0] == 0
    assert (tmp_path / "direct.arpa").read_bytes() == (tmp_path / "exported.arpa").read_bytes()
    assert (tmp_path / "direct.arpa").read_text().startswith("\\data\\\nngram 1=")


def test_train_arpa_refused_before_anything_is_written(capsys, tmp_path, corpus_file):
    code, _, err = run(capsys, "train", "-n", 2, "--smoothing", "add-delta", "--corpus",
                       corpus_file, "-o", tmp_path / "m", "--arpa", tmp_path / "m.arpa")
    assert code == 1 and "ARPA file cannot express add-delta" in err and err.count("\n") == 1
    assert not (tmp_path / "m").exists() and not (tmp_path / "m.arpa").exists()
    (tmp_path / "a-file").write_text("")              # a parent that is not a folder
    code, _, err = run(capsys, "train", "-n", 2, "--corpus", corpus_file, "-o", tmp_path / "m",
                       "--arpa", tmp_path / "a-file" / "m.arpa")
    assert code == 1 and "a-file" in err and not (tmp_path / "m").exists()


@pytest.mark.parametrize("scale", [[], ["--memory", "10M"]])
def test_train_arpa_alone_without_a_model_folder(capsys, tmp_path, corpus_file, scale):
    """--arpa without -o writes the ARPA file and nothing else (as lmplz): the same bytes as
    with a model folder, and no temporary folder left beside it."""
    assert run(capsys, "train", "-n", 3, "--corpus", corpus_file, "-o", tmp_path / "m",
               "--arpa", tmp_path / "with.arpa")[0] == 0
    out = tmp_path / "alone"
    out.mkdir()
    code, _, err = run(capsys, "train", "-n", 3, "--corpus", corpus_file, *scale,
                       "--arpa", out / "alone.arpa")
    assert code == 0 and "saved to" not in err
    assert (out / "alone.arpa").read_bytes() == (tmp_path / "with.arpa").read_bytes()
    assert [p.name for p in out.iterdir()] == ["alone.arpa"]


def test_train_with_nothing_to_write_is_refused(capsys, corpus_file):
    code, _, err = run(capsys, "train", "-n", 2, "--corpus", corpus_file)
    assert code != 0 and "--output" in err and "--arpa" in err and err.count("\n") == 1
