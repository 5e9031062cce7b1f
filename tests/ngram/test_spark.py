"""Kneser–Ney on a real local Spark session (two worker threads) equals the in-process build."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.model import load_model
from nextword.ngram.arpa import read_arpa, write_arpa
from nextword.ngram.kneser_ney import ModifiedKneserNey
from nextword.ngram.model import NgramModel
from nextword.text.corpora import load_corpus

pyspark = pytest.importorskip("pyspark", reason="the spark extra (pip install 'nextword[spark]')")


@pytest.fixture(scope="module")
def spark():
    from nextword.ngram.spark import session

    spark = session(workers=2, shuffle_partitions=2)
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """150 PTB lines, a blank line and a line with tabs and padding (the whitespace tokenizer's
    cases), in two files: Spark reads a list of paths."""
    from nextword.text.corpora import data_dir
    DATA = data_dir()

    lines = (DATA / "ptb" / "ptb.train.txt").read_text().splitlines()[:150]
    folder = tmp_path_factory.mktemp("spark-corpus")
    (folder / "a.txt").write_text("\n".join(lines[:60] + ["", "  the\tcompany  said "]) + "\n")
    (folder / "b.txt").write_text("\n".join(lines[60:]) + "\n")
    return [folder / "a.txt", folder / "b.txt"]


def in_process(paths, order, **options):
    sentences = [s for p in paths for s in load_corpus(str(p))]
    estimator = options.pop("estimator", ModifiedKneserNey())
    return NgramModel.fit(sentences, order, estimator, **options)


def assert_same(got, ref, tol):
    assert got.vocab == ref.vocab
    for k in range(2, ref.order + 1):
        assert np.array_equal(got.keys[k], ref.keys[k]), k
    for k in range(1, ref.order + 1):
        np.testing.assert_allclose(got.tables.logprob[k], ref.tables.logprob[k], rtol=0, atol=tol)
        if k < ref.order:
            np.testing.assert_allclose(got.tables.logbackoff[k], ref.tables.logbackoff[k],
                                       rtol=0, atol=tol)


def test_spark_build_equals_in_process(spark, corpus_file, tmp_path, monkeypatch):
    """Order 3 with count cut-offs on bigrams and trigrams (a lower order's cut-off needs its
    raw counts: counted in full) and --min-count 2 (words seen once become <unk>, mapped by a
    broadcast join): the model folder and the ARPA file of the in-process build. The ARPA
    lines stream to the driver, as from a cluster, in partitions of at most 500 (as of a
    million for a large model); the next test takes local mode's files instead."""
    from nextword.ngram import spark as engine
    from nextword.ngram.spark import build_with_spark

    monkeypatch.setattr(engine, "STREAM_LINES", 500)
    monkeypatch.setattr(engine, "LOCAL_PARTS", False)

    options = {"prune": (0, 1, 1), "min_count": 2}
    estimator = ModifiedKneserNey(discount_fallback=True)
    ref = in_process(corpus_file, 3, estimator=estimator, **options)
    info = build_with_spark(spark, corpus_file, 3, tmp_path / "m", arpa=tmp_path / "m.arpa",
                            estimator=estimator, **options)
    model = load_model(tmp_path / "m")
    assert_same(model, ref, tol=1e-9)
    assert model.estimator == ref.estimator and model.vocab.counts == ref.vocab.counts
    assert ref.vocab.counts[0] > 0                                     # <unk> did occur
    assert info["ngrams"] == {1: len(ref.vocab), **{k: len(ref.keys[k]) for k in (2, 3)}}
    # the ARPA file: the in-process writer's entries, to 1e-6 in log10
    write_arpa(ref, tmp_path / "ref.arpa")
    assert_same(read_arpa(tmp_path / "m.arpa"), read_arpa(tmp_path / "ref.arpa"), tol=1e-6 * np.log(10))


