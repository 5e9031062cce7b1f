"""`nextword train ngram`: count, estimate, optionally prune, save."""
from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import click

from nextword.commands.common import (Counted, RegistryChoice, corpus_options, evaluate,
                                      given_on_command_line, open_corpus, progress, report)
from nextword.commands.export import write_with_progress
from nextword.commands.options import PROBABILITY, Checked, Positive, Whole, spark_options
from nextword.errors import NextwordError
from nextword.fileio import check_destination, check_file_destination
from nextword.ngram.counts import DEFAULT_CHUNK_TOKENS
from nextword.ngram.model import MAX_ORDER
from nextword.ngram.estimators import ESTIMATORS, estimator_parameters

# estimator parameters the CLI offers: parameter name -> its flag
PARAMETER_FLAGS = {"delta": "--delta", "discount": "--discount", "alpha": "--alpha",
                   "discount_fallback": "--discount-fallback"}


@click.command("ngram")
@corpus_options(output_help="Directory the model is saved in (with --arpa it may be left out: "
                            "the ARPA file alone is written, as lmplz does).")
@click.option("--order", "-n", default=3, show_default=True, type=Whole(1, MAX_ORDER),
              help=f"n of the n-gram model (at most {MAX_ORDER}).")
@click.option("--smoothing", default="modified-kneser-ney", show_default=True,
              type=RegistryChoice(ESTIMATORS), help="Estimator (docs/ngram.md).")
@click.option("--delta", default=0.25, show_default=True, type=Positive(),
              help="add-delta: the δ added to every count.")
@click.option("--discount", default=None, type=Checked(float, 0, 1, low_open=True, high_open=True),
              help="absolute: a fixed discount D [default: n1 / (n1 + 2 n2) per order].")
@click.option("--alpha", default=0.4, show_default=True, type=PROBABILITY,
              help="stupid-backoff: the backoff factor.")
@click.option("--discount-fallback", is_flag=True,
              help="kneser-ney, modified-kneser-ney: use discounts 0.5, 1, 1.5 where the "
                   "count-of-counts cannot give them.")
@click.option("--prune", "prune_spec", default=None, metavar="'T1 T2 ...'",
              help="Count cut-offs per order, KenLM style: '0 0 1' drops 3-grams (and longer) "
                   "seen once. The first must be 0; they must not decrease.")
@click.option("--prune-to", default=None, type=Whole(1), metavar="SIZE",
              help="Relative-entropy (Stolcke) pruning until at most SIZE n-grams remain.")
@click.option("--chunk-tokens", default=DEFAULT_CHUNK_TOKENS, show_default=True, type=Whole(1),
              metavar="N", help="Count the corpus N tokens at a time and merge (bounds the "
                                "memory the text takes).")
@click.option("--memory", "memory_spec", default=None, metavar="SIZE",
              help="Build in bounded memory (as lmplz -S): n-grams spill to disk in sorted "
                   "partitions so the build stays near SIZE (e.g. 1G, 500M). Kneser-Ney only.")
