"""The CLI end to end, and one-line errors for every kind of bad input."""
import json
import subprocess
import sys

import pytest

from nextword.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("the cat sat\nthe dog sat\nthe cat ran\n\n")
    return path


def test_train_eval_generate_info(capsys, tmp_path, corpus_file):
    out_dir = tmp_path / "model"
    code, _, err = run(capsys, "train", "--model", "ngram", "--order", "3", "--smoothing",
                       "add-delta", "--delta", "0.25", "--corpus", str(corpus_file),
                       "--output", str(out_dir))
    assert code == 0 and "saved to" in err
    code, out, _ = run(capsys, "eval", str(out_dir), "--corpus", str(corpus_file), "--json")
    result = json.loads(out)
    assert code == 0
    assert {"perplexity", "perplexity_excluding_oov", "tokens", "oov", "sentences",
            "log_prob"} <= set(result)
    assert result["tokens"] == 9 + 4 and result["sentences"] == 4 and result["oov"] == 0
    code, first, _ = run(capsys, "generate", str(out_dir), "--count", "4", "--seed", "3")
    code, second, _ = run(capsys, "generate", str(out_dir), "--count", "4", "--seed", "3")
    assert code == 0 and first == second and len(first.splitlines()) == 4
    code, out, _ = run(capsys, "info", str(out_dir), "--json")
    assert json.loads(out)["order"] == 3
    code, out, _ = run(capsys, "info", str(out_dir))
    # vocabulary: the cat sat dog ran + <s> </s> <unk> = 8; bigrams: <s> the, the cat, cat sat,
    # sat </s>, the dog, dog sat, cat ran, ran </s>, <s> </s> (the blank line) = 9; trigrams:
    # <s> the cat, the cat sat, cat sat </s>, <s> the dog, the dog sat, dog sat </s>,
    # the cat ran, cat ran </s> = 8
    assert code == 0 and out.splitlines()[:5] == [
        f"{out_dir}: ngram model", "  order 3", "  estimator add-delta (delta 0.25)",
        "  vocabulary 8", "  n-grams 1-grams 8, 2-grams 9, 3-grams 8"]


def test_eval_text_report_and_oov(capsys, tmp_path, corpus_file):
    out_dir = tmp_path / "m"
    run(capsys, "train", "--corpus", str(corpus_file), "-o", str(out_dir), "-n", "2", "--smoothing", "add-delta")
    test = tmp_path / "test.txt"
    test.write_text("the zebra sat\n")
    code, out, _ = run(capsys, "eval", str(out_dir), "--corpus", str(test))
    assert code == 0 and "4 tokens in 1 sentences, 1 OOV" in out and "perplexity" in out


def one_line_error(capsys, *args, match):
    code, out, err = run(capsys, *args)
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("nextword: error: "), err
    assert match in err
    return err


def test_bad_input_gives_one_line_errors(capsys, tmp_path, corpus_file):
    o = str(tmp_path / "o")
    one_line_error(capsys, "train", "--corpus", str(tmp_path / "missing.txt"), "-o", o,
                   match="missing.txt: no such file")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    one_line_error(capsys, "train", "--corpus", str(empty), "-o", o, match="empty file")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xc3\x28 broken\n")
    one_line_error(capsys, "train", "--corpus", str(bad), "-o", o, match="bad.txt:2: invalid UTF-8")
    one_line_error(capsys, "train", "--corpus", "ptb-xl:train", "-o", o,
                   match="not a known corpus name")
    one_line_error(capsys, "train", "--corpus", str(corpus_file), "-o", o, "--order", "0",
                   match="order must be an integer >= 1")
    one_line_error(capsys, "train", "--corpus", str(corpus_file), "-o", o, "--smoothing", "add-delta", "--delta", "0",
                   match="delta must be > 0")
    one_line_error(capsys, "train", "--corpus", str(corpus_file), "-o", o, "--smoothing", "add-delta", "--delta", "-1",
                   match="delta must be > 0")
    one_line_error(capsys, "train", "--corpus", str(corpus_file), "-o", o, "--smoothing", "magic",
                   match="Invalid value for '--smoothing'")
    one_line_error(capsys, "train", "--no-such-flag", match="no such option --no-such-flag for `nextword train ngram`")
    one_line_error(capsys, "eval", str(tmp_path / "nothing"), match="no such model")
    one_line_error(capsys, "generate", str(tmp_path / "nothing"), "--temperature", "0",
                   match="temperature must be > 0")


@pytest.mark.parametrize("args,message", [
    (["--delta", "0.5"], "--delta applies to --smoothing add-delta, not modified-kneser-ney"),
    (["--smoothing", "katz", "--alpha", "0.5"], "--alpha applies to --smoothing stupid-backoff, not katz"),
    (["--smoothing", "mle", "--discount-fallback"], "--discount-fallback applies to --smoothing "
                                                     "kneser-ney or modified-kneser-ney, not mle"),
    (["--smoothing", "laplace", "--discount", "0.5"], "--discount applies to --smoothing absolute"),
    # a flag of another family does not exist in this family's command
    (["--lr", "0.1"], "no such option --lr for `nextword train ngram`; it is an option of: "
                      "numpy-rnn, window, rnn, lstm, gru"),
    (["--preset", "lstm-budget"], "no such option --preset for `nextword train ngram`"),
    (["--model", "lstm", "--order", "4"], "no such option --order for `nextword train lstm`; it "
                                          "is an option of: ngram"),
    (["--model", "numpy-rnn", "--optimizer", "adam"], "no such option --optimizer for `nextword "
                                                      "train numpy-rnn`"),
    (["--model", "window", "--layers", "2"], "no such option --layers for `nextword train window`"
                                             "; it is an option of: rnn, lstm, gru"),
    (["--model", "lstm", "--window", "2"], "no such option --window for `nextword train lstm`"),
    (["--model", "transformer"], "'transformer' is not one of ngram, numpy-rnn, window"),
])
def test_a_flag_the_model_would_ignore_is_an_error(capsys, tmp_path, corpus_file, args, message):
    """Silently ignoring `--delta 0.5` under Kneser-Ney would train a model the user did not ask for."""
    one_line_error(capsys, "train", "--corpus", str(corpus_file), "-o", str(tmp_path / "o"), *args,
                   match=message)
    assert not (tmp_path / "o").exists()


def test_console_command_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nextword", "eval", str(tmp_path / "x")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"nextword: error: {tmp_path / 'x'}: no such model directory or file"]


def test_demo_runs_on_the_embedded_corpus(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--output", str(tmp_path / "demo"))
    assert code == 0 and "modified-kneser-ney  perplexity" in out
    assert (tmp_path / "demo" / "model.json").exists()
