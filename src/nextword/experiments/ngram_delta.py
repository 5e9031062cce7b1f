"""ngram-delta: a small δ (0.25) avoids zero probabilities.

Add-δ gives every word δ pseudo-counts after every seen context, so no probability is zero for
any δ > 0; how much mass δ takes from the seen words is what changes. For δ from 1 (Laplace)
down to 1e-4 and n = 1..5 we record valid and test perplexity and the share of test tokens
with probability 0, and where the best δ lies for each order.

Decision rule, fixed before any run:
    Holds if (a) no test token gets probability 0 for any δ > 0 at any order n = 1..5 and
    (b) δ = 0.25 gives a lower validation perplexity than Laplace (δ = 1) at every n >= 2. Partly if
    only one of them holds. The best δ per order (lowest validation perplexity) is reported, not
    judged: the lecture names 0.25 as an example of a small δ, not as the optimum.
"""
from __future__ import annotations

import numpy as np

from nextword.evaluate import evaluate
from nextword.experiments.base import Table, Verdict, decide, figure, load_splits, rule_of
from nextword.experiments.ngram_common import count, fit
from nextword.ngram.estimators import AddDelta
from nextword.text.vocabulary import Vocabulary

NAME = "ngram-delta"
CLAIM = "A small δ (0.25) avoids zero probabilities."
EXPECTED = "10 s"
DEFAULT_BUDGET = None
DELTAS = (1.0, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01, 3e-3, 1e-3, 3e-4, 1e-4)
ORDERS = (1, 2, 3, 4, 5)
RULE = rule_of(__doc__)


def run(settings) -> dict:
    corpus = settings.corpus_names()[0]
    splits = load_splits(corpus)
    vocab = Vocabulary.build(splits.train)
    counts = count(splits.train, vocab, max(ORDERS))
    test_ids = [vocab.encode(s) for s in splits.test]
    rows = []
    for n in ORDERS:
        for delta in DELTAS:
            model = fit(counts, vocab, n, AddDelta(delta))
            logprobs = np.concatenate(list(model.sentence_logprobs(test_ids)))
            rows.append({"n": n, "delta": delta,
                         "valid_perplexity": evaluate(model, splits.valid).perplexity,
                         "test_perplexity": float(np.exp(-logprobs.mean())),
                         "test_zero_prob_share": float(np.isneginf(logprobs).mean())})
    return {"corpus": corpus, "rows": rows, "best": _best(rows)}


def _best(rows: list) -> dict:
    best = {}
    for r in rows:
        if r["n"] not in best or r["valid_perplexity"] < best[r["n"]]["valid_perplexity"]:
            best[r["n"]] = r
    return {str(n): {"delta": r["delta"], "valid_perplexity": r["valid_perplexity"],
                     "test_perplexity": r["test_perplexity"]} for n, r in best.items()}


def verdict(numbers: dict) -> Verdict:
    rows = numbers["rows"]
    zeros = max(r["test_zero_prob_share"] for r in rows)
    at = {(r["n"], r["delta"]): r["valid_perplexity"] for r in rows}
    orders = sorted({r["n"] for r in rows if r["n"] >= 2})
    better = [n for n in orders if at[(n, 0.25)] < at[(n, 1.0)]]
    best = ", ".join(f"n={n}: δ={b['delta']:g} ({b['valid_perplexity']:.0f})"
                     for n, b in numbers["best"].items())
    return decide([
        (zeros == 0, f"largest share of test tokens with P = 0 over all δ and n: {100 * zeros:.3f}%"),
        (len(better) == len(orders),
         "δ = 0.25 against δ = 1, validation: " + ", ".join(
             f"n={n}: {at[(n, 0.25)]:.0f} vs {at[(n, 1.0)]:.0f}" for n in orders)
         + f"; best δ by validation: {best}"),
    ])


def tables(numbers: dict) -> list:
    orders = sorted({r["n"] for r in numbers["rows"]})
    at = {(r["n"], r["delta"]): r for r in numbers["rows"]}
    deltas = sorted({r["delta"] for r in numbers["rows"]}, reverse=True)
    valid = Table(f"Validation perplexity of add-δ ({numbers['corpus']}), by δ and order",
                  ["δ", *(f"n={n}" for n in orders)])
    test = Table("Test perplexity, by δ and order", ["δ", *(f"n={n}" for n in orders)])
    for d in deltas:
        valid.rows.append([f"{d:g}", *(at[(n, d)]["valid_perplexity"] for n in orders)])
        test.rows.append([f"{d:g}", *(at[(n, d)]["test_perplexity"] for n in orders)])
    best = Table("Best δ per order (lowest validation perplexity)",
                 ["n", "best δ", "valid ppl", "test ppl", "test ppl at δ = 0.25", "at δ = 1"])
    for n, b in numbers["best"].items():
        best.rows.append([int(n), f"{b['delta']:g}", b["valid_perplexity"], b["test_perplexity"],
                          at[(int(n), 0.25)]["test_perplexity"], at[(int(n), 1.0)]["test_perplexity"]])
    return [valid, test, best]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Add-δ smoothing: validation perplexity against δ ({numbers['corpus']})",
                     "δ (pseudo-count, log scale)", "validation perplexity (log scale)")
    for n in sorted({r["n"] for r in numbers["rows"]}):
        series = sorted((r for r in numbers["rows"] if r["n"] == n), key=lambda r: r["delta"])
        ax.plot([r["delta"] for r in series], [r["valid_perplexity"] for r in series], "o-", label=f"n = {n}")
    ax.axvline(0.25, color="grey", linestyle=":", label="δ = 0.25")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend()
    return [("delta.png", fig)]
