"""`nextword train window|rnn|lstm|gru`: one command per registered neural architecture.

Flags -> (model config, train config) -> nextword.neural.train. The command's flags are built
from the architecture's config dataclass (its fields become flags), so a new architecture gets
its command by registering itself (nextword.neural.config.register_architecture). Everything
here is read from nextword.neural.config, without importing torch; training imports it.

A value comes from, in order of precedence: the flag typed, the --preset, the family's default
recipe (nextword.neural.presets.FAMILY_DEFAULTS), the config dataclass's own default.
"""
from __future__ import annotations

from dataclasses import MISSING, fields
from functools import lru_cache

import click

from nextword.commands.common import (corpus_options, given_on_command_line, open_corpus, progress,
                                      read_training)
from nextword.errors import NextwordError
from nextword.neural import config as cfg

# Help of the model-config fields the built-in architectures have: field -> (flag, help, choices).
# A field of a new architecture that is not listed gets a flag named after it.
MODEL_FLAGS = {
    "window": ("--window", "Words of context n - 1.", None),
    "embedding_dim": ("--embedding-dim", "Embedding size d.", None),
    "hidden_dim": ("--hidden-dim", "Hidden size H.", None),
    "num_layers": ("--layers", "Stacked recurrent layers.", None),
    "activation": ("--activation", "Hidden activation.", cfg.ACTIVATIONS),
    "dropout": ("--dropout", "Dropout probability p (inverted dropout, as nn.Dropout).", None),
    "tie": ("--tie/--no-tie", "Tie the input embeddings and the output matrix.", None),
    "init": ("--init", "Weight initialisation (docs/neural.md).", cfg.INIT_SCHEMES),
}
# TrainConfig fields the CLI offers: field -> (flag, help, choices)
TRAIN_FLAGS = {
    "optimizer": ("--optimizer", "sgd, adagrad, rmsprop, adam, adamw, nadamw (NAdam with "
                                 "decoupled weight decay).", cfg.OPTIMIZERS),
    "lr": ("--lr", "Learning rate η.", None),
    "weight_decay": ("--weight-decay", "Weight decay λ (decoupled for adamw, nadamw).", None),
    "clip": ("--clip", "Largest global gradient norm; 0: no clipping.", None),
    "schedule": ("--schedule", "plateau: lr × lr-factor when validation stalls; cosine: "
                               "annealed to 0 over the time budget or the epochs.", cfg.SCHEDULES),
    "lr_factor": ("--lr-factor", "plateau: the factor applied to lr.", None),
    "patience": ("--patience", "plateau: evaluations without improvement before lowering lr.",
                 None),
    "early_stop": ("--early-stop", "Stop after this many evaluations without improvement "
                                   "(0: never).", None),
    "batch_size": ("--batch-size", "Parallel streams B.", None),
    "bptt": ("--bptt", "Steps T per training segment (truncated BPTT: gradient flows back "
                       "within the segment).", None),
    "epochs": ("--epochs", "Passes over the corpus (a time budget may stop sooner).", None),
    "evals_per_epoch": ("--evals-per-epoch", "Validation runs per epoch.", None),
    "softmax": ("--softmax", "Training softmax; evaluation always uses the full one.",
                cfg.SOFTMAXES),
    "num_samples": ("--num-samples", "sampled softmax: negatives per step.", None),
    "full_softmax_final": ("--full-softmax-final", "sampled softmax: last fraction of the run "
                                                   "trained with the full softmax.", None),
    "precision": ("--precision", "bf16: autocast matrix products (CPUs with avx512_bf16/AMX, "
                                 "GPUs).", cfg.PRECISIONS),
    "device": ("--device", "Where to train.", cfg.DEVICES),
    "threads": ("--threads", "torch threads while training [default: torch's own].", None),
    "seed": ("--seed", "Seed of weights, dropout and sampling.", None),
}

NONE_DEFAULT_TYPES = {"threads": int}         # fields whose default None does not tell the type


def family_defaults(kind: str) -> tuple[dict, dict]:
    """(model fields, train fields) a family trains with when no flag or preset says otherwise."""
    from nextword.neural.presets import family_defaults

    return family_defaults(kind)


def _option(name: str, spec, default):
    flag, help_text, choices = spec
    kwargs = dict(default=None, help=help_text)
    if "/" in flag:                                   # a boolean pair --tie/--no-tie
        kwargs["help"] += f"  [default: {'tie' if default else 'no-tie'}]"
        return click.option(flag, name, **kwargs)
    if choices:
        kwargs["type"] = click.Choice(list(choices))
    elif default is not None:
        kwargs["type"] = type(default)
    elif name in NONE_DEFAULT_TYPES:
        kwargs["type"] = NONE_DEFAULT_TYPES[name]
    if default is not None:
        kwargs["help"] += f"  [default: {default}]"
    return click.option(flag, name, **kwargs)


