"""`nextword generate`: sample sentences from a saved model."""
from __future__ import annotations

from pathlib import Path

import click

from nextword.commands.options import PROBABILITY, SEED, Positive, Whole
from nextword.generate import BATCH_SENTENCES, NETWORK_BATCH_SENTENCES


@click.command("generate")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--count", "-k", default=5, show_default=True, type=Whole(0), help="Sentences to sample.")
@click.option("--seed", default=None, type=SEED, help="Random seed (same seed, same sentences).")
@click.option("--temperature", default=1.0, show_default=True, type=Positive(),
              help="Divide log-probabilities by this: < 1 sharper, > 1 flatter (at least "
                   "0.001; --top-k 1 takes the most likely word).")
@click.option("--top-k", default=None, type=Whole(1), help="Sample among the k most likely tokens.")
@click.option("--top-p", default=None, type=PROBABILITY, help="Nucleus sampling: smallest set reaching p.")
@click.option("--max-length", default=100, show_default=True, type=Whole(1),
              help="Stop a sentence after this many words.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="Write the sentences to this file (written whole or not at all), with a "
                   "progress bar, instead of printing them.")
@click.option("--batch-size", default=None, type=int,
              help=f"Sentences drawn together (the text does not depend on it) [default: "
                   f"{BATCH_SENTENCES:,} for n-gram models, {NETWORK_BATCH_SENTENCES} for networks "
                   f"and mixtures].")
def generate(model_path, count, seed, temperature, top_k, top_p, max_length, output, batch_size):
    """Sample COUNT sentences from a saved model, one per line."""
    from nextword.errors import NextwordError
    from nextword.generate import SamplingConfig, sample_sentences
    from nextword.model import load_model

    if batch_size is not None and batch_size < 1:
        raise NextwordError(f"--batch-size must be >= 1, got {batch_size}")
    config = SamplingConfig(temperature, top_k, top_p, max_length)
    lm = load_model(model_path)
    sentences = sample_sentences(lm, count, seed, config, batch_size)
    if output is None:
        for sentence in sentences:
            click.echo(" ".join(sentence))
        return
    from nextword.commands.common import progress
    from nextword.fileio import atomic_path

    with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out, \
            progress(total=count, desc=f"sampling to {output}", unit="sent") as bar:
        lines = []
        for sentence in sentences:
            lines.append(" ".join(sentence) + "\n")
            if len(lines) >= 4096:
                out.writelines(lines)
                bar.update(len(lines))
                lines.clear()
        out.writelines(lines)
        bar.update(len(lines))
    click.echo(f"wrote {count:,} sentences to {output}", err=True)
