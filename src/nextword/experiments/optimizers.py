"""optimizers: Adagrad stalls early; Adam is a safe start; NAdamW can be better.

SGD, Adagrad, RMSprop, Adam, AdamW and NAdamW train the same LSTM for the same time. Each first
runs a short search over three learning rates (seed 0, a third of the budget shared by all
searches); its best rate by validation perplexity then trains with 2 seeds for the rest. AdamW
and NAdamW use decoupled weight decay 0.01, the others none; clipping at 1 for all.

Decision rule, fixed before any run:
    On the mean over seeds of the final runs: (a) Adagrad stalls: its validation perplexity
    improves by less than 5% over the second half of its run (from the midpoint to the end) while
    Adam's improves by more than 10%; (b) Adam is a safe start: its final perplexity is within 10% of
    the best optimizer's; (c) NAdamW is at least as good as Adam at the end. Holds if all three,
    partly if one or two, does not hold if none.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from nextword.experiments.base import Table, Verdict, decide, figure, relative_change, rule_of
from nextword.experiments.neural_common import (prepare, recurrent_config, scale_of,
                                                train_config, train_run)

NAME = "optimizers"
CLAIM = "Adagrad stalls early; Adam is a safe start; NAdamW can be better for speed."
EXPECTED = "16 min"
DEFAULT_BUDGET = 900.0
GRID = {"sgd": (1.0, 5.0, 20.0), "adagrad": (0.01, 0.05, 0.2), "rmsprop": (3e-4, 1e-3, 3e-3),
        "adam": (3e-4, 1e-3, 3e-3), "adamw": (3e-4, 1e-3, 3e-3), "nadamw": (3e-4, 1e-3, 3e-3)}
WEIGHT_DECAY = {"adamw": 0.01, "nadamw": 0.01}
SEEDS = (0, 1)
SEARCH_SHARE = 1 / 3
EVALS = 6                                 # curve points per final run: the midpoint is one
RULE = rule_of(__doc__)


def run(settings) -> dict:
    scale = scale_of(settings)
    scale = replace(scale, evals=EVALS if not settings.smoke else 2)
    data = prepare(settings.corpus_names()[0])
    model = recurrent_config("lstm", data, scale)
    budget = settings.seconds(DEFAULT_BUDGET)
    grid = {name: lrs[:1] if settings.smoke else lrs for name, lrs in GRID.items()}
    search_seconds = budget * SEARCH_SHARE / sum(len(v) for v in grid.values())
    seeds = SEEDS[:1] if settings.smoke else SEEDS
    final_seconds = budget * (1 - SEARCH_SHARE) / (len(grid) * len(seeds))
    search, final = [], []
    for name, lrs in grid.items():
        for lr in lrs:
            config = train_config(scale, settings.seed, optimizer=name, lr=lr,
                                  weight_decay=WEIGHT_DECAY.get(name, 0.0))
            run = train_run(model, config, data, replace(scale, evals=1) if not settings.smoke else scale,
                            search_seconds)
            search.append({"optimizer": name, "lr": lr, "valid_perplexity": run.valid_perplexity,
                           "diverged": run.diverged})
        best = min((r for r in search if r["optimizer"] == name),
                   key=lambda r: r["valid_perplexity"])["lr"]
        for seed in seeds:
            config = train_config(scale, settings.seed + seed, optimizer=name, lr=best,
                                  weight_decay=WEIGHT_DECAY.get(name, 0.0))
            run = train_run(model, config, data, scale, final_seconds)
            final.append({"optimizer": name, "lr": best, "seed": settings.seed + seed, **run.summary()})
    return {"corpus": data.corpus, "grid": {k: list(v) for k, v in grid.items()},
            "weight_decay": WEIGHT_DECAY, "search_seconds_per_run": search_seconds,
            "final_seconds_per_run": final_seconds, "search": search, "final": final}


def mean_curve(numbers: dict, name: str) -> list:
    """Validation perplexity at each curve point, averaged over the seeds (inf if one diverged)."""
    runs = [r for r in numbers["final"] if r["optimizer"] == name]
    length = min(len(r["curve"]) for r in runs)
    return [float(np.mean([r["curve"][i]["valid_ppl"] for r in runs])) for i in range(length)]


def verdict(numbers: dict) -> Verdict:
    names = list(numbers["grid"])
    final = {n: mean_curve(numbers, n)[-1] for n in names}

    def second_half(name):
        curve = mean_curve(numbers, name)
        middle = curve[(len(curve) - 1) // 2]
        return relative_change(middle, curve[-1])

    best = min(final, key=final.get)
    ada, adam = second_half("adagrad"), second_half("adam")
    return decide([
        (ada < 0.05 and adam > 0.10, f"second-half improvement: Adagrad {100 * ada:.1f}%, Adam {100 * adam:.1f}%"),
        (final["adam"] <= 1.10 * final[best], f"final: Adam {final['adam']:.1f}, best {best} {final[best]:.1f}"),
        (final["nadamw"] <= final["adam"], f"final: NAdamW {final['nadamw']:.1f}, Adam {final['adam']:.1f}"),
    ])


def tables(numbers: dict) -> list:
    search = Table(f"Learning-rate search ({numbers['search_seconds_per_run']:.0f} s each, seed 0): validation ppl",
                   ["optimizer", *(f"lr {i + 1}" for i in range(max(map(len, numbers["grid"].values()))))])
    for name, lrs in numbers["grid"].items():
        cells = [f"{r['lr']:g}: " + ("diverged" if r["diverged"] else f"{r['valid_perplexity']:.1f}")
                 for r in numbers["search"] if r["optimizer"] == name]
        search.rows.append([name, *cells])
    final = Table(f"Final runs at the best rate ({numbers['final_seconds_per_run']:.0f} s each)",
                  ["optimizer", "lr", "weight decay", "valid ppl (seeds)", "mean", "at midpoint (mean)",
                   "second-half gain %", "tokens/s"])
    for name in numbers["grid"]:
        runs = [r for r in numbers["final"] if r["optimizer"] == name]
        curve = mean_curve(numbers, name)
        middle = curve[(len(curve) - 1) // 2]
        final.rows.append([name, runs[0]["lr"], numbers["weight_decay"].get(name, 0.0),
                           " / ".join(f"{r['valid_perplexity']:.1f}" for r in runs), curve[-1], middle,
                           100 * relative_change(middle, curve[-1]),
                           float(np.mean([r["tokens_per_second"] for r in runs]))])
    return [search, final]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Optimizers on the same LSTM and time ({numbers['corpus']})",
                     "training time (CPU seconds)", "validation perplexity (log scale)")
    for i, name in enumerate(numbers["grid"]):
        for j, r in enumerate(x for x in numbers["final"] if x["optimizer"] == name):
            points = [p for p in r["curve"] if math.isfinite(p["valid_ppl"])]
            ax.plot([p["train_s"] for p in points], [p["valid_ppl"] for p in points],
                    "o-" if j == 0 else "s--", color=f"C{i}", alpha=0.9 if j == 0 else 0.5,
                    label=f"{name} (lr {r['lr']:g})" if j == 0 else None)
    ax.set_yscale("log")
    ax.legend(fontsize=8, title="solid: seed 0, dashed: seed 1", title_fontsize=8)
    return [("curves.png", fig)]
