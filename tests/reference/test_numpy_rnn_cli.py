"""The command line: train --model numpy-rnn, eval and generate on it, explain bptt."""
from __future__ import annotations

import json
import math

import pytest

from nextword.cli import main
from rnn_fixtures import tiny_corpus  # noqa: F401  (a fixture)


@pytest.fixture
def corpus_file(tmp_path, tiny_corpus):
    path = tmp_path / "tiny.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in tiny_corpus), encoding="utf-8")
    return path


@pytest.fixture
def trained(tmp_path, corpus_file):
    output = tmp_path / "rnn"
    assert main(["train", "--model", "numpy-rnn", "--corpus", str(corpus_file), "-o", str(output),
                 "--embedding-dim", "8", "--hidden-dim", "16", "--epochs", "10", "--lr", "0.5",
                 "--bptt", "0", "--clip", "5", "--seed", "0"]) == 0
    return output


def test_train_then_eval_and_generate(trained, corpus_file, capsys):
    capsys.readouterr()
    assert main(["eval", str(trained), "--corpus", str(corpus_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tokens"] == 12 * 4 and result["oov"] == 0       # 12 sentences, 3 words + </s>
    assert 2 * math.log(2) / 4 <= result["cross_entropy"] < math.log(7)

    assert main(["generate", str(trained), "--count", "4", "--seed", "1"]) == 0
    first = capsys.readouterr().out
    assert main(["generate", str(trained), "--count", "4", "--seed", "1"]) == 0
    assert capsys.readouterr().out == first                        # same seed, same sentences
    lines = first.splitlines()
    assert len(lines) == 4
    assert all(set(line.split()) <= {"the", "cat", "dog", "sat", "ran", "<unk>"} for line in lines)

    assert main(["info", str(trained), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["type"] == "numpy-rnn" and info["config"]["hidden_dim"] == 16
    assert info["training"]["config"]["bptt"] is None              # --bptt 0: full BPTT
    assert len(info["training"]["history"]) == 10


def test_train_reports_validation(tmp_path, corpus_file, capsys):
    assert main(["train", "--model", "numpy-rnn", "--corpus", str(corpus_file), "-o",
                 str(tmp_path / "m"), "--valid", str(corpus_file), "--hidden-dim", "8",
                 "--embedding-dim", "4", "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert "perplexity" in captured.out and "epoch 1: train cross-entropy" in captured.err


@pytest.mark.parametrize("flags, message", [
    (["--lr", "0"], "lr must be > 0"),
    (["--hidden-dim", "0"], "hidden-dim must be >= 1"),
    (["--bptt", "-2"], "truncation (bptt) must be >= 1"),
])
def test_train_flag_errors_are_one_line(tmp_path, corpus_file, capsys, flags, message):
    assert main(["train", "--model", "numpy-rnn", "--corpus", str(corpus_file), "-o",
                 str(tmp_path / "m"), *flags]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nextword: error: ") and message in err and err.count("\n") == 1


def test_zero_turns_truncation_and_clipping_off(tmp_path, corpus_file, capsys):
    assert main(["train", "--model", "numpy-rnn", "--corpus", str(corpus_file), "-o",
                 str(tmp_path / "m"), "--hidden-dim", "4", "--embedding-dim", "2", "--epochs", "1",
                 "--bptt", "0", "--clip", "0"]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "m"), "--json"]) == 0
    config = json.loads(capsys.readouterr().out)["training"]["config"]
    assert (config["bptt"], config["clip"]) == (None, None)


def test_train_on_a_missing_file_names_it(tmp_path, capsys):
    missing = tmp_path / "nope.txt"
    assert main(["train", "--model", "numpy-rnn", "--corpus", str(missing), "-o",
                 str(tmp_path / "m")]) == 1
    assert str(missing) in capsys.readouterr().err


def test_explain_bptt_table(capsys):
    assert main(["explain", "bptt", "--steps", "6", "--hidden-dim", "4", "--seed", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    table = [line.split() for line in out if line.split() and line.split()[0].isdigit()]
    assert [row[0] for row in table] == ["1", "2", "3", "4", "5", "6"]
    assert [row[1] for row in table] == ["5", "4", "3", "2", "1", "0"]      # t - i
    assert float(table[0][2]) == 0.0 and float(table[0][4]) == 0.0          # h(0) = 0; all kept
    assert any(line.startswith("gradient check") for line in out)


def test_explain_bptt_json_and_plot(tmp_path, capsys):
    plot = tmp_path / "plots" / "bptt.png"
    assert main(["explain", "bptt", "--json", "--plot", str(plot), "--steps", "8"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["gradient_check_max"] < 1e-6
    assert report["sum_check"] < 1e-12 and report["truncation_check"] < 1e-12
    assert len(report["rows"]) == 8 and report["t"] == 8
    assert sum(row["ratio"] > 0 for row in report["rows"]) == 7
    assert report["plot"] == str(plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in plot.parent.iterdir()] == ["bptt.png"]          # no temp file left


def test_explain_bptt_errors(tmp_path, capsys):
    assert main(["explain", "bptt", "--plot", str(tmp_path / "bptt.svg")]) == 1
    assert "bptt.svg: the plot is written as PNG" in capsys.readouterr().err
    assert main(["explain", "bptt", "--steps", "0"]) == 1
    assert "steps must be >= 1" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["explain", "bptt", "--steps", "3", "--plot", str(blocker / "bptt.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"nextword: error: {blocker / 'bptt.png'}: cannot write the plot")
