"""One score per input line, streamed (data filtering by perplexity, as CCNet does).

For each line: its log-probability (natural log and log10, the sentence's words plus </s>), the
number of scored tokens, of OOV tokens, and its perplexity exp(-logprob / tokens). The corpus
figures come out of the same pass, so a corpus larger than memory is scored once, a block of
sentences at a time: for an n-gram model as `evaluate` scores (`flat_logprobs` on a block of
65,536 sentences, read from the file's bytes where it gives them), each line's sums taken with
`np.add.reduceat`, the rows written through one format string (1-2 us a line where a dict and
`json.dumps` per line took ~15); for other models `sentence_logprobs` sentence by sentence.
"""
from __future__ import annotations

import json
import math
from collections import deque
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from nextword.errors import NextwordError
from nextword.evaluate import Evaluation, encode_sentences, exp_or_inf, id_blocks
from nextword.fileio import atomic_path

LN10 = math.log(10.0)
FIELDS = ("line", "tokens", "oov", "logprob", "log10prob", "perplexity", "logprob_excluding_oov")


def score_lines(model, sentences: Iterable[Sequence[str]], first_line: int = 0) -> Iterator[dict]:
    """A dict of FIELDS per sentence, in order (line numbers from `first_line`)."""
    masks: deque = deque()
    for number, logprobs in enumerate(model.sentence_logprobs(encode_sentences(model, sentences, masks)),
                                      start=first_line):
        mask = masks.popleft()
        total = float(logprobs.sum())
        tokens = len(logprobs)
        oov = int(mask.sum()) if mask is not None else 0
        known = total - float(logprobs[:-1][mask].sum()) if oov else total
        yield {"line": number, "tokens": tokens, "oov": oov, "logprob": total,
               "log10prob": total / LN10, "perplexity": exp_or_inf(-total / tokens),
               "logprob_excluding_oov": known}


def score_columns(model, sentences: Iterable[Sequence[str]], block: int = 4096) -> Iterator[dict]:
    """The FIELDS of many lines at a time, as arrays (lines numbered from 0 through the corpus):
    the rows of `score_lines`, computed without a Python step per line for a model with
    `flat_logprobs` (sums in another order: equal to ~1e-15)."""
    if not hasattr(model, "flat_logprobs"):
        rows = score_lines(model, sentences)
        while chunk := list(islice(rows, block)):
            yield {name: np.array([row[name] for row in chunk]) for name in FIELDS}
        return
    first = 0
    for lengths, ids, oov in id_blocks(model.vocab, sentences):
        logprobs = model.flat_logprobs(ids, lengths)       # each word, then </s>, per sentence
        tokens = lengths + 1
        logprob = np.add.reduceat(logprobs, np.cumsum(tokens) - tokens)
        at = np.flatnonzero(oov)
        sentence = np.searchsorted(np.cumsum(lengths), at, side="right")
        unknown = np.zeros(len(lengths))
        np.add.at(unknown, sentence, logprobs[at + sentence])
        with np.errstate(over="ignore", invalid="ignore"):      # -inf and its nan, as floats give
            perplexity = np.exp(-logprob / tokens)
            known = logprob - unknown
        yield {"line": np.arange(first, first + len(lengths)), "tokens": tokens,
               "oov": np.bincount(sentence, minlength=len(lengths)), "logprob": logprob,
               "log10prob": logprob / LN10, "perplexity": perplexity,
               "logprob_excluding_oov": known}
        first += len(lengths)


# a row as json.dumps writes it (floats by repr); a row holding inf or nan goes through json
ROW = "{" + ", ".join(f'"{name}": %{"d" if name in ("line", "tokens", "oov") else "r"}'
                      for name in FIELDS) + "}\n"


def write_line_scores(model, sentences: Iterable[Sequence[str]], path: str | Path) -> Evaluation:
    """Write one JSON object per line to `path` (JSON lines; the file appears whole) and return
    the corpus evaluation of the same pass (perplexity including OOVs, as `evaluate`)."""
    path = Path(path)
    if path.suffix == ".parquet":
        raise NextwordError(f"{path}: Parquet output needs --engine spark; write .jsonl here")
    total = known = 0.0
    tokens = oov = count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for columns in score_columns(model, sentences):
            rows = zip(*(columns[name].tolist() for name in FIELDS))
            if all(np.isfinite(columns[name]).all() for name in FIELDS[3:]):
                out.write("".join(map(ROW.__mod__, rows)))
            else:
                out.writelines(json.dumps(dict(zip(FIELDS, row))) + "\n" for row in rows)
            total += float(columns["logprob"].sum())
            known += float(columns["logprob_excluding_oov"].sum())
            tokens += int(columns["tokens"].sum())
            oov += int(columns["oov"].sum())
            count += len(columns["line"])
    if count == 0:
        raise NextwordError("no sentences to score")
    return Evaluation(tokens=tokens, sentences=count, log_prob=total, oov=oov,
                      log_prob_excluding_oov=known, normalised=model.normalised)


