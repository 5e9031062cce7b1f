"""`nextword experiment NAME`: run one of the lecture's claims as a measured experiment."""
from __future__ import annotations

from pathlib import Path

import click

from nextword.commands.options import SEED, Whole
from nextword.errors import NextwordError


@click.command("experiment")
@click.argument("name", required=False)
@click.option("--list", "list_them", is_flag=True, help="List the experiments: name, claim, run time.")
@click.option("--corpus", "corpora", multiple=True, metavar="NAME",
              help="Corpus with train/valid/test splits: ptb, wikitext-2 or default (repeatable; "
                   "default: the experiment's own, PTB for most).")
@click.option("--budget", default=None, metavar="DURATION",
              help="Training time for the whole experiment, in CPU seconds of this process, "
                   "split among its runs: 90s, 10m, 1.5h [the experiment's default, see --list].")
@click.option("--output", type=click.Path(file_okay=False), default=None,
              help="Folder for results.json, results.md and the plots [experiments/NAME].")
@click.option("--smoke", is_flag=True, help="A seconds-long run on a slice of the embedded corpus, "
              "whatever --corpus says (checks the wiring; its numbers mean nothing).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of every run.")
@click.option("--threads", type=Whole(1), default=1, show_default=True,
              help="torch threads (neural experiments); 1 makes CPU seconds comparable.")
def experiment(name, list_them, corpora, budget, output, smoke, seed, threads):
    """Measure one of the lecture's claims: NAME's runs, its table, plots and verdict."""
    from nextword.experiments import EXPERIMENTS, get_experiment

    if list_them:
        for key in EXPERIMENTS:
            module = get_experiment(key)
            click.echo(f"{key:<20} {module.EXPECTED:<12} {module.CLAIM}")
        return
    if not name:
        raise NextwordError("name an experiment (nextword experiment --list shows them)")
    module = get_experiment(name)              # an unknown name fails before any work
    seconds = None
    if budget is not None:
        from nextword.neural.config import parse_duration

        seconds = parse_duration(budget)
        if not seconds > 0:
            raise NextwordError(f"--budget must be > 0, got {budget}")
    from nextword.experiments.base import Settings
    from nextword.experiments.runner import run_experiment

    settings = Settings(corpora=tuple(corpora) or None, budget=seconds, smoke=smoke, seed=seed)
    settings.corpus_names()                    # a bad --corpus fails before any work
    folder = Path(output) if output else Path("experiments") / name
    click.echo(f"{name}: running (expected {module.EXPECTED} at the default budget); results in "
               f"{folder}", err=True)
    trains = module.DEFAULT_BUDGET is not None         # experiments without training skip torch
    outcome = _with_threads(threads, lambda: run_experiment(name, settings, folder)) if trains \
        else run_experiment(name, settings, folder)
    click.echo(f"{name}: {outcome.verdict.outcome} ({outcome.elapsed_s:.0f} s)")
    for reason in outcome.verdict.reasons:
        click.echo(f"  {reason}")
    click.echo(f"wrote {', '.join(str(f) for f in outcome.files)}")


def _with_threads(threads: int, work):
    """Run `work` with torch limited to `threads` threads, then restore the caller's setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return work()
    finally:
        torch.set_num_threads(before)
