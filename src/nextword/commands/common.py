"""What the commands share: corpora, progress bars, evaluation reports."""
from __future__ import annotations

import json
import sys

import click

from nextword.errors import NextwordError


def progress(total=None, desc=None, unit="tok"):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
                disable=None, leave=False, dynamic_ncols=True)


def open_corpus(spec: str, tokenizer: str | None = None, stream: bool = False):
    from nextword.text.corpora import load_corpus

    return load_corpus(spec, tokenizer=tokenizer, stream=stream)


def evaluate(lm, spec, tokenizer=None, allow_unnormalised=False):
    from nextword.evaluate import evaluate

    with progress(desc=f"scoring {spec}") as bar:
        return evaluate(lm, open_corpus(spec, tokenizer), progress=bar,
                        allow_unnormalised=allow_unnormalised)


def report(result, spec, as_json):
    if as_json:
        click.echo(json.dumps({"corpus": spec, **result.as_dict()}, sort_keys=True))
        return
    label = "perplexity" if result.normalised else "unnormalised perplexity (not a probability)"
    click.echo(f"{spec}: {result.tokens:,} tokens in {result.sentences:,} sentences, "
               f"{result.oov:,} OOV")
    click.echo(f"  cross-entropy {result.cross_entropy:.4f} nats/token "
               f"({result.bits_per_token:.4f} bits)")
    click.echo(f"  {label} {result.perplexity:.2f} "
               f"(excluding OOV: {result.perplexity_excluding_oov:.2f})")


def read_training(corpus, tokenizer, stream) -> list:
    """The training sentences as a list (models that pass over them many times), with a bar."""
    with progress(desc="reading", unit="sent") as bar:
        sentences = list(Counted(open_corpus(corpus, tokenizer, stream), bar))
    if not sentences:
        raise NextwordError(f"{corpus}: no sentences to train on")
    return sentences


class Counted:
    """A re-iterable corpus that moves a progress bar by one per sentence read."""

    def __init__(self, corpus, bar):
        self.corpus, self.bar = corpus, bar

    def __iter__(self):
        for sentence in self.corpus:
            self.bar.update()
            yield sentence
