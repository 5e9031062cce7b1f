"""The catalogue of bad input and faults, driven as a user drives nextword: a subprocess per
command. Each case asserts the exit code, that stderr is one line `nextword: error: ...` (no
traceback) saying what it must, and that the output folder and any earlier model are exactly as
they were (every file, hidden temporaries included). docs/reliability.md lists the same cases.
"""
from __future__ import annotations

import bz2
import errno
import gzip
import hashlib
import json
import lzma
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.model import load_model
from nextword.ngram.estimators import make_estimator
from nextword.ngram.model import NgramModel
from nextword.text.vocabulary import Vocabulary

SRC = Path(__file__).resolve().parents[1] / "src"
LINES = ["the cat sat on the mat", "the dog ran in the park", "a cat sat", "a dog ran",
         "the cat ran", "a dog sat on the mat"]


def nextword(*args, cwd: Path, check_one_line: bool = True, timeout: float = 120):
    """Run `python -m nextword ARGS` as a user would; (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "nextword", *map(str, args)], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


# a long step writes a progress line every few seconds when stderr is not a terminal
PROGRESS = re.compile(r"^nextword: (?!error: |note: ).*\b\d+ s\b.*\n", re.M)


def one_line_error(code: int, err: str, expected: str, exit_code: int | None = None) -> None:
    assert code != 0 and "Traceback" not in err, err
    err = PROGRESS.sub("", err)
    assert err.count("\n") == 1 and err.startswith("nextword: error: "), err
    assert expected in err, err
    if exit_code is not None:
        assert code == exit_code, (code, err)


def snapshot(folder: Path) -> dict:
    """Every file under `folder` (hidden ones too) -> SHA-256 of its bytes."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    """A working folder: corpus.txt, and one model of each kind that tests must not damage."""
    root = tmp_path_factory.mktemp("catalogue")
    (root / "corpus.txt").write_text("\n".join(LINES) + "\n")
    sentences = [line.split() for line in LINES]
    NgramModel.fit(sentences, 3, make_estimator("modified-kneser-ney", discount_fallback=True)
                   ).save(root / "ngram")
    from nextword.reference.train import TrainConfig as RNNTrain, train_numpy_rnn

    train_numpy_rnn(sentences, RNNTrain(embedding_dim=4, hidden_dim=4, epochs=1)).save(root / "numpy-rnn")
    from nextword.neural.recurrent import RecurrentConfig
    from nextword.neural.train import TrainConfig, train

    vocab = Vocabulary.build(sentences)
    train(RecurrentConfig("lstm", len(vocab), 8, 8, 1, dropout=0.0, tie=False),
          TrainConfig(optimizer="adam", lr=0.02, batch_size=2, bptt=4, epochs=1, eval_batch_size=2),
          vocab, sentences, sentences, root / "lstm-run", notify=lambda message: None)
    return root


def unchanged(place: Path, run, *folders: str) -> None:
    """Run `run()` and check that no file under `place` changed, appeared or vanished."""
    before = snapshot(place)
    run()
    after = snapshot(place)
    assert after == before, sorted(set(after.items()) ^ set(before.items()))


# ---- 1. writing output ------------------------------------------------------------------------
WRITING = {
    "output is a file": (["train", "ngram", "--corpus", "corpus.txt", "-o", "corpus.txt"],
                         "corpus.txt: exists and is a file, not a model folder"),
    "output under a file": (["train", "ngram", "--corpus", "corpus.txt", "-o", "corpus.txt/m"],
                            "corpus.txt: exists and is a file, not a folder"),
    "export --arpa onto a folder": (["export", "ngram", "--arpa", "lstm-run"],
                                    "lstm-run: is a folder; give a file name to write"),
    "plot onto a folder": (["explain", "bptt", "--steps", "3", "--plot", "ngram"],
                           "ngram: is a folder; give a file name to write"),
    "n-gram into an RNN run": (["train", "ngram", "--corpus", "corpus.txt", "-o", "lstm-run",
                                "--discount-fallback"],
                               "lstm-run: holds an lstm training run (resume.pt); choose another "
                               "output folder, or pass --force to replace it whole"),
    "numpy-rnn into an n-gram folder": (["train", "numpy-rnn", "--corpus", "corpus.txt", "-o",
                                         "ngram", "--epochs", "1"],
                                        "ngram: holds an ngram model, not a numpy-rnn model; "
                                        "choose another output folder, or pass --force"),
    "lstm into an n-gram folder": (["train", "lstm", "--corpus", "corpus.txt", "--valid",
                                    "corpus.txt", "-o", "ngram", "--epochs", "1"],
                                   "ngram: holds an ngram model, not an lstm model"),
    "numpy-rnn into an RNN run": (["train", "numpy-rnn", "--corpus", "corpus.txt", "-o",
                                   "lstm-run"], "lstm-run: holds an lstm training run"),
    "a fresh run onto a run": (["train", "lstm", "--corpus", "corpus.txt", "--valid",
                                "corpus.txt", "-o", "lstm-run", "--epochs", "1"],
                               "pass --resume to continue it, choose another output folder, or "
                               "pass --force"),
    "a folder of other files": (["train", "ngram", "--corpus", "corpus.txt", "-o", ".",
                                 "--discount-fallback"],
                                "holds files that are not a nextword model"),
    "demo into another model": (["demo", "-o", "numpy-rnn"],
                                "numpy-rnn: holds a numpy-rnn model, not an ngram model"),
}


@pytest.mark.parametrize("case", list(WRITING))
def test_writing_output(place, case):
    args, expected = WRITING[case]
    unchanged(place, lambda: one_line_error(*nextword(*args, cwd=place)[::2], expected))


def read_only_folder(tmp_path: Path) -> Path:
    """A folder no one may write to: a read-only tmpfs as root (who ignores permissions),
    else permissions."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                          capture_output=True).returncode != 0:
            pytest.fail("running as root, but cannot mount a tmpfs to test a read-only output")
    else:
        folder.chmod(0o555)
    return folder


