"""`nextword generate`: sample sentences from a saved model."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("generate")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--count", "-k", default=5, show_default=True, type=int, help="Sentences to sample.")
@click.option("--seed", default=None, type=int, help="Random seed (same seed, same sentences).")
@click.option("--temperature", default=1.0, show_default=True, type=float,
              help="Divide log-probabilities by this: < 1 sharper, > 1 flatter.")
@click.option("--top-k", default=None, type=int, help="Sample among the k most likely tokens.")
@click.option("--top-p", default=None, type=float, help="Nucleus sampling: smallest set reaching p.")
@click.option("--max-length", default=100, show_default=True, type=int,
              help="Stop a sentence after this many words.")
def generate(model_path, count, seed, temperature, top_k, top_p, max_length):
    """Sample COUNT sentences from a saved model, one per line."""
    from nextword.generate import SamplingConfig, generate as sample
    from nextword.model import load_model

    config = SamplingConfig(temperature, top_k, top_p, max_length)
    lm = load_model(model_path)
    for sentence in sample(lm, count, seed, config):
        click.echo(" ".join(sentence))
