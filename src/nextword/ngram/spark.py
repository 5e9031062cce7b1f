"""Modified Kneser–Ney as Apache Spark jobs: the vocabulary, the counts and every estimation
stage are DataFrame operations (native Spark: no Python code runs per n-gram on the executors),
so the corpus can live on any file system Spark reads (local, HDFS, S3) and the work spreads
over a cluster. The result is the in-process model (`NgramModel.fit`), to float rounding.

Every table is a DataFrame of n-grams as word ids packed into a few long columns (`Keys`),
and each formula of `nextword.ngram.kneser_ney` is one shuffle (the ones lmplz does as sorts):

    word ids        the vocabulary by a group-by of the words, ordered on the driver; each
                    line's words become ids by a broadcast join, regrouped by line
    raw counts      explode the n-grams of each padded line, group by the n-gram (the top
                    order; a lower order only where a count cut-off needs its raw counts)
    adjusted a(g)   the (k+1)-grams grouped by their suffix: N1+(• g); raw for <s>-initial
                    and top-order n-grams (every other k-gram is such a suffix)
    discounts       count-of-counts n1..n4 per order, collected: a few numbers
    contexts        a window over h = w1..w_{k-1}: Σ_x a(h x), Σ D(a) and the pruned rows'
                    share -> u(w | h) on every row, and γ(h)
    interpolate     join each k-gram to its suffix's P (order k-1): P = u + γ(h) P(suffix)
    backoffs        join each k-gram to γ of itself as a context; words spelled again by
                    broadcast joins for the ARPA lines

The driver holds only V-sized arrays (the unigram level, as lmplz holds its vocabulary) and
streams the ARPA lines out of the cluster (`toLocalIterator`), one order after the other (in
local mode the executors write them to files the driver appends, all partitions at once); the
model folder is then read from that ARPA file (its numbers are Java's shortest round-trip text
of each double, so nothing is lost). The driver's memory therefore grows with the model, not
with the corpus.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import atomic_path
from nextword.ngram.arpa import LN10
from nextword.ngram.interpolated import check_cutoffs, log_gamma
from nextword.ngram.kneser_ney import ModifiedKneserNey, count_of_counts
from nextword.text.vocabulary import BOS_ID, EOS_ID, UNK_ID, Vocabulary

# Python's str.split() splits on Unicode whitespace and on \x1c-\x1f; (?U) makes Java's \s Unicode
WHITESPACE = r"(?U)[\s\x1c-\x1f]+"
DEFAULT_WORKERS = 2
# ARPA lines per partition streamed to the driver: with 4 partitions a worker, the 5-grams of
# 10 M words came in partitions of ~2.4 M lines, more than a 5 GB heap could take
STREAM_LINES = 1_000_000
# in local mode the executors write the ARPA lines to files, in parallel, instead (measured:
# docs/benchmarks.md); on a cluster their disks are not the driver's, so the lines stream
LOCAL_PARTS = True
# bits of a (non-negative) long that a key packs word ids into; tests lower it to make keys of
# several columns from a small vocabulary
KEY_BITS = 63


def _pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession, functions
    except ImportError:
        raise NextwordError("--engine spark needs PySpark: pip install 'nextword[spark]'") from None
    return SparkSession, functions


def check_java() -> str:
    """The java executable Spark will start, or a one-line error."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise NextwordError("--engine spark needs Java 17 or later: no `java` on PATH"
                            + (f" nor at $JAVA_HOME={home}" if home else "")
                            + " (install openjdk-17-jre-headless or set JAVA_HOME)")
    return java


def driver_memory() -> str:
    """The driver's heap: $NEXTWORD_SPARK_DRIVER_MEMORY, else half of this machine's memory,
    at least 2g. In local mode the workers run inside the driver, so this is all the memory the
    job has (a fixed 2g ran out at 10 M words, a quarter of 23 GB at 100 M words); the Python
    side holds little until the session has stopped, when it reads the model folder."""
    given = os.environ.get("NEXTWORD_SPARK_DRIVER_MEMORY")
    if given:
        return given
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 0
    return f"{max(2, (total // 2) >> 30)}g"