def release(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["umount", str(folder)], capture_output=True)
    else:
        folder.chmod(0o755)


def test_read_only_output_is_refused_before_the_work(place, tmp_path):
    folder = read_only_folder(tmp_path)
    try:
        for args in (["train", "ngram", "--corpus", place / "corpus.txt", "-o", folder / "m",
                      "--discount-fallback"],
                     ["export", place / "ngram", "--arpa", folder / "m.arpa"]):
            code, _, err = nextword(*args, cwd=tmp_path)
            one_line_error(code, err, f"{folder}: cannot write (", exit_code=1)
            assert "Read-only file system" in err or "Permission denied" in err
        assert snapshot(folder) == {}
    finally:
        release(folder)


def test_force_replaces_another_model_whole(place, tmp_path):
    target = tmp_path / "m"
    code, _, err = nextword("train", "numpy-rnn", "--corpus", place / "corpus.txt", "-o", target,
                            "--epochs", "1", "--hidden-dim", "4", "--embedding-dim", "4", cwd=tmp_path)
    assert code == 0, err
    code, _, err = nextword("train", "ngram", "--corpus", place / "corpus.txt", "-o", target,
                            "--discount-fallback", "--force", cwd=tmp_path)
    assert code == 0, err
    assert json.loads((target / "model.json").read_text())["type"] == "ngram"
    assert not (target / "weights.npz").exists()                     # replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]        # no temporary left


