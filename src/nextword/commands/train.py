"""`nextword train FAMILY ...`: one subcommand per model family, each with only its own flags.

    nextword train ngram     --order 5 --smoothing modified-kneser-ney ...
    nextword train window    --window 4 --hidden-dim 512 ...      (and rnn, lstm, gru: one per
    nextword train lstm      --layers 2 --bptt 35 ...              registered neural architecture)
    nextword train numpy-rnn --truncation 20 ...

One command per neural *architecture* rather than one `train neural --model KIND`: the window
model's flags (--window, --activation) and the recurrent models' (--layers) then exist only
where they mean something, so no rule has to reject them, and each command's --help shows that
architecture's own defaults. The older spelling `nextword train [--model KIND] FLAGS...` (KIND
defaults to ngram) is rewritten to `nextword train KIND FLAGS...` before parsing.
"""
from __future__ import annotations

import click

# family -> "module:attribute" of its click command, imported when it runs or --help lists it.
# Neural architectures are added from nextword.neural.config.ARCHITECTURES (torch-free).
FAMILIES: dict[str, str] = {
    "ngram": "nextword.commands.train_ngram:train_ngram",
    "numpy-rnn": "nextword.commands.train_numpy_rnn:train_numpy_rnn",
}
LEGACY_DEFAULT = "ngram"
# flags renamed when a family got its own command: (family, old spelling) -> new spelling
LEGACY_RENAMES = {("numpy-rnn", "--bptt"): "--truncation"}


def neural_families() -> list[str]:
    from nextword.neural.config import ARCHITECTURES

    return list(ARCHITECTURES)


class TrainGroup(click.Group):
    def list_commands(self, ctx):
        return [*FAMILIES, *neural_families()]

    def get_command(self, ctx, name):
        from nextword.lazy import resolve

        if name in FAMILIES:
            return resolve(FAMILIES[name])
        if name in neural_families():
            from nextword.commands.train_neural import neural_command

            return neural_command(name)
        return None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as error:
            family = error.ctx.command.name if error.ctx else "?"
            owners = [name for name in self.list_commands(ctx)
                      if any(error.option_name in p.opts or error.option_name in p.secondary_opts
                             for p in self.get_command(ctx, name).params)]
            where = f"; it is an option of: {', '.join(owners)}" if owners else ""
            raise click.UsageError(f"no such option {error.option_name} for `nextword train "
                                   f"{family}`{where}") from None

    def parse_args(self, ctx, args):
        if args and args[0] not in self.list_commands(ctx) and args[0] not in ctx.help_option_names:
            args = legacy_args(args, self.list_commands(ctx))
        return super().parse_args(ctx, args)


def legacy_args(args: list[str], families: list[str]) -> list[str]:
    """`[--model KIND] FLAGS...` -> `KIND FLAGS...` (KIND defaults to ngram)."""
    kind, rest, i = LEGACY_DEFAULT, [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--model" and i + 1 < len(args):
            kind, i = args[i + 1], i + 2
            continue
        if arg.startswith("--model="):
            kind, i = arg.split("=", 1)[1], i + 1
            continue
        rest.append(arg)
        i += 1
    if kind not in families:
        raise click.BadParameter(f"{kind!r} is not one of {', '.join(families)}",
                                 param_hint="'--model'")
    for (family, old), new in LEGACY_RENAMES.items():
        if family == kind:
            rest = [new if a == old else new + a[len(old):] if a.startswith(old + "=") else a
                    for a in rest]
    return [kind, *rest]


@click.group(cls=TrainGroup)
def train():
    """Train a model of one FAMILY on a corpus and save it.

    \b
    nextword train ngram -n 3 --corpus ptb:train --valid ptb:valid -o ptb3
    nextword train lstm --preset lstm-budget --time-budget 30m --corpus ptb:train ...
    nextword train FAMILY --help     flags and defaults of one family

    The older `nextword train --model KIND FLAGS...` still works (KIND defaults to ngram).
    """
