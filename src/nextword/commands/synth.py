"""`nextword synth`: a synthetic corpus sampled from a saved n-gram model."""
from __future__ import annotations

import time
from pathlib import Path

import click

from nextword.generate import BATCH_SENTENCES


@click.command("synth")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--tokens", "-t", required=True, type=int, help="Words to write (</s> not counted).")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="Text file written, one sentence a line.")
@click.option("--batch", default=BATCH_SENTENCES, show_default=True, type=int,
              help="Sentences drawn side by side (the text does not depend on it).")
def synth(model_path, tokens, seed, output, batch):
    """Sample a corpus of TOKENS words from the n-gram model at MODEL_PATH (a folder or ARPA)."""
    from nextword.errors import NextwordError
    from nextword.model import load_model
    from nextword.ngram.synth import synthesize

    if batch < 1:
        raise NextwordError(f"--batch must be >= 1, got {batch}")
    model = load_model(model_path)
    started = time.perf_counter()
    out = synthesize(model, tokens, output, seed=seed, batch=batch)
    elapsed = time.perf_counter() - started
    click.echo(f"wrote {out['words']:,} words in {out['sentences']:,} sentences to {output} in "
               f"{elapsed:.1f} s ({out['words'] / max(elapsed, 1e-9):,.0f} words/s)", err=True)
