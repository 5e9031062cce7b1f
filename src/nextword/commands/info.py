"""`nextword info`: what a saved model is."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("info")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True,
              help="Check every byte of every file against the SHA-256 in model.json (a plain "
                   "load checks sizes, and memory-mapped arrays only by a sample of their bytes).")
def info(model_path, verify):
    """What a saved model is: type, order or size, vocabulary."""
    from nextword.model import load_model

    description = load_model(model_path, verify=verify).describe()
    click.echo(json.dumps(description, indent=2, sort_keys=True))
    if verify:
        click.echo(f"verified: every file of {model_path} matches its checksum", err=True)