# ---- on Spark ---------------------------------------------------------------------------------
def score_with_spark(spark, model_path: str | Path, paths, output: str | Path | None = None,
                     batch_lines: int = 4096) -> Evaluation:
    """Score every line of text files on Spark: each executor loads the model folder (shipped
    with SparkContext.addFile) once per partition and scores its lines `batch_lines` at a time
    with `score_columns`, from their bytes (`lines_corpus`; split as `str.split` splits, the
    in-process reader's rule, which Spark's own expression for the build,
    ngram.spark.WHITESPACE, spells for Java; a batch holding a control character, which the
    in-process reader refuses, is split by `str.split` itself); the scores (FIELDS +
    the line's text) are written by Spark to `output` (a folder of JSON lines, or Parquet when
    it ends in .parquet; none when None); returns the corpus evaluation."""
    from pyspark import SparkFiles
    from pyspark.sql import functions as F
    from pyspark.sql.types import (DoubleType, LongType, StringType, StructField, StructType)

    model_path = Path(model_path).resolve()
    if not (model_path / "model.json").exists():
        raise NextwordError(f"{model_path}: --engine spark scores a saved model folder")
    spark.sparkContext.addFile(str(model_path), recursive=True)
    ship_package(spark)
    name = model_path.name
    lines = spark.read.text([str(p) for p in paths]).rdd.map(lambda row: row[0]).zipWithIndex()

    def score_partition(rows):
        """Rows of (FIELDS..., text), the line numbered through the whole input."""
        from nextword.model import load_model
        from nextword.text.corpora import lines_corpus

        model = load_model(SparkFiles.get(name))
        rows = iter(rows)
        while block := list(islice(rows, batch_lines)):
            texts = [text for text, _ in block]
            numbers = [number for _, number in block]
            done = 0
            try:                # numbered from the lines' bytes, unless a line holds a control
                scored = list(score_columns(model, lines_corpus(texts), len(block)))
            except NextwordError:   # character: the in-process reader refuses those; Spark splits
                scored = list(score_columns(model, [text.split() for text in texts], len(block)))
            for columns in scored:
                size = len(columns["line"])
                yield from zip(numbers[done:done + size],
                               *(columns[f].tolist() for f in FIELDS[1:]),
                               texts[done:done + size])
                done += size

    schema = StructType([StructField("line", LongType()), StructField("tokens", LongType()),
                         StructField("oov", LongType()), StructField("logprob", DoubleType()),
                         StructField("log10prob", DoubleType()), StructField("perplexity", DoubleType()),
                         StructField("logprob_excluding_oov", DoubleType()),
                         StructField("text", StringType())])
    scored = spark.createDataFrame(lines.mapPartitions(score_partition), schema)
    scored = scored.persist()
    if output is not None:
        output = str(output)
        writer = scored.orderBy("line").write.mode("overwrite")
        (writer.parquet(output) if output.endswith(".parquet") else writer.json(output))
    totals = scored.agg(*(F.sum(c).alias(c) for c in ("logprob", "tokens", "oov",
                                                         "logprob_excluding_oov")),
                        F.count(F.lit(1)).alias("lines")).collect()[0]
    scored.unpersist()
    if not totals["lines"]:
        raise NextwordError("no sentences to score")
    return Evaluation(tokens=int(totals["tokens"]), sentences=int(totals["lines"]),
                      log_prob=float(totals["logprob"]), oov=int(totals["oov"]),
                      log_prob_excluding_oov=float(totals["logprob_excluding_oov"]),
                      normalised=True)


def ship_package(spark) -> None:
    """Make `nextword` importable on the executors (they need NumPy already): a zip of this
    package added with addPyFile, once per SparkContext. Spark serves the file from where it
    lies for as long as the context lives, so its folder is removed when this process exits."""
    import atexit
    import shutil
    import tempfile
    import zipfile

    import nextword

    context = spark.sparkContext
    if getattr(context, "_nextword_shipped", False):
        return
    package = Path(nextword.__file__).resolve().parent
    folder = tempfile.mkdtemp(prefix="nextword-spark-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    archive = Path(folder) / "nextword.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in package.rglob("*.py"):
            out.write(path, Path("nextword") / path.relative_to(package))
    context.addPyFile(str(archive))
    context._nextword_shipped = True
