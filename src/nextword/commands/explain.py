"""`nextword explain`: the maths behind a model, computed on the spot."""
from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def explain():
    """Show the maths behind a model, computed on the spot."""


@explain.command("bptt")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), default=None,
              help="Also draw the table as a PNG plot in this file.")
@click.option("--steps", default=20, show_default=True, type=int, help="Sequence length T.")
@click.option("--hidden-dim", default=16, show_default=True, type=int, help="Hidden size H.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of weights and tokens.")
def explain_bptt_command(as_json, plot_path, steps, hidden_dim, seed):
    """Backpropagation through time, step by step, on a small random RNN.

    ∂J(t)/∂W_h is a sum over the steps i = 1..t at which W_h was used. For the loss at the last
    step t = T, each row is the term ∂J(t)/∂W_h |_(i); the checks (finite differences, sum,
    truncation) are run now.
    """
    from nextword.reference.explain import ExplainConfig, explain_bptt, plot_bptt

    report = explain_bptt(ExplainConfig(steps=steps, hidden_dim=hidden_dim, seed=seed))
    if plot_path is not None:
        plot_bptt(report, plot_path)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "plot": str(plot_path) if plot_path else None},
                              sort_keys=True))
        return
    c = report.config
    click.echo(f"random Elman RNN: H {c.hidden_dim}, d {c.embedding_dim}, |V| {c.vocab_size}, "
               f"T {c.steps}, seed {c.seed}; loss J(t) at t = {report.t}, "
               f"‖∂J(t)/∂W_h‖ = {report.full_norm:.4e}")
    click.echo(f"{'i':>4} {'t-i':>4} {'‖∂J(t)/∂W_h|(i)‖':>18} {'share':>10} "
               f"{'error if k = t-i+1':>19}")
    for row in report.rows:
        click.echo(f"{row.i:>4} {row.distance:>4} {row.norm:>18.4e} {row.ratio:>10.3e} "
                   f"{row.truncation_error:>19.3e}")
    click.echo("share = ‖term‖ / ‖∂J(t)/∂W_h‖; the i = 1 term is 0 because h(0) = 0")
    click.echo(f"gradient check (vs central differences, largest relative error): "
               f"{report.gradient_check_max:.2e}")
    click.echo(f"sum check ((1/T) Σ_t Σ_i terms vs backward): {report.sum_check:.2e}")
    click.echo(f"truncation check (backward(k) vs last-k sums, all k): {report.truncation_check:.2e}")
    if plot_path is not None:
        click.echo(f"plot written to {plot_path}")