# ---- 2. values that are odd, not malformed ---------------------------------------------------
ODD = {
    "--lr inf": (["train", "lstm", "--corpus", "corpus.txt", "--valid", "corpus.txt", "-o", "new",
                  "--lr", "inf"], "--lr must be a finite number, got inf", 2),
    "--lr nan (numpy-rnn)": (["train", "numpy-rnn", "--corpus", "corpus.txt", "-o", "new", "--lr",
                              "nan"], "--lr must be a finite number, got nan", 2),
    "--delta inf": (["train", "ngram", "--corpus", "corpus.txt", "-o", "new", "--smoothing",
                     "add-delta", "--delta", "inf"], "--delta must be a finite number, got inf", 2),
    "--order 1000": (["train", "ngram", "--corpus", "corpus.txt", "-o", "new", "--order", "1000"],
                     "--order must be in [1, 20], got 1000", 2),
    "--min-count 1000000": (["train", "ngram", "--corpus", "corpus.txt", "-o", "new",
                             "--min-count", "1000000"],
                            "--min-count 1,000,000 keeps no word of the training text (its most "
                            "frequent word, 'the', occurs 6 times)", 1),
    "--max-vocab 3": (["train", "ngram", "--corpus", "corpus.txt", "-o", "new", "--max-vocab", "3"],
                      "--max-vocab must be >= 4, got 3", 2),
    "generate --seed -1": (["generate", "ngram", "--seed", "-1"],
                           "--seed must be in [0, 9223372036854775807], got -1", 2),
    "numpy-rnn --seed -1": (["train", "numpy-rnn", "--corpus", "corpus.txt", "-o", "new", "--seed",
                             "-1"], "--seed must be in [0, 9223372036854775807], got -1", 2),
    "explain --seed -1": (["explain", "bptt", "--seed", "-1"], "--seed must be in [0, ", 2),
    "demo --seed -1": (["demo", "-o", "new", "--seed", "-1"], "--seed must be in [0, ", 2),
    "--threads -1": (["train", "gru", "--corpus", "corpus.txt", "--valid", "corpus.txt", "-o",
                      "new", "--threads", "-1"], "--threads must be >= 1, got -1", 2),
    "--threads 0": (["train", "window", "--corpus", "corpus.txt", "--valid", "corpus.txt", "-o",
                     "new", "--threads", "0"], "--threads must be >= 1, got 0", 2),
    "explain bptt --steps 1": (["explain", "bptt", "--steps", "1"], "--steps must be >= 2, got 1", 2),
    "--temperature nan": (["generate", "ngram", "--temperature", "nan"],
                          "--temperature must be a finite number, got nan", 2),
    "--top-p 2": (["generate", "ngram", "--top-p", "2"], "--top-p must be in (0, 1], got 2.0", 2),
    "--dropout 1": (["train", "rnn", "--corpus", "corpus.txt", "--valid", "corpus.txt", "-o", "new",
                     "--dropout", "1"], "--dropout must be in [0, 1), got 1.0", 2),
    "--lr abc": (["train", "numpy-rnn", "--corpus", "corpus.txt", "-o", "new", "--lr", "abc"],
                 "Invalid value for '--lr': 'abc' is not a number", 2),
}


@pytest.mark.parametrize("case", list(ODD))
def test_odd_values(place, case):
    args, expected, exit_code = ODD[case]
    unchanged(place, lambda: one_line_error(*nextword(*args, cwd=place)[::2], expected, exit_code))
    assert not (place / "new").exists()


