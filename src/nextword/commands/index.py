"""`nextword index CORPUS -o DIR`: build the suffix-array index of a corpus."""
from __future__ import annotations

import json
from pathlib import Path

import click

from nextword.commands.common import open_corpus
from nextword.text.tokenize import TOKENIZERS


@click.command("index")
@click.argument("corpus")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Folder to write the index to (memory-mapped .npy arrays and vocab.txt).")
@click.option("--tokenizer", default=None, type=click.Choice(list(TOKENIZERS)),
              help="How to split lines of a plain file [default: whitespace].")
@click.option("--builder", default="auto", show_default=True,
              type=click.Choice(["auto", "divsufsort", "numpy"]),
              help="Suffix-array construction: libdivsufsort (pip install 'nextword[index]') or "
                   "NumPy prefix doubling; auto takes divsufsort when installed.")
@click.option("--discount", default=0.9, show_default=True, type=float,
              help="Kneser-Ney discount D of the smoothed model, in (0, 1) (saved in model.json).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def index_command(corpus, output, tokenizer, builder, discount, as_json):
    """Build a suffix-array index of CORPUS: counts of any n-gram, and two models.

    `nextword eval DIR` scores the smoothed unbounded-order model (interpolated Kneser-Ney, discount --discount);
    DIR/infinigram is the ∞-gram over the same index (`nextword generate DIR/infinigram`).
    """
    from nextword.infinigram.index import build_index

    _, facts = build_index(open_corpus(corpus, tokenizer), output, builder, discount)
    if as_json:
        click.echo(json.dumps({"corpus": corpus, "index": str(output), **facts}, sort_keys=True))
        return
    click.echo(f"indexed {corpus}: {facts['tokens']:,} tokens, {facts['sentences']:,} sentences, "
               f"{facts['vocabulary']:,} words in {facts['build_seconds']:.2f} s; "
               f"{facts['bytes'] / 2**20:.1f} MiB ({facts['bytes_per_token']:.1f} bytes/token) "
               f"in {output}")
