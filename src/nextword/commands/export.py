"""`nextword export`: a saved n-gram model as an ARPA file."""
from __future__ import annotations

from pathlib import Path

import click

from nextword.errors import NextwordError
from nextword.fileio import check_file_destination


@click.command("export")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--arpa", "arpa_path", type=click.Path(path_type=Path), required=True,
              help="ARPA file to write (log10 probabilities, readable by KenLM and SRILM).")
def export(model_path, arpa_path):
    """Write a saved n-gram model as an ARPA file."""
    from nextword.model import load_model
    from nextword.ngram.model import NgramModel

    check_file_destination(arpa_path)                   # before loading, not after writing
    lm = load_model(model_path)
    if not isinstance(lm, NgramModel):
        raise NextwordError(f"{model_path}: only n-gram models can be written as ARPA files")
    write_with_progress(lm, arpa_path)


def write_with_progress(lm, arpa_path: Path) -> None:
    """The ARPA file of an n-gram model, streamed a block at a time, with a progress bar."""
    from nextword.commands.common import progress
    from nextword.ngram.arpa import write_arpa

    entries = len(lm.vocab) + sum(len(lm.keys[k]) for k in range(2, lm.order + 1))
    with progress(total=entries, desc=f"writing {arpa_path}", unit="ngram") as bar:
        sizes = write_arpa(lm, arpa_path, progress=bar)
    click.echo(f"wrote {arpa_path}: " + ", ".join(f"{k}-grams {v:,}" for k, v in sizes.items()),
               err=True)
