"""`nextword demo`: the main job on the embedded corpus, start to end."""
from __future__ import annotations

from pathlib import Path

import click

from nextword.commands.common import open_corpus


@click.command("demo")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("runs/demo"),
              show_default=True, help="Where the demo model is saved.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the samples.")
def demo(output, seed):
    """The main job on the embedded corpus: train, measure held-out perplexity, sample."""
    from nextword.evaluate import evaluate
    from nextword.generate import SamplingConfig, generate as sample
    from nextword.ngram.estimators import make_estimator
    from nextword.ngram.model import NgramModel

    train_spec, test_spec = "default:train", "default:test"
    sentences = list(open_corpus(train_spec))
    tokens = sum(len(sentence) + 1 for sentence in sentences)
    click.echo(f"corpus: Python's built-in documentation, {len(sentences):,} training sentences "
               f"({tokens:,} tokens); perplexity on {test_spec}")
    # the lecture's arc: add-δ gets worse as n grows, Kneser–Ney keeps improving
    for smoothing, order in [("add-delta", 1), ("add-delta", 2), ("add-delta", 3),
                             ("modified-kneser-ney", 2), ("modified-kneser-ney", 3),
                             ("modified-kneser-ney", 4)]:
        lm = NgramModel.fit(sentences, order=order, estimator=make_estimator(smoothing))
        result = evaluate(lm, open_corpus(test_spec))
        click.echo(f"  {order}-gram {smoothing:<20} perplexity {result.perplexity:8.2f} "
                   f"({result.tokens:,} tokens, {result.oov} OOV)")
    lm.save(output)
    click.echo(f"saved the last model to {output}; samples (seed {seed}, temperature 0.8):")
    for sentence in sample(lm, 5, seed, SamplingConfig(temperature=0.8, max_length=30)):
        click.echo("  " + " ".join(sentence))
    click.echo(f"next: nextword eval {output} --corpus default:valid; nextword generate {output}")
