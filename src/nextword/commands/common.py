"""What the commands share: corpora, progress bars, evaluation reports."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from nextword.errors import NextwordError


LOG_EVERY_SECONDS = 5.0


def progress(total=None, desc=None, unit="tok"):
    """A progress bar on a terminal; elsewhere (a log file, a pipe) a line every few seconds,
    so a long run sent to a file still shows that it is alive and how fast it goes."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
                    leave=False, dynamic_ncols=True)
    return LogProgress(total, desc, unit)


class LogProgress:
    """tqdm's update / set_postfix / close, written as plain lines at most every few seconds."""

    def __init__(self, total=None, desc=None, unit="tok", every: float = LOG_EVERY_SECONDS,
                 stream=None):
        import time

        self.clock = time.monotonic
        self.total, self.desc, self.unit, self.every = total, desc or "working", unit, every
        self.stream = stream if stream is not None else sys.stderr
        self.n, self.postfix, self.lines, self.shown = 0, "", 0, 0
        self.start = self.last = self.clock()

    def update(self, n=1):
        self.n += n
        if self.clock() - self.last >= self.every:
            self._write()

    def set_postfix(self, **values):
        self.postfix = ", ".join(f"{k} {v}" for k, v in values.items())

    def close(self):
        # a run that logged progress also logs its end, once (close may be called twice)
        if self.lines and self.n != self.shown:
            self._write()

    def _write(self):
        now = self.clock()
        self.last = now
        elapsed = now - self.start
        done = f"{self.n:,}" + (f"/{self.total:,} ({100 * self.n / self.total:.0f}%)"
                                if self.total else "")
        rate = f"{self.n / elapsed:,.0f} {self.unit}/s" if elapsed > 0 else ""
        line = f"nextword: {self.desc}: {done} {self.unit}, {elapsed:.0f} s, {rate}"
        print(line + (f"; {self.postfix}" if self.postfix else ""), file=self.stream, flush=True)
        self.lines += 1
        self.shown = self.n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


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

    @property
    def blocks(self):
        """The corpus's blocks of lines (`Corpus.blocks`), moving the bar by their lines."""
        from nextword.fileio import line_count

        source = getattr(self.corpus, "blocks", None)
        if source is None:
            return None

        def counted():
            for block in source():
                self.bar.update(line_count(block))
                yield block
        return counted


def given_on_command_line(ctx: click.Context) -> set:
    """Names of the parameters the user typed (not left at their defaults)."""
    sources = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
    return {p.name for p in ctx.command.params if ctx.get_parameter_source(p.name) in sources}


# --force of the commands that write a folder referring to other models (mix, adapt)
combination_force = click.option(
    "--force", is_flag=True,
    help="Replace whatever model OUTPUT holds, whole (without it, another kind of model there "
         "is refused).")


def corpus_options(function=None, *, output_help: str | None = None):
    """The flags every `train FAMILY` command shares: what to read, where to save. With
    `output_help`, OUTPUT may be left out (the command says what it writes instead)."""
    if function is None:
        return lambda f: corpus_options(f, output_help=output_help)
    from nextword.commands.options import Whole
    from nextword.text.tokenize import TOKENIZERS

    options = [
        click.option("--corpus", default="default", show_default=True,
                     help="Training corpus: a file, `default`, or e.g. ptb:train."),
        click.option("--valid", "valid_spec", default=None,
                     help="Held-out corpus to report perplexity on (e.g. ptb:valid)."),
        click.option("--output", "-o", type=click.Path(path_type=Path),
                     required=output_help is None,
                     help=output_help or "Directory the model is saved in."),
        click.option("--force", is_flag=True,
                     help="Replace whatever model or training run OUTPUT holds, whole "
                          "(without it, another kind of model or a run there is refused)."),
        click.option("--min-count", default=1, show_default=True, type=Whole(1),
                     help="Words seen fewer times become <unk>."),
        # 3 entries are reserved (<unk>, <s>, </s>): 4 is the smallest that holds a word
        click.option("--max-vocab", default=None, type=Whole(4),
                     help="Keep at most this many vocabulary entries, the 3 reserved ones "
                          "included (default: all)."),
        click.option("--tokenizer", default=None, type=click.Choice(list(TOKENIZERS)),
                     help="How to split lines of a plain file [default: whitespace; standard "
                          "corpora use their own]."),
        click.option("--stream", is_flag=True,
                     help="Treat each file as one stream, not one sentence per line."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


class RegistryChoice(click.Choice):
    """A Choice over the names of a registry (a dict), read each time it is used, so a name
    registered after this module was imported (a plug-in, a test) is offered too."""

    def __init__(self, registry: dict):
        self.registry = registry
        super().__init__(list(registry))

    @property
    def choices(self):
        return tuple(self.registry)

    @choices.setter
    def choices(self, value):               # click.Choice.__init__ assigns it; the registry rules
        pass