@click.option("--temp-dir", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="--memory: where the spilled runs go (as lmplz -T) [default: $TMPDIR].")
@click.option("--arpa", "arpa_path", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Write the model as an ARPA file too, or alone without --output (as lmplz "
                   "does; `export` writes one from a saved model).")
@spark_options("spark: count and estimate as Apache Spark jobs (pip install 'nextword[spark]').")
@click.pass_context
def train_ngram(ctx, corpus, valid_spec, output, force, min_count, max_vocab, tokenizer, stream, order,
                smoothing, delta, discount, alpha, discount_fallback, prune_spec, prune_to,
                chunk_tokens, memory_spec, temp_dir, arpa_path, engine, cluster, workers):
    """Train an n-gram model on CORPUS and save it in OUTPUT (and ARPA_PATH, with --arpa)."""
    from nextword.ngram.estimators import make_estimator
    from nextword.ngram.model import NgramModel, check_order

    given = given_on_command_line(ctx)
    check_parameters(smoothing, given)
    check_order(order)
    check_engine_flags(engine, memory_spec, given, prune_to)
    if output is None and arpa_path is None:
        raise NextwordError("nothing to write: give --output DIR (the model folder), "
                            "--arpa FILE, or both")
    if output is not None:
        check_destination(output, "ngram", force)      # before the work, not after it
    if arpa_path is not None:
        check_file_destination(arpa_path)
    estimator = make_estimator(smoothing, delta=delta, discount_fallback=discount_fallback,
                               discount=discount, alpha=alpha)
    prune = parse_prune(prune_spec)
    if chunk_tokens < 1:
        raise NextwordError(f"--chunk-tokens must be >= 1, got {chunk_tokens}")
    if engine == "spark" or memory_spec is not None:
        return train_at_scale(corpus, valid_spec, output, min_count, max_vocab, tokenizer, stream,
                              order, estimator, prune, memory_spec, temp_dir, engine, cluster,
                              workers, arpa_path)
    started = time.perf_counter()
    # One pass over the text, never a list of it: its word ids (4 bytes a token) and the
    # vocabulary come out together (read_corpus)
    with progress(desc="reading", unit="sent") as bar:
        lm = NgramModel.fit_stream(Counted(open_corpus(corpus, tokenizer, stream), bar), order=order,
                                   estimator=estimator, min_count=min_count, max_vocab=max_vocab,
                                   prune=prune, chunk_tokens=chunk_tokens,
                                   keep_counts=prune_to is not None)   # entropy pruning reads them
    if prune_to is not None:
        from nextword.ngram.entropy_pruning import entropy_prune

        lm = entropy_prune(lm, prune_to)
    for note in lm.estimator.get("notes", []):
        click.echo(f"nextword: note: {note}", err=True)
    if arpa_path is not None:       # refused before anything is written
        from nextword.ngram.arpa import check_writable

        check_writable(lm)
    if output is not None:
        lm.save(output, force=force)
    elapsed = time.perf_counter() - started
    sizes = ", ".join(f"{k}-grams {v:,}" for k, v in lm.describe()["ngrams"].items())
    click.echo(f"trained {order}-gram {estimator.name} model on {corpus} in {elapsed:.2f} s: "
               f"vocabulary {len(lm.vocab):,}; {sizes}", err=True)
    if output is not None:
        click.echo(f"saved to {output}", err=True)
    if arpa_path is not None:
        write_with_progress(lm, arpa_path)
    if valid_spec:
        report(evaluate(lm, valid_spec, tokenizer), valid_spec, as_json=False)


def check_parameters(smoothing: str, given: set) -> None:
    """A parameter typed for an estimator that does not take it (`--delta` with Kneser-Ney)
    would be silently ignored: refuse it, naming the estimators that take it."""
    for name, flag in PARAMETER_FLAGS.items():
        if name in given and name not in estimator_parameters(smoothing):
            owners = [s for s in ESTIMATORS if name in estimator_parameters(s)]
            raise NextwordError(f"{flag} applies to --smoothing {' or '.join(owners)}, "
                                f"not {smoothing}")


def parse_prune(spec):
    """'0 0 1' or '0,0,1' -> (0, 0, 1); checked against the order by the estimator."""
    if spec is None:
        return None
    try:
        return tuple(int(part) for part in spec.replace(",", " ").split())
    except ValueError:
        raise NextwordError(f"--prune takes whole numbers, one per order, got {spec!r}") from None


def check_engine_flags(engine: str, memory_spec, given: set, prune_to) -> None:
    """Flags of one engine given to the other would be silently ignored: refuse them."""
    if engine == "spark" and memory_spec is not None:
        raise NextwordError("--memory is for the local engine; Spark manages its own memory "
                            "(spark.executor.memory)")
    for name, flag in (("cluster", "--cluster"), ("workers", "--workers")):
        if name in given and engine != "spark":
            raise NextwordError(f"{flag} applies to --engine spark")
    if "temp_dir" in given and memory_spec is None:
        raise NextwordError("--temp-dir applies to --memory")
    if prune_to is not None and (engine == "spark" or memory_spec is not None):
        raise NextwordError("--prune-to (relative-entropy pruning) needs the model in memory: "
                            "build with --memory or --engine spark, then prune in a second step "
                            "is not offered yet; use count cut-offs (--prune)")


def train_at_scale(corpus, valid_spec, output, min_count, max_vocab, tokenizer, stream, order,
                   estimator, prune, memory_spec, temp_dir, engine, cluster, workers, arpa_path=None):
    """--memory (disk, one machine) or --engine spark: the model folder is written directly;
    without --output, into a temporary folder beside the ARPA file, removed once it is read.
    Spark writes the ARPA file itself (its executors' lines), so it needs no folder for one
    unless --valid asks for a model to score with."""
    with contextlib.ExitStack() as stack:
        folder = output
        if folder is None and (engine != "spark" or valid_spec):
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(
                dir=arpa_path.parent, prefix=".nextword-model-"))) / "model"
        _build_at_scale(corpus, valid_spec, folder, min_count, max_vocab, tokenizer, stream, order,
                        estimator, prune, memory_spec, temp_dir, engine, cluster, workers,
                        arpa_path, saved=output is not None)


