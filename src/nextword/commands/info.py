"""`nextword info`: what a saved model is, in a few lines (`--json`: the full record)."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("info")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="The full record as one JSON object.")
def info(model_path, as_json):
    """What a saved model (directory or ARPA file) is: type, order or size, vocabulary."""
    from nextword.model import load_model

    record = load_model(model_path).describe()
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
        return
    for line in summary(record, model_path):
        click.echo(line)


def summary(record: dict, path) -> list[str]:
    """A few lines a person reads; every model's describe() has a type and a vocabulary."""
    lines = [f"{path}: {record.get('type', 'unknown')} model"]
    if "order" in record:
        lines.append(f"  order {record['order']}")
    estimator = record.get("estimator")
    if isinstance(estimator, dict) and estimator.get("name"):
        params = ", ".join(f"{k} {v}" for k, v in sorted(estimator.items())
                           if k not in ("name", "notes", "details") and not isinstance(v, (dict, list)))
        lines.append(f"  estimator {estimator['name']}{f' ({params})' if params else ''}")
    lines.append(f"  vocabulary {record.get('vocabulary', 0):,}")
    if "ngrams" in record:
        lines.append("  n-grams " + ", ".join(f"{k}-grams {v:,}" for k, v in record["ngrams"].items()))
    if "parameters" in record:
        lines.append(f"  parameters {record['parameters']:,}")
    config = {k: v for k, v in (record.get("config") or {}).items() if k != "vocab_size"}
    if config:
        lines.append("  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in config.items()))
    history = (record.get("training") or {}).get("history") if isinstance(record.get("training"), dict) else None
    if history:
        last = history[-1]
        figures = ", ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in last.items()
                            if isinstance(v, float))
        lines.append(f"  trained {len(history)} epochs; last: {figures}")
    lines.append("  (nextword info --json: the full record)")
    return lines
