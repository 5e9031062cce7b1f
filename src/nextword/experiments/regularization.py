"""regularization: overfitting the training set is fine with good regularisation.

The dropout experiment's large LSTM on 10% of the training lines, trained twice for the same
time with AdamW: without regularisation, and with dropout 0.5 and weight decay 0.1. Curves of
training perplexity (dropout off) and validation perplexity over time.

Decision rule, fixed before any run:
    With R the regularised run and N the one without: holds if all of (a) R fits its training
    text much better than its validation text (validation / training perplexity >= 1.2 at the end);
    (b) R's validation perplexity at the end is within 2% of its own minimum (its overfitting does
    no harm); (c) R's final validation perplexity is lower than N's best. Partly if some hold, does
    not hold if none does.
"""
from __future__ import annotations

from nextword.experiments.base import Table, Verdict, decide, figure, rule_of
from nextword.experiments.dropout import SIZE, TRAIN_FRACTION
from nextword.experiments.neural_common import (per_run_seconds, prepare, recurrent_config,
                                                scale_of, train_config, train_run)

NAME = "regularization"
CLAIM = "Overfitting the training set is fine, given good regularisation."
EXPECTED = "7 min"
DEFAULT_BUDGET = 360.0
ARMS = {"none": dict(dropout=0.0, weight_decay=0.0),
        "dropout 0.5 + weight decay 0.1": dict(dropout=0.5, weight_decay=0.1)}
RULE = rule_of(__doc__)


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0], TRAIN_FRACTION)
    seconds = per_run_seconds(settings, DEFAULT_BUDGET, len(ARMS))
    size = SIZE[settings.smoke]
    rows = []
    for name, arm in ARMS.items():
        model = recurrent_config("lstm", data, scale, embedding_dim=size, hidden_dim=size,
                                 dropout=arm["dropout"])
        config = train_config(scale, settings.seed, optimizer="adamw", weight_decay=arm["weight_decay"])
        run = train_run(model, config, data, scale, seconds, fit_curve=True)
        rows.append({"arm": name, **arm, **run.summary()})
    return {"corpus": data.corpus, "train_fraction": TRAIN_FRACTION, "train_tokens": len(data.train),
            "size": size, "seconds_per_run": seconds, "rows": rows}


def verdict(numbers: dict) -> Verdict:
    none, reg = numbers["rows"]
    last = reg["curve"][-1]
    gap = last["valid_ppl"] / last["train_ppl"]
    lowest = min(p["valid_ppl"] for p in reg["curve"])
    none_best = min(p["valid_ppl"] for p in none["curve"])
    return decide([
        (gap >= 1.2, f"regularised: training perplexity {last['train_ppl']:.1f}, validation "
                     f"{last['valid_ppl']:.1f} (ratio {gap:.2f})"),
        (last["valid_ppl"] <= 1.02 * lowest, f"regularised: final validation {last['valid_ppl']:.1f}, "
                                             f"its minimum {lowest:.1f}"),
        (last["valid_ppl"] < none_best, f"regularised final {last['valid_ppl']:.1f} against the "
                                        f"unregularised best {none_best:.1f} (final {none['valid_perplexity']:.1f})"),
    ])


def tables(numbers: dict) -> list:
    table = Table(f"LSTM {numbers['size']}×{numbers['size']}, AdamW, {numbers['train_tokens']:,} training "
                  f"tokens, {numbers['seconds_per_run']:.0f} s each",
                  ["regularisation", "train ppl (end)", "valid ppl (end)", "valid ppl (best)", "valid / train"])
    for r in numbers["rows"]:
        last = r["curve"][-1]
        table.rows.append([r["arm"], last["train_ppl"], last["valid_ppl"],
                           min(p["valid_ppl"] for p in r["curve"]), last["valid_ppl"] / last["train_ppl"]])
    return [table]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Regularisation: training and validation perplexity ({numbers['corpus']})",
                     "training time (CPU seconds)", "perplexity (log scale)")
    for i, r in enumerate(numbers["rows"]):
        ax.plot([p["train_s"] for p in r["curve"]], [p["valid_ppl"] for p in r["curve"]], "o-",
                color=f"C{i}", label=f"{r['arm']}: validation")
        ax.plot([p["train_s"] for p in r["curve"]], [p["train_ppl"] for p in r["curve"]], "--",
                color=f"C{i}", label=f"{r['arm']}: training")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return [("curves.png", fig)]
