"""One score per input line, streamed (data filtering by perplexity, as CCNet does).

For each line: its log-probability (natural log and log10, the sentence's words plus </s>), the
number of scored tokens, of OOV tokens, and its perplexity exp(-logprob / tokens). The corpus
figures come out of the same pass, so a corpus larger than memory is scored once, a block of
sentences at a time (`nextword.evaluate.encode_sentences` + `sentence_logprobs`).
"""
from __future__ import annotations

import json
import math
from collections import deque
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from nextword.errors import NextwordError
from nextword.evaluate import Evaluation, encode_sentences, exp_or_inf
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


def write_line_scores(model, sentences: Iterable[Sequence[str]], path: str | Path,
                      block: int = 4096) -> Evaluation:
    """Write one JSON object per line to `path` (JSON lines; the file appears whole) and return
    the corpus evaluation of the same pass (perplexity including OOVs, as `evaluate`)."""
    path = Path(path)
    if path.suffix == ".parquet":
        raise NextwordError(f"{path}: Parquet output needs --engine spark; write .jsonl here")
    total = known = 0.0
    tokens = oov = count = 0
    scores = score_lines(model, sentences)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        while True:
            rows = list(islice(scores, block))
            if not rows:
                break
            out.writelines(json.dumps(row) + "\n" for row in rows)
            total += sum(r["logprob"] for r in rows)
            tokens += sum(r["tokens"] for r in rows)
            oov += sum(r["oov"] for r in rows)
            known += sum(r["logprob_excluding_oov"] for r in rows)
            count += len(rows)
    if count == 0:
        raise NextwordError("no sentences to score")
    return Evaluation(tokens=tokens, sentences=count, log_prob=total, oov=oov,
                      log_prob_excluding_oov=known, normalised=model.normalised)


# ---- on Spark ---------------------------------------------------------------------------------
def score_with_spark(spark, model_path: str | Path, paths, output: str | Path | None = None,
                     batch_lines: int = 4096) -> Evaluation:
    """Score every line of text files on Spark: each executor loads the model folder (shipped
    with SparkContext.addFile) once per partition and scores its lines in NumPy batches; the
    scores (FIELDS + the line's text) are written by Spark to `output` (a folder of JSON lines,
    or Parquet when it ends in .parquet; none when None); returns the corpus evaluation."""
    from pyspark import SparkFiles
    from pyspark.sql import functions as F
    from pyspark.sql.types import (DoubleType, LongType, StringType, StructField, StructType)

    from nextword.ngram.spark import WHITESPACE

    model_path = Path(model_path).resolve()
    if not (model_path / "model.json").exists():
        raise NextwordError(f"{model_path}: --engine spark scores a saved model folder")
    spark.sparkContext.addFile(str(model_path), recursive=True)
    ship_package(spark)
    name = model_path.name
    lines = spark.read.text([str(p) for p in paths]).rdd.map(lambda row: row[0]).zipWithIndex()
    pattern = WHITESPACE.replace("(?U)", "")

    def score_partition(rows):
        import re

        from nextword.model import load_model

        model = load_model(SparkFiles.get(name))
        split = re.compile(pattern).split
        rows = iter(rows)
        while True:
            block = list(islice(rows, batch_lines))
            if not block:
                return
            texts = [text for text, _ in block]
            sentences = [[w for w in split(text) if w] for text in texts]
            for (text, number), row in zip(block, score_lines(model, sentences)):
                row["line"] = number
                row["text"] = text
                yield row

    schema = StructType([StructField("line", LongType()), StructField("tokens", LongType()),
                         StructField("oov", LongType()), StructField("logprob", DoubleType()),
                         StructField("log10prob", DoubleType()), StructField("perplexity", DoubleType()),
                         StructField("logprob_excluding_oov", DoubleType()),
                         StructField("text", StringType())])
    scored = spark.createDataFrame(lines.mapPartitions(score_partition)
                                   .map(lambda r: tuple(r[f] for f in schema.names)), schema)
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