def _build_at_scale(corpus, valid_spec, output, min_count, max_vocab, tokenizer, stream, order,
                    estimator, prune, memory_spec, temp_dir, engine, cluster, workers, arpa_path,
                    saved):
    from nextword.model import load_model

    started = time.perf_counter()
    if engine == "spark":
        from nextword.ngram import spark as engine_module

        if tokenizer not in (None, "whitespace") or stream:
            raise NextwordError("--engine spark reads one sentence a line, words split on "
                                "whitespace: --tokenizer and --stream do not apply")
        paths = engine_module.corpus_paths(corpus)
        # the ARPA text: the file asked for, else a temporary one beside the folder
        text = arpa_path or engine_module.arpa_beside(output)
        try:
            with engine_module.running(cluster, workers) as spark:
                info = engine_module.build_with_spark(
                    spark, paths, order, None, estimator=estimator, min_count=min_count,
                    max_vocab=max_vocab, prune=prune, arpa=text,
                    progress=lambda message: click.echo(f"spark: {message}", err=True))
            if output is not None:
                # read once Spark has stopped: in local mode its JVM's memory is free again
                engine_module.save_from_arpa(text, output, info["vocabulary"], info["estimator"])
        finally:
            if arpa_path is None:
                text.unlink(missing_ok=True)
        how = f"on Spark ({cluster or f'local, {workers} workers'})"
        description, vocabulary = info["estimator"], info["vocabulary"]
    else:
        from nextword.ngram.external import build_on_disk, parse_size

        memory = parse_size(memory_spec)
        with progress(desc="reading", unit="sent") as bar:
            info = build_on_disk(Counted(open_corpus(corpus, tokenizer, stream), bar), order,
                                 output, memory, estimator=estimator, min_count=min_count,
                                 max_vocab=max_vocab, prune=prune, temp_dir=temp_dir)
        how = f"in {memory_spec} ({info['partitions']} partitions, {info['chunks']} chunks)"
    lm = load_model(output) if output is not None else None
    if lm is not None:
        description, vocabulary = lm.estimator, lm.vocab
    for note in description.get("notes", []):
        click.echo(f"nextword: note: {note}", err=True)
    elapsed = time.perf_counter() - started
    sizes = ", ".join(f"{k}-grams {v:,}" for k, v in info["ngrams"].items())
    click.echo(f"trained {order}-gram {estimator.name} model on {corpus} {how} in {elapsed:.2f} s: "
               f"vocabulary {len(vocabulary):,}; {sizes}", err=True)
    if saved:
        click.echo(f"saved to {output}", err=True)
    if arpa_path is not None:
        if engine == "spark":                 # the executors' lines, written during the build
            click.echo(f"wrote {arpa_path}: {sizes}", err=True)
        else:
            write_with_progress(lm, arpa_path)
    if valid_spec:
        report(evaluate(lm, valid_spec, tokenizer), valid_spec, as_json=False)
