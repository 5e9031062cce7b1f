"""nextword mix: interpolate saved models, weights fitted on validation text or given."""
from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np

from nextword.commands.common import combination_force, open_corpus, progress
from nextword.errors import NextwordError
from nextword.text.tokenize import TOKENIZERS


def parse_weights(text: str, count: int) -> list:
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        raise NextwordError(f"--weights: expected numbers separated by commas, got {text!r}") from None
    if len(weights) != count:
        raise NextwordError(f"--weights: {len(weights)} weights for {count} models")
    return weights


def encoded(vocab, spec, tokenizer) -> list:
    with progress(desc=f"reading {spec}", unit="sent") as bar:
        sentences = []
        for tokens in open_corpus(spec, tokenizer):
            sentences.append(vocab.encode(tokens))
            bar.update()
    if not sentences:
        raise NextwordError(f"{spec}: no sentences")
    return sentences


@click.command("mix")
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="Folder of the mixture (it refers to the models, relative to itself).")
@combination_force
@click.option("--valid", default=None, help="Validation corpus the weights are fitted on.")
@click.option("--weights", default=None, help="Weights by hand, e.g. 0.3,0.7 (no fitting).")
@click.option("--log-linear", is_flag=True,
              help="Log-linear interpolation Π P_k^λ_k / Z (default: linear Σ λ_k P_k).")
@click.option("--sample-positions", default=1000, show_default=True, type=int,
              help="log-linear: about this many validation positions (whole lines, spread over "
              "the text) give the full distributions the fit uses.")
@click.option("--tolerance", default=1e-6, show_default=True, type=float,
              help="EM stops when validation perplexity improves by less than this (relative).")
@click.option("--tokenizer", default=None, type=click.Choice(list(TOKENIZERS)),
              help="How to split lines of a plain file [default: whitespace].")
def mix(models, output, force, valid, weights, log_linear, sample_positions, tolerance, tokenizer):
    """Interpolate MODELS (any saved models with the same words): P = Σ λ_k P_k, weights by EM
    on --valid (SRILM's compute-best-mix) or given by --weights; --log-linear for Π P_k^λ_k / Z."""
    from nextword.combine.mixture import Mixture, fit_linear, fit_loglinear, perplexity
    from nextword.combine.storage import check_output
    from nextword.model import load_model

    check_output(output, "mixture", models, force)              # before the fitting, not after it
    names = [str(m) for m in models]
    components = [load_model(m) for m in models]
    combination = "log-linear" if log_linear else "linear"
    K = len(components)
    start = [1.0 / K] * K
    if weights is not None:
        start = parse_weights(weights, K)
    mixture = Mixture(components, start, combination, names=names, paths=list(models))
    if weights is None and valid is None:
        raise NextwordError("give --valid CORPUS to fit the weights, or --weights W1,W2,...")
    fit: dict = {}
    if valid is not None:
        sentences = encoded(mixture.vocab, valid, tokenizer)
        began = time.perf_counter()
        matrix = np.concatenate(list(mixture.component_logprobs(sentences)))      # (N, K)
        scored = time.perf_counter() - began
        fit = {"valid": valid, "tokens": int(len(matrix)), "scoring_seconds": round(scored, 2),
               "components_perplexity": {n: perplexity(matrix[:, k]) for k, n in enumerate(names)}}
        click.echo(f"{valid}: {len(matrix):,} tokens scored by {K} models in {scored:.1f} s")
        for n, ppl in fit["components_perplexity"].items():
            click.echo(f"  {n}: perplexity {ppl:.2f}")
        if weights is None:
            began = time.perf_counter()
            if log_linear:
                history = _fit_loglinear(mixture, sentences, len(matrix), sample_positions)
            else:
                history = fit_linear(matrix, tolerance=tolerance, report=_print_iteration)
            fit["fit_seconds"] = round(time.perf_counter() - began, 2)
            fit["iterations"] = [{"weights": h.weights, "perplexity": h.perplexity} for h in history]
            mixture.weights = [float(w) for w in history[-1].weights]
            if log_linear:
                fit["sample_positions"] = sample_positions
        if log_linear:
            scores = np.concatenate(list(mixture.sentence_logprobs(sentences)))
        else:
            from nextword.combine.mixture import linear_logprobs
            scores = linear_logprobs(matrix, mixture.weights)
        fit["perplexity"] = perplexity(scores)
        click.echo(f"{combination} mixture, weights "
                   + ", ".join(f"{w:.4f}" for w in mixture.weights)
                   + f": {valid} perplexity {fit['perplexity']:.2f}")
    mixture.fit = fit
    mixture.save(output, force)
    click.echo(f"saved to {output}; next: nextword eval {output} --corpus CORPUS", err=True)


def _print_iteration(i, iteration):
    click.echo(f"  EM {i:3d}: weights " + ", ".join(f"{w:.4f}" for w in iteration.weights)
               + f"  perplexity {iteration.perplexity:.3f}")


def _fit_loglinear(mixture, sentences, tokens, sample_positions):
    """Full distributions of every `stride`-th validation line (about `sample_positions`
    positions in all), then Newton steps on them."""
    from nextword.combine.mixture import fit_loglinear
    from nextword.text.vocabulary import BOS_ID, EOS_ID

    stride = max(1, round(tokens / max(1, sample_positions)))
    keep = lambda i: i % stride == 0                                   # noqa: E731
    kept, targets = [], []
    for i, dists in enumerate(mixture.component_distributions(sentences, keep)):   # (m+1, V, K)
        if dists is not None:
            kept.append(dists.astype(np.float32))
            targets.append(np.append(sentences[i], EOS_ID))
    D = np.concatenate(kept)
    columns = np.arange(D.shape[1]) != BOS_ID                   # <s> is never predicted
    targets = np.concatenate(targets)
    targets = targets - (targets > BOS_ID)                       # ids once <s>'s column is gone
    click.echo(f"  log-linear fit on {len(D):,} validation positions (every {stride}th line)")
    return fit_loglinear(D[:, columns], targets, report=lambda i, it: click.echo(
        f"  Newton {i:2d}: weights " + ", ".join(f"{w:.4f}" for w in it.weights)
        + f"  perplexity on those positions {it.perplexity:.3f}"))
