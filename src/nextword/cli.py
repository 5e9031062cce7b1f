"""The `nextword` command: flags -> dataclasses -> library calls. No maths here.

Every user mistake ends in one line on stderr (``nextword: error: ...``) and a non-zero exit.
"""
from __future__ import annotations

import sys

import click

from nextword.errors import Interrupted, NextwordError

# Commands that live in their own module under nextword/commands: name -> "module:attribute".
# A new command is one file there plus one line here; its module is imported only when the
# command runs (or `--help` lists it), so `nextword eval` on an n-gram model never imports torch.
COMMANDS: dict[str, str] = {
    "train": "nextword.commands.train:train",
    "eval": "nextword.commands.eval:eval_command",
    "generate": "nextword.commands.generate:generate",
    "info": "nextword.commands.info:info",
    "export": "nextword.commands.export:export",
    "demo": "nextword.commands.demo:demo",
    "explain": "nextword.commands.explain:explain",
    "synth": "nextword.commands.synth:synth",
    "index": "nextword.commands.index:index_command",
    "query": "nextword.commands.query:query_command",
    "mix": "nextword.commands.mix:mix",
    "adapt": "nextword.commands.adapt:adapt",
    "experiment": "nextword.commands.experiment:experiment",
    "serve": "nextword.commands.serve:serve",
}


class LazyGroup(click.Group):
    """A click group whose COMMANDS are imported on first use."""

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx, name):
        if name in COMMANDS:
            from nextword.lazy import resolve

            return resolve(COMMANDS[name])
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:      # before click turns it into Abort and a blank line
            raise Interrupted() from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nextword")
def cli():
    """nextword: build, evaluate and sample language models.

    CORPUS is a file path, `default` (Python's own documentation, embedded), or a standard
    corpus with a split: ptb:train, ptb:valid, ptb:test, wikitext-2:train, ..., tinyshakespeare.
    Standard corpora are read from $NEXTWORD_DATA (fallback: ../shared/data).
    """


def main(argv=None) -> int:
    """Entry point: one-line errors, no tracebacks for user mistakes."""
    try:
        cli.main(args=argv, prog_name="nextword", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:   # bare group: show help, exit 0
        click.echo(error.ctx.get_help())
    except click.ClickException as error:
        click.echo(f"nextword: error: {error.format_message()}", err=True)
        return error.exit_code if error.exit_code else 2
    except click.exceptions.Abort:
        click.echo("nextword: interrupted", err=True)
        return 130
    except NextwordError as error:
        click.echo(f"nextword: error: {error}", err=True)
        return 1
    except (KeyboardInterrupt, Interrupted) as error:
        # files being written were removed (fileio.atomic_path, model_folder): nothing half done
        said = f"; {error}" if isinstance(error, Interrupted) and str(error) else ""
        click.echo(f"nextword: interrupted{said}", err=True)
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
