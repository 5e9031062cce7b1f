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
              help="Neural models: reset the hidden state at each line (default: one stream).")
@click.option("--cache", "cache_size", type=int, default=None,
              help="Recurrent models: a continuous cache of the last L positions (Grave et al. "
              "2017); `nextword adapt` tunes L, θ, λ on validation text.")
@click.option("--cache-theta", type=float, default=None, help="Cache θ [0.3].")
@click.option("--cache-lambda", type=float, default=None, help="Cache weight λ [0.1].")
@click.option("--dynamic", "dynamic_lr", type=float, default=None,
              help="Recurrent models: dynamic evaluation with this learning rate η.")
@click.option("--dynamic-decay", type=float, default=None,
              help="Dynamic evaluation: decay towards the trained weights [0: plain SGD].")
@click.option("--dynamic-segment", type=int, default=None,
              help="Dynamic evaluation: tokens scored before each update [20].")
def eval_command(model_path, corpus, as_json, tokenizer, unnormalised, per_sentence, cache_size,
                 cache_theta, cache_lambda, dynamic_lr, dynamic_decay, dynamic_segment):
    """Perplexity of a saved model (directory or ARPA file) on CORPUS."""
    from nextword.model import load_model

    lm = load_model(model_path)
    adaptation = dict(size=cache_size, theta=cache_theta, lam=cache_lambda, lr=dynamic_lr,
                      decay=dynamic_decay, segment=dynamic_segment)
    if any(v is not None for v in adaptation.values()):
        from nextword.model import import_optional

        lm = import_optional("nextword.combine.adapted").with_adaptation(lm, **adaptation)
    if per_sentence and hasattr(lm, "per_sentence"):   # n-gram models are per sentence anyway
        lm.per_sentence = True
    report(evaluate(lm, corpus, tokenizer, unnormalised), corpus, as_json)