@lru_cache(maxsize=None)
def neural_command(kind: str) -> click.Command:
    """The `nextword train KIND` command of a registered architecture."""
    from nextword.neural.presets import presets_of

    architecture = cfg.get_architecture(kind)
    model_defaults, train_defaults = family_defaults(kind)
    presets = presets_of(kind)

    def run(**flags):
        ctx = click.get_current_context()
        given = given_on_command_line(ctx)
        common = {k: flags.pop(k) for k in ("corpus", "valid_spec", "output", "min_count",
                                             "max_vocab", "tokenizer", "stream")}
        preset, resume = flags.pop("preset"), flags.pop("resume")
        chosen = {k: v for k, v in flags.items() if k in given and v is not None}
        train_neural(kind, preset, chosen, resume=resume, **common)

    options = [
        click.option("--preset", default=None, metavar="NAME",
                     help=f"Named configuration, flags override its fields: "
                          f"{', '.join(presets) or 'none for ' + kind} (docs/neural.md)."),
    ]
    for f in fields(architecture.config):
        if f.name in ("vocab_size", "cell"):
            continue
        default = model_defaults.get(f.name, None if f.default is MISSING else f.default)
        spec = MODEL_FLAGS.get(f.name, (f"--{f.name.replace('_', '-')}",
                                        f"{kind}: {f.name.replace('_', ' ')}.", None))
        options.append(_option(f.name, spec, default))
    train_fields = {f.name: f for f in fields(cfg.TrainConfig)}
    for name, spec in TRAIN_FLAGS.items():
        options.append(_option(name, spec, train_defaults.get(name, train_fields[name].default)))
    options += [
        click.option("--time-budget", callback=_duration, default=None,
                     help="Stop after this wall-clock time, e.g. 90s, 30m, 1.5h (evaluations "
                          "included)."),
        click.option("--resume", is_flag=True, help="Continue the interrupted run in OUTPUT."),
    ]
    function = run
    for option in reversed(options):
        function = option(function)
    function = corpus_options(function)
    return click.command(kind, help=f"Train a {kind} model ({architecture.doc}) on CORPUS and "
                                    f"save it in OUTPUT (needs --valid).")(function)


def _duration(ctx, param, value):
    """'90', '90s', '30m', '1.5h' -> seconds."""
    if value is None:
        return None
    try:
        return cfg.parse_duration(value)
    except NextwordError as error:
        raise click.BadParameter(str(error)) from None


def train_neural(kind, preset, flags, *, resume, corpus, valid_spec, output, min_count, max_vocab,
                 tokenizer, stream):
    """Flags -> (model config, train config) -> nextword.neural.train."""
    from nextword.model import resolve
    from nextword.neural.presets import preset_fields
    from nextword.text.vocabulary import Vocabulary

    train = resolve("nextword.neural.train:train")       # imports torch (or names the extra)
    model_fields, train_fields = preset_fields(kind, preset, flags)
    if not valid_spec:
        raise NextwordError("neural models need a validation corpus: pass --valid (e.g. ptb:valid)")
    if (preset or "").endswith("-budget") and "time_budget" not in flags and "epochs" not in flags:
        # their 1000 epochs mean "until the budget"; cosine would anneal over all of them
        raise NextwordError(f"preset {preset} trains until a time budget: pass "
                            f"--time-budget (e.g. 30m) or --epochs N")
    train_config = cfg.TrainConfig(**train_fields)
    sentences = read_training(corpus, tokenizer, stream)
    vocab = Vocabulary.build(sentences, min_count=min_count, max_size=max_vocab)
    model_config = cfg.config_from_dict(kind, {"vocab_size": len(vocab), **model_fields})
    result = train(model_config, train_config, vocab, sentences,
                   list(open_corpus(valid_spec, tokenizer)), output, resume=resume,
                   progress=lambda desc, total: progress(total, desc), corpus=corpus)
    click.echo(f"{result.status}: {kind} after {result.position.step:,} steps "
               f"({result.position.tokens:,} tokens, {result.position.elapsed:.0f} s, "
               f"{result.tokens_per_second:,.0f} training tokens/s); best {valid_spec} perplexity "
               f"{result.best_valid_perplexity:.2f}", err=True)
    click.echo(f"saved to {output} (best model on validation; log {output}/train_log.jsonl)", err=True)
