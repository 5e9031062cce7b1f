"""`nextword train numpy-rnn`: the NumPy Elman RNN with hand-written BPTT (nextword.reference)."""
from __future__ import annotations

import time
from dataclasses import fields

import click

from nextword.commands.common import corpus_options, evaluate, progress, read_training, report


def _defaults() -> dict:
    from nextword.reference.train import TrainConfig

    return {f.name: f.default for f in fields(TrainConfig)}


D = _defaults()


@click.command("numpy-rnn")
@corpus_options
@click.option("--embedding-dim", default=D["embedding_dim"], show_default=True, type=int,
              help="Embedding size d.")
@click.option("--hidden-dim", default=D["hidden_dim"], show_default=True, type=int,
              help="Hidden size H.")
@click.option("--epochs", default=D["epochs"], show_default=True, type=int,
              help="Passes over the corpus.")
@click.option("--lr", default=D["lr"], show_default=True, type=float, help="SGD learning rate.")
@click.option("--truncation", default=D["bptt"], show_default=True, type=int, metavar="K",
              help="Truncated BPTT: each loss J(t) sends gradient back K steps; 0 = full BPTT.")
@click.option("--clip", default=D["clip"], show_default=True, type=float,
              help="Largest global gradient norm; 0 = no clipping.")
@click.option("--seed", default=D["seed"], show_default=True, type=int,
              help="Seed of the weights and of the sentence order.")
def train_numpy_rnn(corpus, valid_spec, output, min_count, max_vocab, tokenizer, stream,
                    embedding_dim, hidden_dim, epochs, lr, truncation, clip, seed):
    """Train the NumPy RNN (hand-written BPTT) on CORPUS and save it in OUTPUT."""
    from nextword.reference.train import TrainConfig, train_numpy_rnn as fit

    config = TrainConfig(embedding_dim=embedding_dim, hidden_dim=hidden_dim, epochs=epochs, lr=lr,
                         bptt=truncation or None, clip=clip or None, seed=seed,   # 0: off
                         min_count=min_count, max_vocab=max_vocab)
    sentences = read_training(corpus, tokenizer, stream)
    started = time.perf_counter()
    steps = sum(len(sentence) + 1 for sentence in sentences)
    with progress(total=steps * config.epochs, desc="training numpy-rnn") as bar:
        lm = fit(sentences, config, progress=bar)
    lm.save(output)
    elapsed = time.perf_counter() - started
    click.echo(f"trained numpy-rnn (H {config.hidden_dim}, d {config.embedding_dim}, "
               f"truncation {config.bptt or 'full'}) on {corpus} in {elapsed:.2f} s: vocabulary "
               f"{len(lm.vocab):,}; {lm.describe()['parameters']:,} parameters", err=True)
    for entry in lm.training["history"]:
        click.echo(f"  epoch {entry['epoch']}: train cross-entropy "
                   f"{entry['train_cross_entropy']:.4f} nats/token", err=True)
    click.echo(f"saved to {output}", err=True)
    if valid_spec:
        report(evaluate(lm, valid_spec, tokenizer), valid_spec, as_json=False)
