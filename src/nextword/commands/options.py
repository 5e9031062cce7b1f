"""Numeric flags checked where they are parsed: range and finiteness, in the flag's own words.

    @click.option("--lr", type=Positive(float))          'inf', 'nan', '0' -> a one-line error
    @click.option("--order", type=Whole(1, MAX_ORDER))    naming --order and the range

The checks are those of `nextword.checks`, which the library's configs make too: a value is
refused before any work, whether it came from a flag or from Python.
"""
from __future__ import annotations

import click

from nextword.checks import MAX_SEED, check_number
from nextword.errors import NextwordError


class Checked(click.ParamType):
    """A number (`kind` int or float) in [low, high] (open ends where asked), finite."""

    def __init__(self, kind=float, low=None, high=None, low_open=False, high_open=False):
        self.kind, self.low, self.high = kind, low, high
        self.low_open, self.high_open = low_open, high_open
        self.name = "integer" if kind is int else "float"

    def convert(self, value, param, ctx):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            text = str(value).strip()
            try:
                value = int(text) if self.kind is int else float(text)
            except ValueError:
                what = "a whole number" if self.kind is int else "a number"
                self.fail(f"{text!r} is not {what}", param, ctx)
        flag = param.opts[0] if param is not None and param.opts else "value"
        try:
            return check_number(flag, value, self.low, self.high, low_open=self.low_open,
                                high_open=self.high_open, whole=self.kind is int)
        except NextwordError as error:      # "--lr must be > 0, got 0": a usage error (exit 2)
            raise click.UsageError(str(error), ctx) from None


def Whole(low=None, high=None) -> Checked:
    return Checked(int, low, high)


def Positive(kind=float) -> Checked:
    return Checked(kind, 0, low_open=True)


def NonNegative(kind=float) -> Checked:
    return Checked(kind, 0)


SEED = Whole(0, MAX_SEED)
PROBABILITY = Checked(float, 0, 1, low_open=True)          # (0, 1]

# The neural flags built from config fields (commands/train_neural.py): field -> its type
NEURAL_TYPES = {
    "window": Whole(1), "embedding_dim": Whole(1), "hidden_dim": Whole(1), "num_layers": Whole(1),
    "dropout": Checked(float, 0, 1, high_open=True),
    "lr": Positive(), "weight_decay": NonNegative(), "clip": NonNegative(),
    "lr_factor": PROBABILITY, "patience": Whole(0), "early_stop": Whole(0),
    "batch_size": Whole(1), "bptt": Whole(1), "epochs": Whole(1), "evals_per_epoch": Whole(1),
    "num_samples": Whole(1), "full_softmax_final": Checked(float, 0, 1),
    "threads": Whole(1), "seed": SEED,
}


def force_option(function):
    return click.option("--force", is_flag=True,
                        help="Replace whatever model or training run OUTPUT holds, whole "
                             "(without it, another kind of model there is refused).")(function)


def spark_options(engine_help: str):
    """--engine local|spark, --cluster URL and --workers N: the same three flags on every command
    that can run as a Spark job."""
    def decorate(function):
        options = [
            click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
                         show_default=True, help=engine_help),
            click.option("--cluster", default=None, metavar="URL",
                         help="--engine spark: the master (spark://host:7077, yarn, ...) "
                              "[default: local mode]."),
            click.option("--workers", default=2, show_default=True, type=Whole(1),
                         help="--engine spark without --cluster: local worker threads."),
        ]
        for option in reversed(options):
            function = option(function)
        return function
    return decorate
