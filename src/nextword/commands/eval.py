"""`nextword eval`: perplexity of a saved model on a corpus."""
from __future__ import annotations

from pathlib import Path

import click

from nextword.commands.common import evaluate, report
from nextword.commands.options import PROBABILITY, NonNegative, Positive, Whole, spark_options
from nextword.text.tokenize import TOKENIZERS


@click.command("eval")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--corpus", default="default:test", show_default=True, help="Corpus to score.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--tokenizer", default=None, type=click.Choice(list(TOKENIZERS)),
              help="How to split lines of a plain file [default: whitespace].")
@click.option("--unnormalised", is_flag=True,
              help="Report a 'perplexity' even for a model that gives scores, not probabilities.")
@click.option("--per-sentence", is_flag=True,
              help="Score every line from <s> alone, as n-gram and NumPy RNN models always do; "
                   "neural models otherwise read the corpus as one stream, state carried.")
@click.option("--per-line", "per_line", type=click.Path(path_type=Path), default=None,
              metavar="FILE", help="Also write one score per input line (line, tokens, oov, "
                                   "logprob, log10prob, perplexity) as JSON lines; with --engine "
                                   "spark a folder, Parquet when FILE ends in .parquet.")
@spark_options("spark: score the lines as a Spark job (n-gram model folders).")
@click.option("--cache", "cache_size", type=Whole(1), default=None,
              help="Recurrent models: a continuous cache of the last L positions (Grave et al. "
              "2017); `nextword adapt` tunes L, θ, λ on validation text.")
@click.option("--cache-theta", type=NonNegative(), default=None, help="Cache θ [0.3].")
@click.option("--cache-lambda", type=PROBABILITY, default=None, help="Cache weight λ [0.1].")
@click.option("--dynamic", "dynamic_lr", type=Positive(), default=None,
              help="Recurrent models: dynamic evaluation with this learning rate η.")
@click.option("--dynamic-decay", type=NonNegative(), default=None,
              help="Dynamic evaluation: decay towards the trained weights [0: plain SGD].")
@click.option("--dynamic-segment", type=Whole(1), default=None,
              help="Dynamic evaluation: tokens scored before each update [20].")
def eval_command(model_path, corpus, as_json, tokenizer, unnormalised, per_sentence, per_line,
                 engine, cluster, workers, cache_size, cache_theta, cache_lambda, dynamic_lr,
                 dynamic_decay, dynamic_segment):
    """Perplexity of a saved model (directory or ARPA file) on CORPUS."""
    from nextword.errors import NextwordError
    from nextword.model import load_model

    if engine == "spark":
        from nextword.ngram import spark as engine_module
        from nextword.scoring import score_with_spark

        if tokenizer not in (None, "whitespace"):
            raise NextwordError("--engine spark splits lines on whitespace: --tokenizer does not apply")
        paths = engine_module.corpus_paths(corpus)
        with engine_module.running(cluster, workers) as spark:
            result = score_with_spark(spark, model_path, paths, per_line)
        report(result, corpus, as_json)
        return
    if cluster is not None:
        raise NextwordError("--cluster applies to --engine spark")
    lm = load_model(model_path)
    adaptation = dict(size=cache_size, theta=cache_theta, lam=cache_lambda, lr=dynamic_lr,
                      decay=dynamic_decay, segment=dynamic_segment)
    if any(v is not None for v in adaptation.values()):
        from nextword.model import import_optional

        lm = import_optional("nextword.combine.adapted").with_adaptation(lm, **adaptation)
    if per_line is not None:
        from nextword.commands.common import open_corpus
        from nextword.scoring import write_line_scores

        if not lm.normalised and not unnormalised:
            raise NextwordError("this model gives scores, not probabilities: pass --unnormalised")
        report(write_line_scores(lm, open_corpus(corpus, tokenizer), per_line), corpus, as_json)
        return
    if per_sentence:            # n-gram and NumPy RNN models score per sentence anyway
        lm.per_sentence = True
    report(evaluate(lm, corpus, tokenizer, unnormalised), corpus, as_json)
