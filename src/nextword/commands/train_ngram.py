"""`nextword train ngram`: count, estimate, optionally prune, save."""
from __future__ import annotations

import time

import click

from nextword.commands.common import (Counted, RegistryChoice, corpus_options, evaluate,
                                      given_on_command_line, open_corpus, progress, report)
from nextword.commands.options import PROBABILITY, Checked, Positive, Whole
from nextword.errors import NextwordError
from nextword.fileio import check_destination
from nextword.ngram.counts import DEFAULT_CHUNK_TOKENS
from nextword.ngram.model import MAX_ORDER
from nextword.ngram.estimators import ESTIMATORS, estimator_parameters

# estimator parameters the CLI offers: parameter name -> its flag
PARAMETER_FLAGS = {"delta": "--delta", "discount": "--discount", "alpha": "--alpha",
                   "discount_fallback": "--discount-fallback"}


@click.command("ngram")
@corpus_options
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
@click.pass_context
def train_ngram(ctx, corpus, valid_spec, output, force, min_count, max_vocab, tokenizer, stream, order,
                smoothing, delta, discount, alpha, discount_fallback, prune_spec, prune_to,
                chunk_tokens):
    """Train an n-gram model on CORPUS and save it in OUTPUT."""
    from nextword.ngram.estimators import make_estimator
    from nextword.ngram.model import NgramModel, check_order

    check_parameters(smoothing, given_on_command_line(ctx))
    check_order(order)
    check_destination(output, "ngram", force)          # before the work, not after it
    estimator = make_estimator(smoothing, delta=delta, discount_fallback=discount_fallback,
                               discount=discount, alpha=alpha)
    prune = parse_prune(prune_spec)
    if chunk_tokens < 1:
        raise NextwordError(f"--chunk-tokens must be >= 1, got {chunk_tokens}")
    started = time.perf_counter()
    # Two passes over the text (vocabulary, then counts), never a list of it: the PTB 5-gram
    # build then peaks well under 300 MB.
    with progress(desc="reading (vocabulary, then counts)", unit="sent") as bar:
        lm = NgramModel.fit_stream(Counted(open_corpus(corpus, tokenizer, stream), bar), order=order,
                                   estimator=estimator, min_count=min_count, max_vocab=max_vocab,
                                   prune=prune, chunk_tokens=chunk_tokens)
    if prune_to is not None:
        from nextword.ngram.entropy_pruning import entropy_prune

        lm = entropy_prune(lm, prune_to)
    for note in lm.estimator.get("notes", []):
        click.echo(f"nextword: note: {note}", err=True)
    lm.save(output, force=force)
    elapsed = time.perf_counter() - started
    sizes = ", ".join(f"{k}-grams {v:,}" for k, v in lm.describe()["ngrams"].items())
    click.echo(f"trained {order}-gram {estimator.name} model on {corpus} in {elapsed:.2f} s: "
               f"vocabulary {len(lm.vocab):,}; {sizes}", err=True)
    click.echo(f"saved to {output}", err=True)
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