@contextmanager
def running(cluster: str | None = None, workers: int = DEFAULT_WORKERS):
    """A session for one command, stopped at the end; a session that does not start or a failed
    Spark job becomes one line naming the Java error (Spark's own log, above it, has the
    details)."""
    try:
        spark = session(cluster, workers)
    except Exception as error:
        if not type(error).__module__.startswith(("py4j", "pyspark")):
            raise
        raise NextwordError(f"Spark did not start ({_java_error(error)}); in local mode its "
                            f"memory is NEXTWORD_SPARK_DRIVER_MEMORY, now {driver_memory()}") from None
    try:
        yield spark
    except Exception as error:
        if isinstance(error, ConnectionError):         # the JVM exited (out of heap, killed)
            error = f"lost the connection to Spark's JVM: {type(error).__name__}"
        elif type(error).__module__.startswith(("py4j", "pyspark")):
            error = _java_error(error)
        else:
            raise
        raise NextwordError(f"the Spark job failed ({error}); Spark's log above has "
                            "the cause: for an OutOfMemoryError give it more memory "
                            "(NEXTWORD_SPARK_DRIVER_MEMORY in local mode, now "
                            f"{driver_memory()}; spark.executor.memory on a cluster)") from None
    finally:
        try:
            spark.stop()
        except Exception:       # a JVM that died with the job cannot be stopped twice
            pass
        _end_jvm(spark)


def _end_jvm(spark) -> None:
    """End the JVM that this process launched for `spark`: PySpark keeps it after the session
    stops (for a next session, which a command does not have), holding its heap; the driver
    then reads the model folder in that memory. It exits when its stdin closes; a later session
    launches a new one."""
    SparkSession, _ = _pyspark()
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    process = getattr(gateway, "proc", None)
    if not isinstance(spark, SparkSession) or process is None:
        return
    try:
        gateway.shutdown()
    except Exception:           # pragma: no cover - a JVM already gone
        pass
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:       # pragma: no cover - a JVM that ignores its stdin
        process.kill()
        process.wait()
    SparkContext._gateway = SparkContext._jvm = None