def test_spark_build_without_an_arpa_file_leaves_only_the_model(spark, corpus_file, tmp_path):
    """A folder without an ARPA path: the ARPA text is a temporary file beside the folder,
    written from the executors' files (local mode), and removed with them."""
    from nextword.ngram.spark import build_with_spark

    estimator = ModifiedKneserNey(discount_fallback=True)
    build_with_spark(spark, corpus_file, 2, tmp_path / "m", estimator=estimator)
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert_same(load_model(tmp_path / "m"), in_process(corpus_file, 2, estimator=estimator), tol=1e-9)


@pytest.mark.parametrize("outputs", [("-o",), ("--arpa",), ("-o", "--arpa")])
def test_the_command_reads_the_model_once_spark_has_stopped(spark, corpus_file, tmp_path,
                                                          monkeypatch, outputs):
    """`train ngram --engine spark` with -o M, --arpa F or both: Spark writes the ARPA text (F,
    else a temporary file beside M); the folder is read from it after the session has ended
    (in local mode the JVM's memory is then free for the arrays), and only when asked for.
    The folder is the in-process model, F its ARPA file (to 1e-6 in log10), nothing else is
    left."""
    import contextlib

    from nextword.cli import main
    from nextword.ngram import spark as engine

    events = []

    @contextlib.contextmanager
    def running(cluster, workers):          # the module's session, left running for the others
        events.append("start")
        yield spark
        events.append("stop")

    def save(*args):
        events.append("save")
        real(*args)

    real = engine.save_from_arpa
    monkeypatch.setattr(engine, "running", running)
    monkeypatch.setattr(engine, "save_from_arpa", save)
    paths = {"-o": tmp_path / "m", "--arpa": tmp_path / "m.arpa"}
    flags = [str(item) for flag in outputs for item in (flag, paths[flag])]
    code = main(["train", "ngram", "--order", "3", "--corpus", ",".join(map(str, corpus_file)),
                 "--engine", "spark", "--discount-fallback", *flags])
    assert code == 0 and events == ["start", "stop"] + (["save"] if "-o" in outputs else [])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(paths[f].name for f in outputs)
    ref = in_process(corpus_file, 3, estimator=ModifiedKneserNey(discount_fallback=True))
    if "-o" in outputs:
        assert_same(load_model(tmp_path / "m"), ref, tol=1e-9)
    if "--arpa" in outputs:
        write_arpa(ref, tmp_path / "ref.arpa")
        assert_same(read_arpa(tmp_path / "m.arpa"), read_arpa(tmp_path / "ref.arpa"),
                    tol=1e-6 * np.log(10))


