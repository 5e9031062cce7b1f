"""init: equal initial weights make every hidden unit learn the same thing; Xavier avoids it.

An Elman RNN is trained for the same time from five initialisations of every weight matrix
(biases 0): all entries equal (0.05), zeros, Xavier (the library's default), uniform(±0.1) and
N(0, 1). After training we count the distinct hidden units: unit j is the row j of
[W_ih | W_hh | b_ih + b_hh], two units are the same when the cosine of their rows is above
0.999 (zero rows count as one unit), and the numerical rank of W_hh (singular values above
1e-4 of the largest).

Decision rule, fixed before any run:
    Holds if (a) after training from all-equal weights the hidden layer has 1 distinct unit
    and W_hh rank 1 (the units stayed copies of each other), and (b) from Xavier every unit is
    distinct and the validation perplexity is at least 10% lower than from all-equal weights.
    Partly if one holds. Zeros, uniform(±0.1) and N(0, 1) are reported, not judged.
"""
from __future__ import annotations

import numpy as np
import torch

from nextword.experiments.base import Table, Verdict, decide, figure, relative_change, rule_of
from nextword.experiments.neural_common import (per_run_seconds, prepare, recurrent_config,
                                                scale_of, train_config, train_run)
from nextword.neural.layers import init_weights

NAME = "init"
CLAIM = "Equal initial weights make every hidden unit learn the same thing; Xavier avoids it."
EXPECTED = "6 min"
DEFAULT_BUDGET = 300.0
CONSTANT = 0.05
SCHEMES = ("all-equal", "zeros", "xavier", "uniform", "normal")
RULE = rule_of(__doc__)


def initialise(scheme: str):
    """A function that re-initialises every weight matrix of a network by `scheme`."""

    def apply(net):
        if scheme in ("xavier", "uniform"):
            init_weights(net, scheme)
            return
        with torch.no_grad():
            for param in net.parameters():
                if param.dim() < 2:
                    param.zero_()
                elif scheme == "all-equal":
                    param.fill_(CONSTANT)
                elif scheme == "zeros":
                    param.zero_()
                else:                                           # normal: N(0, 1)
                    param.normal_(0.0, 1.0)

    return apply


def distinct_units(net, threshold: float = 0.999) -> dict:
    """Distinct hidden units (greedy groups by cosine similarity), rank of W_hh, mean |cosine|."""
    rnn = net.rnn
    rows = torch.cat([rnn.weight_ih_l0, rnn.weight_hh_l0, (rnn.bias_ih_l0 + rnn.bias_hh_l0)[:, None]],
                     dim=1).detach().double().numpy()                     # (H, m + H + 1)
    norms = np.linalg.norm(rows, axis=1)
    unit = rows / np.where(norms > 0, norms, 1)[:, None]
    cosine = unit @ unit.T                                              # (H, H)
    cosine[np.ix_(norms == 0, norms == 0)] = 1.0                        # zero rows: one unit
    group = -np.ones(len(rows), dtype=int)
    groups = 0
    for j in range(len(rows)):                                          # H is small: a short loop
        if group[j] < 0:
            group[(group < 0) & (cosine[j] >= threshold)] = groups
            group[j] = groups
            groups += 1
    singular = np.linalg.svd(rnn.weight_hh_l0.detach().double().numpy(), compute_uv=False)
    rank = int((singular > 1e-4 * singular[0]).sum()) if singular[0] > 0 else 0
    off = ~np.eye(len(rows), dtype=bool)
    return {"distinct_units": groups, "hidden_units": len(rows), "rank_w_hh": rank,
            "mean_abs_cosine": float(np.abs(cosine[off]).mean()) if off.any() else 1.0}


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0])
    seconds = per_run_seconds(settings, DEFAULT_BUDGET, len(SCHEMES))
    model = recurrent_config("rnn", data, scale, tie=False)
    config = train_config(scale, settings.seed)
    rows = []
    for scheme in SCHEMES:
        run = train_run(model, config, data, scale, seconds, prepare_net=initialise(scheme))
        rows.append({"init": scheme, **distinct_units(run.net), **run.summary()})
    return {"corpus": data.corpus, "constant": CONSTANT, "seconds_per_run": seconds, "rows": rows}


def verdict(numbers: dict) -> Verdict:
    at = {r["init"]: r for r in numbers["rows"]}
    equal, xavier = at["all-equal"], at["xavier"]
    gain = relative_change(equal["valid_perplexity"], xavier["valid_perplexity"])
    return decide([
        (equal["distinct_units"] == 1 and equal["rank_w_hh"] <= 1,
         f"all-equal: {equal['distinct_units']} distinct unit(s) of {equal['hidden_units']}, "
         f"rank of W_hh {equal['rank_w_hh']}"),
        (xavier["distinct_units"] == xavier["hidden_units"] and gain >= 0.10,
         f"Xavier: {xavier['distinct_units']} distinct units of {xavier['hidden_units']}, validation "
         f"perplexity {xavier['valid_perplexity']:.1f} against {equal['valid_perplexity']:.1f} "
         f"({100 * gain:.1f}% lower)"),
    ])


def tables(numbers: dict) -> list:
    table = Table(f"Elman RNN after {numbers['seconds_per_run']:.0f} s of training from each "
                  f"initialisation ({numbers['corpus']})",
                  ["init", "valid ppl", "distinct units", "rank W_hh", "mean |cos| between units",
                   "diverged"])
    for r in numbers["rows"]:
        table.rows.append([r["init"], r["valid_perplexity"], f"{r['distinct_units']} / {r['hidden_units']}",
                           r["rank_w_hh"], r["mean_abs_cosine"], "yes" if r["diverged"] else "no"])
    return [table]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Initialisation of an Elman RNN ({numbers['corpus']})", "training time (CPU seconds)",
                     "validation perplexity (log scale)")
    for r in numbers["rows"]:
        points = [p for p in r["curve"] if np.isfinite(p["valid_ppl"])]
        ax.plot([p["train_s"] for p in points], [p["valid_ppl"] for p in points], "o-",
                label=f"{r['init']} ({r['distinct_units']} distinct units)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return [("curves.png", fig)]