def _java_error(error: Exception) -> str:
    """The Java exception line of a Py4J error ("...\n: java.lang.X: message"), else the first."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if line.startswith(": "):
            return line[2:]
    return lines[0] if lines else type(error).__name__


def session(cluster: str | None = None, workers: int = DEFAULT_WORKERS, app: str = "nextword",
            shuffle_partitions: int | None = None):
    """A SparkSession: local mode with `workers` threads, or the cluster at `cluster`
    (spark://host:7077, yarn, k8s://..., local[N])."""
    SparkSession, _ = _pyspark()
    check_java()
    master = cluster or f"local[{int(workers)}]"
    spark = (SparkSession.builder.master(master).appName(app)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(shuffle_partitions or 4 * int(workers)))
             .config("spark.sql.adaptive.enabled", "true")
             .config("spark.driver.memory", driver_memory())
             # a JVM out of heap exits (the command then fails with one line) instead of
             # leaving a dead thread that the driver waits on for ever; its "Terminating due
             # to java.lang.OutOfMemoryError" goes to stderr with Spark's log, not to stdout
             .config("spark.driver.extraJavaOptions",
                     "-XX:+ExitOnOutOfMemoryError -XX:+DisplayVMOutputToStderr")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def corpus_paths(spec: str) -> list:
    """What Spark should read for a corpus spec: a standard corpus's file (ptb:train, ...), or
    the spec itself (a local path, a glob, hdfs://..., s3a://...; several joined by commas)."""
    from nextword.text.corpora import DATA_ENV, STANDARD, data_dir

    name, _, split = spec.partition(":")
    if name in STANDARD and "/" not in spec:
        directory, files, tokenizer = STANDARD[name]
        split = split or "train"
        if tokenizer != "whitespace" or split not in files:
            raise NextwordError(f"--engine spark reads whole files split on whitespace; {spec} "
                                "is not one (use a file path)")
        path = data_dir() / directory / files[split]
        if not path.exists():
            raise NextwordError(f"{spec} not found: looked for {path}; set ${DATA_ENV}")
        return [str(path)]
    if name == "default":
        raise NextwordError("--engine spark reads files: the embedded default corpus is not one")
    paths = spec.split(",")
    for path in paths:       # Hadoop's readers skip "hidden" files: say so instead of 0 lines
        if Path(path).name.startswith(("_", ".")) and Path(path).is_file():
            raise NextwordError(f"{path}: Spark ignores files whose names start with '_' or "
                                "'.'; rename it")
    return paths


def sentences(spark, paths):
    """One row per input line: its whitespace-separated words (a blank line: no words)."""
    _, F = _pyspark()
    paths = [str(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    lines = spark.read.text(paths)
    return lines.select(F.filter(F.split("value", WHITESPACE), lambda w: w != "").alias("w"))


def build_vocabulary(spark, words, min_count: int = 1, max_vocab: int | None = None):
    """(Vocabulary, number of sentences): token counts by a Spark group-by, ordered and cut on
    the driver with `Vocabulary.build`'s rules."""
    _, F = _pyspark()
    num_sentences = words.count()
    if num_sentences == 0:
        raise NextwordError("the training corpus has no sentences")
    counted = words.select(F.explode("w").alias("t")).groupBy("t").count()
    counter = {row["t"]: row["count"] for row in counted.toLocalIterator()}
    return Vocabulary.from_counts(counter, num_sentences, min_count, max_vocab), num_sentences


class Keys:
    """k-grams of word ids as a few long columns: m = ⌊KEY_BITS / b⌋ ids of b bits each per
    long (b the bits of the largest id), first word highest, so a k-gram is ⌈k / m⌉ columns
    name0, name1, ... Spark groups and joins fixed-width longs several times faster than
    arrays of strings (docs/benchmarks.md). A k-gram's context and suffix are unpacked and
    packed again by shifts and masks: expressions the JVM compiles, no code per row."""

    def __init__(self, vocab_size: int):
        self.b = max(1, (vocab_size - 1).bit_length())
        self.m = KEY_BITS // self.b
        if self.m < 1:
            raise NextwordError(f"--engine spark: {vocab_size:,} words do not fit a {KEY_BITS}-bit key")

    def names(self, name: str, k: int) -> list:
        return [f"{name}{c}" for c in range(-(-k // self.m))]

    def pack(self, ids: list, name: str) -> list:
        """Columns name0.. holding the ids (Column expressions of ints), m to a long."""
        _, F = _pyspark()
        columns = []
        for c, start in enumerate(range(0, len(ids), self.m)):
            key = None
            for x in ids[start:start + self.m]:
                x = x.cast("long")
                key = x if key is None else F.shiftleft(key, self.b).bitwiseOR(x)
            columns.append(key.alias(f"{name}{c}"))
        return columns

    def suffix(self, k: int, name: str) -> list:
        """The last k - 1 words of the k-gram in g0.., packed as name0.."""
        return self.pack(self.unpack("g", k)[1:], name)

    def context(self, k: int, name: str) -> list:
        """The first k - 1 words of the k-gram in g0.., packed as name0.."""
        return self.pack(self.unpack("g", k)[:-1], name)

    def unpack(self, name: str, k: int) -> list:
        """The k ids (int Columns) packed in name0.."""
        _, F = _pyspark()
        mask = F.lit((1 << self.b) - 1)
        ids = []
        for i in range(k):
            c, j = divmod(i, self.m)
            shift = self.b * (min(self.m, k - c * self.m) - 1 - j)
            key = F.col(f"{name}{c}")
            ids.append((F.shiftrightunsigned(key, shift) if shift else key).bitwiseAND(mask).cast("int"))
        return ids


def spelling(spark, vocab: Vocabulary):
    """The vocabulary as a DataFrame (t: the word, id), for broadcast joins."""
    return spark.createDataFrame(list(zip(vocab.tokens, range(len(vocab)))), "t string, id int")


def word_ids(words, spelled):
    """Each line's words as vocabulary ids (array<int>; words outside the vocabulary are <unk>):
    a broadcast join of the exploded words to the vocabulary (`spelling`), regrouped by line in
    word order."""
    _, F = _pyspark()
    exploded = (words.withColumn("line", F.monotonically_increasing_id())
                .select("line", F.posexplode_outer("w").alias("pos", "t")))
    mapped = (exploded.join(F.broadcast(spelled), "t", "left")
              .withColumn("id", F.coalesce(F.col("id"), F.lit(UNK_ID))))
    grouped = mapped.groupBy("line").agg(F.sort_array(F.collect_list(
        F.when(F.col("pos").isNotNull(), F.struct("pos", "id")))).alias("pt"))
    return grouped.select(F.transform("pt", lambda x: x["id"]).alias("w"))


def _starting_at(keys: Keys, k: int):
    """i -> the key of the k-gram of s starting at i (F.transform's one-argument function)."""
    _, F = _pyspark()
    return lambda i: F.struct(*keys.pack([F.element_at("s", i + j + 1) for j in range(k)], "g"))


def build_with_spark(spark, paths, order: int, directory: str | Path | None = None,
                     estimator: ModifiedKneserNey | None = None, min_count: int = 1,
                     max_vocab: int | None = None, prune=None, arpa: str | Path | None = None,
                     progress=None) -> dict:
    """Estimate (modified) Kneser–Ney on Spark from text files (one sentence a line, words
    separated by whitespace) and write the ARPA file `arpa` and/or the model folder `directory`.
    Returns {"ngrams": {k: entries}, "discounts": ..., "vocabulary": the Vocabulary,
    "estimator": the model's description}: what `save_from_arpa` needs besides the text."""
    from pyspark import StorageLevel
    from pyspark.sql import Window

    _, F = _pyspark()
    estimator = estimator if estimator is not None else ModifiedKneserNey()
    if not isinstance(estimator, ModifiedKneserNey):
        raise NextwordError(f"--engine spark estimates Kneser-Ney only (kneser-ney, "
                            f"modified-kneser-ney), not {getattr(estimator, 'name', estimator)}")
    if not isinstance(order, int) or order < 2:
        raise NextwordError(f"--engine spark needs an order >= 2, got {order}")
    if directory is None and arpa is None:
        raise NextwordError("nothing to write: give a model folder or an ARPA path")
    cutoffs = check_cutoffs(prune, order)
    say = progress or (lambda message: None)
    keep = StorageLevel.MEMORY_AND_DISK
    n = order

    words = sentences(spark, paths).persist(keep)
    vocab, _ = build_vocabulary(spark, words, min_count, max_vocab)
    V = len(vocab)
    keys = Keys(V)
    spelled = spelling(spark, vocab)
    ids = word_ids(words, spelled).persist(keep)
    padded = ids.select(F.concat(F.array(F.lit(BOS_ID)), "w", F.array(F.lit(EOS_ID))).alias("s"))
    say(f"vocabulary: {V:,} entries")
    G = {k: keys.names("g", k) for k in range(1, n + 1)}       # a k-gram's key columns
    H = {k: keys.names("h", k) for k in range(1, n + 1)}       # a context's
    S = {k: keys.names("s", k) for k in range(1, n + 1)}       # a suffix's

    # adjusted counts: raw for the top order and for <s>-initial k-grams, N1+(• g) for the rest.
    # Every other k-gram is the suffix of a (k+1)-gram, so only the top order is counted in
    # full, unless a count cut-off needs the raw counts of a lower order too.
    def raw(k, initial=False):
        starts = F.sequence(F.lit(0), F.size("s") - k)
        if initial:                                 # only k-grams that start with <s>
            starts = F.filter(starts, lambda i: F.element_at("s", i + 1) == BOS_ID)
        return (padded.where(F.size("s") >= k)
                .select(F.explode(F.transform(starts, _starting_at(keys, k))).alias("x"))
                .select("x.*").groupBy(*G[k]).agg(F.count(F.lit(1)).alias("raw")))

    adjusted = {n: raw(n).withColumn("a", F.col("raw")).persist(keep)}
    for k in range(n - 1, 1, -1):
        continuation = (adjusted[k + 1].select(*keys.suffix(k + 1, "g"))
                        .groupBy(*G[k]).agg(F.count(F.lit(1)).alias("c")))
        initial = keys.unpack("g", k)[0] == BOS_ID
        if cutoffs[k - 1] > 0:
            table = (raw(k).join(continuation, G[k], "left")
                     .withColumn("a", F.when(initial, F.col("raw")).otherwise(F.col("c"))))
        else:
            table = (continuation.where(~initial).select(*G[k], F.col("c").alias("a"))
                     .unionByName(raw(k, initial=True).select(*G[k], F.col("raw").alias("a"))))
        adjusted[k] = table.persist(keep)
    continuation = np.zeros(V, dtype=np.int64)                 # N1+(• w): distinct bigrams ending in w
    ending = adjusted[2].groupBy(keys.unpack("g", 2)[1].alias("w")).count().collect()
    continuation[[row["w"] for row in ending]] = [row["count"] for row in ending]
    a1 = continuation
    a1[BOS_ID] = 0                                             # <s>: never predicted
    coc = [None, count_of_counts(a1)]
    for k in range(2, n + 1):
        n_r = np.zeros(5, dtype=np.int64)
        for row in adjusted[k].groupBy(F.least("a", F.lit(5)).alias("r")).count().collect():
            if row["r"] < 5:
                n_r[row["r"]] = row["count"]
        coc.append(n_r)
    D, notes = estimator.discounts_from(coc)
    say("discounts: " + "; ".join(" ".join(f"{d:.4f}" for d in D[k]) for k in range(1, n + 1)))

    # unigrams on the driver (V-arrays), exactly as ModifiedKneserNey.estimate does
    a_f = a1.astype(np.float64)
    D_of = np.array((0.0,) + D[1])[np.minimum(a1, 3)]
    total = a_f.sum()
    p1 = (a_f - D_of) / total + float(D_of.sum() / total) / vocab.num_outcomes
    p1[BOS_ID] = 0.0

    def discount(k):
        return (F.when(F.col("a") == 0, F.lit(0.0)).when(F.col("a") == 1, F.lit(D[k][0]))
                .when(F.col("a") == 2, F.lit(D[k][1])).otherwise(F.lit(D[k][2])))

    # contexts: Σ_x a(h x), Σ D(a) and the pruned rows' Σ (a - D(a)) over each row's context
    # (a window: one shuffle by h), so u(w | h) = (a - D(a)) / Σ a and γ(h) = (Σ D(a) +
    # pruned) / Σ a; the rows stay grouped by h, so γ's one row per context needs no shuffle
    gamma = {}                       # gamma[j]: (h, gamma) for j-word contexts
    scored = {}
    for k in range(2, n + 1):
        pruning = ["raw"] if cutoffs[k - 1] > 0 else []
        t = adjusted[k].select(*G[k], *pruning, "a", discount(k).alias("d"),
                               *keys.context(k, "h"))
        context = Window.partitionBy(*H[k - 1])
        share = F.col("a").cast("double") - F.col("d")
        pruned = (F.sum(F.when(F.col("raw") <= cutoffs[k - 1], share).otherwise(F.lit(0.0)))
                  .over(context) if cutoffs[k - 1] > 0 else F.lit(0.0))
        den = F.sum(F.col("a").cast("double")).over(context)
        scored[k] = t.select(*G[k], *H[k - 1], *pruning, (share / den).alias("u"),
                             ((F.sum("d").over(context) + pruned) / den)
                             .alias("gamma_h")).persist(keep)
        gamma[k - 1] = (scored[k].select(*H[k - 1], F.col("gamma_h").alias("gamma"))
                        .dropDuplicates(H[k - 1]))
    gamma1 = np.zeros(V)
    rows = gamma[1].collect()
    gamma1[[row["h0"] for row in rows]] = [row["gamma"] for row in rows]

    # interpolation, order by order: P = u + γ(h) P(suffix); rows under the cut-off leave
    lower = spark.createDataFrame(list(zip(range(V), p1.tolist())), "s0 long, p double")
    probs = {}
    for k in range(2, n + 1):
        t = scored[k]
        if cutoffs[k - 1] > 0:
            t = t.where(F.col("raw") > cutoffs[k - 1])
        t = t.select(*G[k], "u", "gamma_h", *keys.suffix(k, "s"))
        t = (t.join(F.broadcast(lower) if k == 2 else lower, S[k - 1])
             .select(*G[k], (F.col("u") + F.col("gamma_h") * F.col("p")).alias("p")))
        probs[k] = t.persist(keep)
        lower = probs[k].select(*[F.col(g).alias(s) for g, s in zip(G[k], S[k])], "p")
        say(f"{k}-grams interpolated")

    sizes = {1: V, **{k: probs[k].count() for k in range(2, n + 1)}}
    arpa_path = Path(arpa) if arpa is not None else arpa_beside(directory)
    logbackoff1 = log_gamma(gamma1)
    with np.errstate(divide="ignore"):
        logprob1 = np.log(p1)
    local = spark.sparkContext.master.startswith("local")       # executors on this machine
    with atomic_path(arpa_path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write("\\data\\\n")
        for k in range(1, n + 1):
            out.write(f"ngram {k}={sizes[k]}\n")
        out.write("\n\\1-grams:\n")
        log10p = logprob1 / LN10
        log10p[BOS_ID] = 0.0
        out.writelines(f"{p}\t{w}\t{b}\n" for p, w, b in
                       zip(_exact(log10p), vocab.tokens, _exact(logbackoff1 / LN10)))
        for k in range(2, n + 1):
            out.write(f"\n\\{k}-grams:\n")
            number = lambda c: F.lower(F.col(c).cast("string"))        # Java: shortest round trip
            t = probs[k].select(*G[k], F.log10("p").alias("lp"))
            columns = [number("lp"), F.concat_ws(" ", *(f"t{i}" for i in range(k)))]
            if k < n:
                t = (t.join(gamma[k].select(*[F.col(h).alias(g) for h, g in zip(H[k], G[k])], "gamma"),
                            G[k], "left")
                     .withColumn("bo", F.when(F.col("gamma") > 0, F.log10("gamma")).otherwise(F.lit(0.0))))
                columns.append(number("bo"))
            t = t.select("*", *(w.alias(f"w{i}") for i, w in enumerate(keys.unpack("g", k))))
            for i in range(k):                       # the words' text: a broadcast join each
                t = t.join(F.broadcast(spelled.select(F.col("id").alias(f"w{i}"), F.col("t").alias(f"t{i}"))),
                           f"w{i}")
            lines = t.select(F.concat_ws("\t", *columns).alias("line"))
            if local and LOCAL_PARTS:
                _append_parts(lines, arpa_path.parent, out)
            else:
                if sizes[k] > STREAM_LINES:   # the driver holds one partition at a time
                    lines = lines.repartition(-(-sizes[k] // STREAM_LINES))
                for row in lines.toLocalIterator():
                    out.write(row["line"])
                    out.write("\n")
            say(f"{k}-grams written")
        out.write("\n\\end\\\n")
    for frame in (words, ids, *adjusted.values(), *scored.values(), *probs.values()):
        frame.unpersist()
    description = {"name": estimator.name, **estimator.params(),
                   "discounts": [list(d) for d in D[1:]]}
    if any(cutoffs):
        description["prune"] = [int(c) for c in cutoffs]
    if notes:
        description["notes"] = list(notes)
    if directory is not None:
        try:
            save_from_arpa(arpa_path, directory, vocab, description)
        finally:
            if arpa is None:
                arpa_path.unlink(missing_ok=True)
    return {"ngrams": sizes, "discounts": description["discounts"], "vocabulary": vocab,
            "estimator": description}


def arpa_beside(directory: str | Path) -> Path:
    """Where the ARPA text of a build without an ARPA path goes: a hidden file beside the model
    folder (inside it, `save`, which replaces the folder whole, would remove it)."""
    directory = Path(directory)
    return directory.parent / f".{directory.name}.spark.arpa.tmp"


def save_from_arpa(arpa_path: str | Path, directory: str | Path, vocab, description: dict) -> None:
    """The model folder of a Spark build from its ARPA text, read on the driver (its arrays,
    not the text, in memory): with the vocabulary's counts and the estimator's description,
    which an ARPA file does not hold. Call it once the session has stopped where the driver is
    short of memory: in local mode the JVM's heap is then free."""
    from nextword.ngram.arpa import read_arpa

    model = read_arpa(arpa_path)
    model.vocab, model.estimator = vocab, description
    model.save(directory)


def _append_parts(lines, folder: Path, out) -> None:
    """The executors write the lines as text files in a temporary folder inside `folder`, all
    partitions at once; their bytes are appended to `out` (a text file, flushed first) and the
    folder removed. Only where the executors share the driver's disk (local mode)."""
    parts = Path(tempfile.mkdtemp(prefix=".nextword-spark-lines-", dir=folder))
    try:
        lines.write.mode("overwrite").text(str(parts / "lines"))
        out.flush()
        for part in sorted((parts / "lines").glob("part-*")):
            with open(part, "rb") as source:
                shutil.copyfileobj(source, out.buffer, 1 << 20)
        out.buffer.flush()
    finally:
        shutil.rmtree(parts, ignore_errors=True)


def _exact(values: np.ndarray) -> list:
    """log10 values as the shortest text that reads back as the same double (repr), -99 for
    -inf: the same precision as the Spark side's numbers."""
    values = np.where(np.isneginf(values), -99.0, values) + 0.0
    return [repr(v) for v in values.tolist()]
