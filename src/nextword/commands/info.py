"""`nextword info`: what a saved model is."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("info")
@click.argument("model_path", type=click.Path(path_type=Path))
def info(model_path):
    """What a saved model is: type, order or size, vocabulary."""
    from nextword.model import load_model

    click.echo(json.dumps(load_model(model_path).describe(), indent=2, sort_keys=True))