# ---- 3. corrupt files -------------------------------------------------------------------------
def _truncate_weights(m: Path):
    data = (m / "weights.npz").read_bytes()
    (m / "weights.npz").write_bytes(data[: len(data) // 2])


def _array_of_wrong_length(m: Path):
    path = m / "arrays" / "logprob_2.npy"
    np.save(path, np.load(path)[:-1])


def _json_list(m: Path):
    (m / "model.json").write_text("[1, 2, 3]\n")


def _swap_vocab_lines(m: Path):
    lines = (m / "vocab.txt").read_text().splitlines(keepends=True)
    lines[3], lines[4] = lines[4], lines[3]
    (m / "vocab.txt").write_text("".join(lines))


def _path_outside(m: Path):
    meta = json.loads((m / "model.json").read_text())
    meta["files"]["../corpus.txt"] = meta["files"].pop("vocab.txt")
    (m / "model.json").write_text(json.dumps(meta))


def _flip_array_bytes(m: Path):
    path = m / "arrays" / "keys_2.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


CORRUPT = {
    "truncated weights.npz": ("numpy-rnn", _truncate_weights,
                              "weights.npz: {size} bytes, but model.json recorded"),
    "n-gram array of the wrong length": ("ngram", _array_of_wrong_length,
                                         "logprob_2.npy: {size} bytes, but model.json recorded"),
    "model.json holding a JSON list": ("ngram", _json_list,
                                       "model.json: expected a JSON object, got a list"),
    "vocab.txt lines swapped": ("ngram", _swap_vocab_lines,
                                "vocab.txt: checksum does not match the one in model.json"),
    "a path outside the folder": ("ngram", _path_outside,
                                  "model.json: file '../corpus.txt' points outside the model folder"),
    "an array's bytes changed": ("ngram", _flip_array_bytes,
                                 "keys_2.npy: checksum does not match the one in model.json"),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_model_files(place, tmp_path, case):
    kind, damage, expected = CORRUPT[case]
    import shutil

    model = tmp_path / kind
    shutil.copytree(place / kind, model)
    damage(model)
    (tmp_path / "corpus.txt").write_text("\n".join(LINES) + "\n")
    for name in ("weights.npz", "arrays/logprob_2.npy"):
        if (model / name).exists():
            expected = expected.replace("{size}", f"{(model / name).stat().st_size:,}")
    before = snapshot(tmp_path)
    code, _, err = nextword("eval", model, "--corpus", "corpus.txt", cwd=tmp_path)
    one_line_error(code, err, expected, exit_code=1)
    assert snapshot(tmp_path) == before


def test_corrupt_files_without_a_manifest_are_caught_by_the_loaders(place, tmp_path):
    """Folders written before model.json listed checksums: the loaders' own checks."""
    import shutil

    from manifest_helpers import drop_manifest

    bigrams = len(np.load(place / "ngram" / "arrays" / "keys_2.npy"))
    cases = [("numpy-rnn", _truncate_weights, "weights.npz: corrupt or truncated weights"),
             ("ngram", _array_of_wrong_length, rf"logprob_2.npy: {bigrams - 1} entries, expected "
                                               rf"{bigrams} \(the 2-gram keys\)")]
    for kind, damage, expected in cases:
        model = tmp_path / kind
        shutil.copytree(place / kind, model)
        damage(model)
        drop_manifest(model)
        with pytest.raises(NextwordError, match=expected):
            load_model(model)


def test_an_arpa_header_announcing_too_many_ngrams(place, tmp_path):
    code, _, err = nextword("export", place / "ngram", "--arpa", tmp_path / "m.arpa", cwd=tmp_path)
    assert code == 0, err
    text = (tmp_path / "m.arpa").read_text()
    bad = tmp_path / "bad.arpa"
    bad.write_text(re.sub(r"ngram 2=\d+", "ngram 2=999999999999", text))
    code, _, err = nextword("eval", bad, "--corpus", place / "corpus.txt", cwd=tmp_path)
    one_line_error(code, err, "bad.arpa:1: the header announces 999,999,999,999 2-grams, more than "
                              f"a file of {bad.stat().st_size:,} bytes can hold", exit_code=1)
    with gzip.open(tmp_path / "bad.arpa.gz", "wb") as handle:       # size unknown: read and see
        handle.write(bad.read_bytes())
    code, _, err = nextword("eval", tmp_path / "bad.arpa.gz", "--corpus", place / "corpus.txt",
                            cwd=tmp_path)
    one_line_error(code, err, "the header announces 999999999999", exit_code=1)


# ---- 4. text input ----------------------------------------------------------------------------
TEXT = {
    "NUL byte": (b"the cat\nthe d\x00og sat\n", "bad.txt:2:6: control character U+0000"),
    "control character": (b"a b\x01c\n", "bad.txt:1:4: control character U+0001"),
    "blank lines only": (b"\n\n  \n", "the training text has no words (3 sentence(s)"),
    "binary file": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "bad.txt:1: invalid UTF-8"),
    "truncated gzip": (gzip.compress(("the cat sat\n" * 200).encode())[:40],
                       "cannot read (Compressed file ended before the end-of-stream marker was "
                       "reached)"),
}


@pytest.mark.parametrize("case", list(TEXT))
def test_text_input_errors(tmp_path, case):
    content, expected = TEXT[case]
    (tmp_path / "bad.txt").write_bytes(content)
    before = snapshot(tmp_path)
    code, _, err = nextword("train", "ngram", "--corpus", "bad.txt", "-o", "m",
                            "--discount-fallback", cwd=tmp_path)
    one_line_error(code, err, expected, exit_code=1)
    assert snapshot(tmp_path) == before


def test_a_byte_order_mark_is_skipped_and_said_once(place, tmp_path):
    text = "\n".join(LINES) + "\n"
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "plain.txt").write_text(text)
    results = []
    for name in ("bom.txt", "plain.txt"):
        code, out, err = nextword("eval", place / "ngram", "--corpus", name, "--json", cwd=tmp_path)
        assert code == 0, err
        results.append((json.loads(out), err))
    (bom, bom_err), (plain, plain_err) = results
    assert bom_err == "nextword: note: bom.txt: skipped the UTF-8 byte-order mark at its start\n"
    assert plain_err == ""
    assert bom["oov"] == plain["oov"] == 0 and bom["log_prob"] == plain["log_prob"]


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_corpora_and_arpa_files_are_read_as_kenlm_reads_them(place, tmp_path, compress):
    text = ("\n".join(LINES) + "\n").encode()
    (tmp_path / "corpus.txt").write_bytes(text)
    (tmp_path / "corpus.z").write_bytes(compress(text))
    code, _, err = nextword("export", place / "ngram", "--arpa", "m.arpa", cwd=tmp_path)
    assert code == 0, err
    (tmp_path / "m.arpa.z").write_bytes(compress((tmp_path / "m.arpa").read_bytes()))
    scores = []
    for model, corpus in (("m.arpa", "corpus.txt"), ("m.arpa.z", "corpus.z")):
        code, out, err = nextword("eval", model, "--corpus", corpus, "--json", cwd=tmp_path)
        assert code == 0 and err == "", err
        scores.append(json.loads(out)["log_prob"])
    assert scores[0] == scores[1]


# ---- 5. resume is explicit --------------------------------------------------------------------
def test_resume_says_what_it_resumes_applies_what_may_change_and_refuses_the_rest(place, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(place / "lstm-run", run)
    (tmp_path / "corpus.txt").write_text("\n".join(LINES) + "\n")
    flags = ["train", "lstm", "--corpus", "corpus.txt", "--valid", "corpus.txt", "-o", "run",
             "--embedding-dim", "8", "--hidden-dim", "8", "--layers", "1", "--dropout", "0",
             "--no-tie", "--resume"]
    before = snapshot(run)
    code, _, err = nextword(*flags, "--lr", "0.5", cwd=tmp_path)
    one_line_error(code, err, "run: the run being resumed has --lr 0.02 (asked 0.5); a resumed "
                              "run keeps these", exit_code=1)
    assert snapshot(run) == before
    code, _, err = nextword(*flags, "--epochs", "2", cwd=tmp_path)
    assert code == 0, err
    lines = err.splitlines()
    assert lines[0] == "nextword: note: applied on resume: --epochs 2 (was 1)"
    assert lines[1].startswith("nextword: note: resuming the run in run: epoch 2 (0 of ")
    # 27 words + 6 </s> = 33 tokens -> 2 streams of 16 -> (16 - 1) / 4 = 3.75: 4 segments per
    # epoch, so the run being resumed stopped after 1 epoch at step 4
    assert "(0 of 4 segments done), step 4, " in lines[1]
    assert "best validation perplexity" in lines[1]


# ---- 6. faults: disk full, kill -9 and Ctrl-C during a save, Ctrl-C while training -----------
SLOW_SAVE = """
import sys, time, numpy as np
real = np.save
def slow(*args, **kwargs):
    real(*args, **kwargs)
    print("saving", flush=True)
    time.sleep(30)
np.save = slow
from nextword.cli import main
sys.exit(main(sys.argv[1:]))
"""
SLOW_EXPORT = """
import sys, threading, time
import nextword.ngram.arpa as arpa
real = arpa._number_bytes
def slow(values):
    # the main thread stalls (where Ctrl-C lands); the helper formatting the next block does not
    if threading.current_thread() is threading.main_thread():
        print("writing", flush=True)
        time.sleep(30)
    return real(values)
arpa._number_bytes = slow
from nextword.cli import main
sys.exit(main(sys.argv[1:]))
"""
SLOW_TRAINING = """
import sys, time
import nextword.neural.train as train
real, calls = train.train_step, []
def slow(*args, **kwargs):
    calls.append(1)
    if len(calls) == 5:            # in the second epoch, after resume.pt was written
        print("training", flush=True)
        time.sleep(30)
    return real(*args, **kwargs)
train.train_step = slow
from nextword.cli import main
sys.exit(main(sys.argv[1:]))
"""


def interrupted(script: str, args: list, cwd: Path, sig: int):
    """Run the CLI with a patched slow step; send `sig` when it prints it is in that step."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"}
    process = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.strip() in ("saving", "writing", "training"), process.stderr.read()
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_save_killed_or_interrupted_leaves_the_previous_model(place, tmp_path, sig):
    import shutil

    shutil.copytree(place / "ngram", tmp_path / "m")
    (tmp_path / "corpus.txt").write_text("\n".join(LINES * 3) + "\n")
    before = snapshot(tmp_path / "m")
    code, err = interrupted(SLOW_SAVE, ["train", "ngram", "-o", "m", "--corpus", "corpus.txt",
                                        "--order", "4", "--smoothing", "add-delta"], tmp_path, sig)
    assert snapshot(tmp_path / "m") == before                       # previous model intact
    load_model(tmp_path / "m", verify=True)
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    if sig == signal.SIGINT:
        assert code == 130 and err == "nextword: interrupted\n"
        assert left == []                                           # the temporary is removed
    else:
        assert code == -signal.SIGKILL and len(left) == 1           # nothing can run on kill -9
        code, _, err = nextword("train", "ngram", "-o", "m", "--corpus", "corpus.txt",
                                "--discount-fallback", cwd=tmp_path)
        assert code == 0, err                                       # the next save removes it
        assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "m"]


def test_ctrl_c_during_export_leaves_no_partial_file(place, tmp_path):
    (tmp_path / "m.arpa").write_text("the previous file\n")
    code, err = interrupted(SLOW_EXPORT, ["export", place / "ngram", "--arpa", "m.arpa"],
                            tmp_path, signal.SIGINT)
    assert code == 130 and err == "nextword: interrupted\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.arpa"]
    assert (tmp_path / "m.arpa").read_text() == "the previous file\n"


def test_ctrl_c_during_training_says_how_to_resume(tmp_path):
    (tmp_path / "corpus.txt").write_text("\n".join(LINES) + "\n")
    args = ["train", "lstm", "--corpus", "corpus.txt", "--valid", "corpus.txt", "-o", "run",
            "--embedding-dim", "8", "--hidden-dim", "8", "--layers", "1", "--batch-size", "2",
            "--bptt", "4", "--epochs", "3"]
    code, err = interrupted(SLOW_TRAINING, args, tmp_path, signal.SIGINT)
    assert code == 130
    assert err == ("nextword: interrupted; the run in run is kept as of its last checkpoint; the "
                   "same command with --resume continues it\n")
    assert (tmp_path / "run" / "resume.pt").exists()
    load_model(tmp_path / "run")                                     # the best model loads
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB filesystem (tmpfs) when running as root; None otherwise."""
    if os.geteuid() != 0:
        yield None
        return
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.fail("running as root, but cannot mount a tmpfs to simulate a full disk")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


@pytest.mark.parametrize("family", ["ngram", "numpy-rnn", "lstm"])
def test_a_full_disk_leaves_the_previous_model(place, tmp_path, small_disk, family):
    if small_disk is None:
        pytest.skip("a tmpfs needs root; test_a_writer_failing_midway covers this case")
    import shutil

    shutil.copytree(place / "ngram", small_disk / "m")
    free = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 8192))
    rng = np.random.default_rng(0)                 # 3,000 random tokens: models of 100+ KB
    words = [f"w{i}" for i in range(200)]
    (tmp_path / "corpus.txt").write_text(
        "".join(" ".join(rng.choice(words, 10)) + "\n" for _ in range(300)))
    output, extra = {
        "ngram": ("m", ["--order", "5", "--smoothing", "add-delta"]),       # same kind: replaced
        "numpy-rnn": ("m", ["--force", "--epochs", "1", "--hidden-dim", "64"]),
        "lstm": ("run", ["--valid", "corpus.txt", "--epochs", "1", "--hidden-dim", "64"]),
    }[family]
    before = snapshot(small_disk / "m")
    code, _, err = nextword("train", family, "--corpus", "corpus.txt", "-o", small_disk / output,
                            *extra, cwd=tmp_path)
    one_line_error(code, err, "No space left on device", exit_code=1)
    assert snapshot(small_disk / "m") == before                        # previous model intact
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "m"]   # nothing partial