def test_keys_pack_and_unpack_ids(spark):
    """A k-gram's ids survive packing, m ids to a long (3 bits each: 2, 3 or 21 to a long,
    the last long partly full), and a suffix packed from unpacked ids is the one packed from
    the ids."""
    from pyspark.sql import functions as F

    from nextword.ngram import spark as engine

    rng = np.random.default_rng(0)
    rows = [(rng.integers(0, 8, size=7).tolist(),) for _ in range(50)] + [([7] * 7,), ([0] * 7,)]
    frame = spark.createDataFrame(rows, "w array<int>")
    for bits in (6, 9, 63):
        keys = engine.Keys.__new__(engine.Keys)
        keys.b, keys.m = 3, bits // 3
        for k in (1, 4, 7):
            packed = frame.select("w", *keys.pack([F.col("w")[i] for i in range(k)], "g"))
            assert len(keys.names("g", k)) == -(-k // keys.m)
            back = packed.select("w", F.array(*keys.unpack("g", k)).alias("ids"),
                                 *keys.pack(keys.unpack("g", k)[1:], "s") if k > 1 else [])
            for row in back.collect():
                assert row["ids"] == row["w"][:k]
            if k > 1:        # the suffix packed again equals the suffix packed from the ids
                direct = frame.select(*keys.pack([F.col("w")[i] for i in range(1, k)], "s"))
                assert sorted(back.select(*keys.names("s", k - 1)).collect()) == sorted(direct.collect())
    assert engine.Keys(8).b == 3 and engine.Keys(9).b == 4 and engine.Keys(1).b == 1


def test_spark_build_with_keys_of_several_columns(spark, corpus_file, tmp_path, monkeypatch):
    """Order 5 with two words to a key column (a 5-gram is three columns, the last half
    full; a context is two): the in-process model all the same."""
    from nextword.ngram import spark as engine

    estimator = ModifiedKneserNey(discount_fallback=True)
    ref = in_process(corpus_file, 5, estimator=estimator)
    monkeypatch.setattr(engine, "KEY_BITS", 2 * (len(ref.vocab) - 1).bit_length() + 1)
    assert engine.Keys(len(ref.vocab)).m == 2
    engine.build_with_spark(spark, corpus_file, 5, tmp_path / "m", estimator=estimator)
    assert_same(load_model(tmp_path / "m"), ref, tol=1e-9)


def test_missing_java_or_pyspark_is_one_line(monkeypatch, tmp_path):
    from nextword.ngram import spark as engine

    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(NextwordError, match="needs Java 17"):
        engine.check_java()
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(NextwordError, match=r"pip install 'nextword\[spark\]'"):
        engine.session()


def test_a_failed_spark_job_is_one_line_and_the_session_stops(monkeypatch):
    """What Py4J raises when a job dies (here the JVM after an OutOfMemoryError) becomes a
    NextwordError naming the Java exception; other errors pass unchanged; stop runs either way."""
    from nextword.ngram import spark as engine

    class Py4JJavaError(Exception):
        pass
    Py4JJavaError.__module__ = "py4j.protocol"

    class Session:
        stopped = 0

        def stop(self):
            Session.stopped += 1
            raise RuntimeError("the JVM is gone")        # stopping a dead session fails too

    monkeypatch.setattr(engine, "session", lambda cluster, workers: Session())
    monkeypatch.setenv("NEXTWORD_SPARK_DRIVER_MEMORY", "3g")
    with pytest.raises(NextwordError) as caught:
        with engine.running(None, 1):
            raise Py4JJavaError("An error occurred while calling o965.count.\n: "
                                "java.lang.NullPointerException: dagScheduler() is null\n\tat x")
    message = str(caught.value)
    assert "\n" not in message and "(java.lang.NullPointerException: dagScheduler() is null)" in message
    assert "NEXTWORD_SPARK_DRIVER_MEMORY in local mode, now 3g" in message
    with pytest.raises(NextwordError, match=r"failed \(lost the connection to Spark's JVM: "
                                            r"ConnectionRefusedError\)"):
        with engine.running(None, 1):      # the JVM exited: its socket refuses the driver
            raise ConnectionRefusedError(111, "Connection refused")
    with pytest.raises(KeyError):
        with engine.running(None, 1):
            raise KeyError("not Spark's")
    assert Session.stopped == 3


def test_a_session_that_cannot_start_is_one_line(corpus_file, tmp_path):
    """A driver heap below Spark's minimum (a fresh process: its own JVM): one line naming
    Spark's reason and the variable to change, exit status 1, no traceback, no folder."""
    import os
    import subprocess

    env = dict(os.environ, NEXTWORD_SPARK_DRIVER_MEMORY="200m")
    result = subprocess.run(
        [sys.executable, "-m", "nextword", "train", "ngram", "--order", "2", "--corpus",
         str(corpus_file[0]), "--engine", "spark", "-o", str(tmp_path / "m")],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("nextword: error: Spark did not start (")
    assert "Insufficient driver memory" in last and "NEXTWORD_SPARK_DRIVER_MEMORY, now 200m" in last
    assert not (tmp_path / "m").exists()


def test_a_command_session_ends_its_jvm(tmp_path):
    """`running` ends the JVM it launched when the session stops (PySpark would keep it, with
    its heap, for the rest of the process), and a later session launches a new one. In a
    fresh process: the module's session must keep its JVM."""
    import subprocess

    script = """
from pyspark import SparkContext
from nextword.ngram import spark as engine
with engine.running(None, 1) as spark:
    first = SparkContext._gateway.proc
    assert spark.range(5).count() == 5
assert first.poll() is not None and SparkContext._gateway is None
with engine.running(None, 1) as spark:
    assert spark.range(7).count() == 7
    second = SparkContext._gateway.proc
assert second is not first and second.poll() is not None
print("ended")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ended"


def test_driver_memory_defaults_to_half_the_machine(monkeypatch):
    import os

    from nextword.ngram.spark import driver_memory

    monkeypatch.delenv("NEXTWORD_SPARK_DRIVER_MEMORY", raising=False)
    half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 >> 30
    assert driver_memory() == f"{max(2, half)}g"
    monkeypatch.setenv("NEXTWORD_SPARK_DRIVER_MEMORY", "512m")
    assert driver_memory() == "512m"


@pytest.mark.parametrize("suffix", [".parquet"])
def test_spark_scores_every_line_as_in_process(spark, corpus_file, tmp_path, suffix):
    """One row per input line (blank and padded lines included) with the in-process score."""
    import json

    from nextword.scoring import score_lines, score_with_spark

    model = in_process(corpus_file[1:], 3, estimator=ModifiedKneserNey(discount_fallback=True))
    model.save(tmp_path / "m")
    result = score_with_spark(spark, tmp_path / "m", corpus_file[:1], tmp_path / f"s{suffix}")
    sentences = list(load_corpus(str(corpus_file[0])))
    expected = list(score_lines(model, sentences))
    if suffix:
        rows = [r.asDict() for r in spark.read.parquet(str(tmp_path / f"s{suffix}")).collect()]
    else:
        rows = [json.loads(line) for part in sorted((tmp_path / "s").glob("part-*"))
                for line in part.read_text().splitlines()]
    rows.sort(key=lambda r: r["line"])
    assert [r["tokens"] for r in rows] == [r["tokens"] for r in expected]
    np.testing.assert_allclose([r["logprob"] for r in rows], [r["logprob"] for r in expected],
                               rtol=1e-12)
    assert [r["oov"] for r in rows] == [r["oov"] for r in expected]
    assert rows[-1]["text"] == "  the\tcompany  said "
    assert result.log_prob == pytest.approx(sum(r["logprob"] for r in expected), rel=1e-12)
    assert result.sentences == len(sentences) == 62


def test_spark_splits_lines_the_in_process_reader_refuses(spark, corpus_file, tmp_path):
    """The executors score lines from their bytes; a batch holding a control character, which
    the in-process reader refuses, is scored from `str.split`'s token lists instead."""
    from nextword.scoring import score_lines, score_with_spark

    model = in_process(corpus_file[1:], 3, estimator=ModifiedKneserNey(discount_fallback=True))
    model.save(tmp_path / "m")
    lines = ["the company\x01said it", "the\x1ccompany said", "the company said"]
    (tmp_path / "c.txt").write_text("\n".join(lines) + "\n")
    result = score_with_spark(spark, tmp_path / "m", [tmp_path / "c.txt"])
    expected = list(score_lines(model, [line.split() for line in lines]))
    assert result.tokens == sum(r["tokens"] for r in expected) == 4 + 4 + 4
    assert result.log_prob == pytest.approx(sum(r["logprob"] for r in expected), rel=1e-12)


def test_the_shipped_package_is_removed_at_exit(monkeypatch):
    """The zip of nextword that executors import lies in a temporary folder that the process
    removes when it exits (Spark serves it from there until then)."""
    import atexit
    import zipfile
    from pathlib import Path

    from nextword.scoring import ship_package

    added, at_exit = [], []

    class Context:
        def addPyFile(self, path):
            added.append(path)

    class Session:
        sparkContext = Context()

    monkeypatch.setattr(atexit, "register", lambda fn, *args, **kw: at_exit.append((fn, args, kw)))
    ship_package(Session())
    ship_package(Session())                        # once per context
    assert len(added) == 1 and len(at_exit) == 1
    archive = Path(added[0])
    assert "nextword/scoring.py" in zipfile.ZipFile(archive).namelist()
    fn, args, kw = at_exit[0]
    fn(*args, **kw)
    assert not archive.parent.exists()
