"""`nextword eval`: perplexity of a saved model on a corpus."""
from __future__ import annotations

from pathlib import Path

import click

from nextword.commands.common import evaluate, report
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
def eval_command(model_path, corpus, as_json, tokenizer, unnormalised, per_sentence):
    """Perplexity of a saved model (directory or ARPA file) on CORPUS."""
    from nextword.model import load_model

    lm = load_model(model_path)
    if per_sentence:            # n-gram and NumPy RNN models score per sentence anyway
        lm.per_sentence = True
    report(evaluate(lm, corpus, tokenizer, unnormalised), corpus, as_json)