def test_a_writer_failing_midway_leaves_the_previous_model(place, tmp_path, monkeypatch):
    """The same fault without a small filesystem: np.save fails on its third array."""
    import shutil

    shutil.copytree(place / "ngram", tmp_path / "m")
    before = snapshot(tmp_path)
    real, calls = np.save, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "save", failing)
    lm = NgramModel.fit([line.split() for line in LINES * 2], 3,
                        make_estimator("modified-kneser-ney", discount_fallback=True))
    with pytest.raises(NextwordError, match=r"m: cannot write \(No space left on device\); free "):
        lm.save(tmp_path / "m")
    assert snapshot(tmp_path) == before                                # nothing else there


# ---- crashes the fuzzer (benchmarks/fuzz.py) found, each now a one-line error ----------------
FUZZ_FOUND = {
    "estimator is a list": ({"estimator": [1]}, "model.json: 'estimator' must be an object"),
    "unseen_context_logbackoff is NaN": ({"unseen_context_logbackoff": float("nan")},
                                         "unseen_context_logbackoff must be a finite number, got nan"),
    "estimator name is an object": ({"estimator": {"name": {"config": False}}},
                                    "model.json: the estimator's name must be a string, got "
                                    "{'config': False}"),
    "discounts are a string": ({"estimator": {"name": "modified-kneser-ney", "discounts": "x"}},
                               "model.json: the estimator's discounts must be a list"),
}


@pytest.mark.parametrize("case", list(FUZZ_FOUND))
def test_model_json_values_the_fuzzer_found(place, tmp_path, case):
    import shutil

    change, expected = FUZZ_FOUND[case]
    shutil.copytree(place / "ngram", tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    (tmp_path / "m" / "model.json").write_text(json.dumps({**meta, **change}))
    with pytest.raises(NextwordError, match=re.escape(expected)):
        load_model(tmp_path / "m")
